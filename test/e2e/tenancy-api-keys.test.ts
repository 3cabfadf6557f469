/**
 * API key management through the API: create (token shown once), list (never a hash), scopes
 * enforced, revoke now, rotate with an overlap window, lastUsedAt. Each run onboards its own
 * tenant, so nothing here touches the seeded demo tenants.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../../functions/src/config';
import { createServices, type Services } from '../../functions/src/services';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { callApi, eventually, idTokenFor, withoutRequestId } from '../support/api';

interface KeyView {
  keyId: string;
  name: string;
  scopes: string[];
  createdAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  token?: string;
}

let services: Services;
let tenantId: string;
let adminKey: string;
let adminKeyId: string;

beforeAll(async () => {
  services = createServices(parseConfig());
  tenantId = `keys-${randomBytes(4).toString('hex')}`;
  const onboarded = await onboardTenant(services, { tenantId, name: 'API key lifecycle' });
  adminKey = onboarded.apiKey.token;
  adminKeyId = onboarded.apiKey.keyId;
}, 60_000);

afterAll(async () => {
  await services.close();
});

async function createKey(body: unknown, key = adminKey): Promise<KeyView> {
  const reply = await callApi('/v1/api-keys', { method: 'POST', key, body });
  expect(reply.status).toBe(201);
  return reply.body as KeyView;
}

async function list(key = adminKey): Promise<KeyView[]> {
  const reply = await callApi('/v1/api-keys', { key });
  expect(reply.status).toBe(200);
  return (reply.body as { apiKeys: KeyView[] }).apiKeys;
}

const readExtraction = (key: string) =>
  callApi('/v1/extractions/ex_000000000000000000000000', { key });

describe('denials first', () => {
  it.each<[string, unknown, number, string]>([
    ['no name', { scopes: ['extractions:read'] }, 400, 'invalid_request'],
    ['an empty name', { name: '  ', scopes: ['extractions:read'] }, 400, 'invalid_request'],
    ['no scopes', { name: 'x', scopes: [] }, 400, 'invalid_request'],
    ['an unknown scope', { name: 'x', scopes: ['root'] }, 400, 'invalid_request'],
    [
      'unknown fields',
      { name: 'x', scopes: ['extractions:read'], hash: 'a' },
      400,
      'invalid_request',
    ],
    [
      'a past expiry',
      { name: 'x', scopes: ['extractions:read'], expiresAt: '2020-01-01T00:00:00Z' },
      400,
      'invalid_expiry',
    ],
    [
      'an expiry beyond a year',
      {
        name: 'x',
        scopes: ['extractions:read'],
        expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString(),
      },
      400,
      'invalid_expiry',
    ],
    [
      'an expiry that is not a date',
      { name: 'x', scopes: ['extractions:read'], expiresAt: 'soon' },
      400,
      'invalid_request',
    ],
    ['a body that is a list', [{ name: 'x' }], 400, 'invalid_request'],
  ])('refuses a create with %s and writes nothing', async (_, body, status, code) => {
    const before = (await list()).length;
    const reply = await callApi('/v1/api-keys', { method: 'POST', key: adminKey, body });
    expect(reply.status).toBe(status);
    expect(reply.body).toMatchObject({ error: { code } });
    expect(await list()).toHaveLength(before);
  });

  it('refuses a non-JSON create with 415', async () => {
    const reply = await callApi('/v1/api-keys', {
      method: 'POST',
      key: adminKey,
      rawBody: 'name=x',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(reply.status).toBe(415);
  });

  it('enforces keys:admin on every management route, for keys and for people', async () => {
    const worker = await createKey({
      name: 'worker',
      scopes: ['extractions:read', 'extractions:write'],
    });
    const member = await idTokenFor(`member-${tenantId}`, { tenant_id: tenantId, role: 'member' });
    for (const key of [worker.token ?? '', member]) {
      for (const [method, path] of [
        ['GET', '/v1/api-keys'],
        ['POST', '/v1/api-keys'],
        ['DELETE', `/v1/api-keys/${worker.keyId}`],
        ['POST', `/v1/api-keys/${worker.keyId}/rotate`],
      ] as const) {
        const reply = await callApi(path, {
          method,
          key,
          body: method === 'POST' ? { name: 'x', scopes: ['extractions:read'] } : undefined,
        });
        expect([method, path, reply.status]).toEqual([method, path, 403]);
        expect(reply.body).toMatchObject({ error: { code: 'insufficient_scope' } });
      }
    }
    // The worker key was neither revoked nor rotated by the refused calls.
    expect((await readExtraction(worker.token ?? '')).status).toBe(404);
  });

  it('a key cannot hand out scopes its issuer lacks', async () => {
    const keysOnly = await createKey({ name: 'key manager', scopes: ['keys:admin'] });
    const reply = await callApi('/v1/api-keys', {
      method: 'POST',
      key: keysOnly.token ?? '',
      body: { name: 'escalated', scopes: ['extractions:write'] },
    });
    expect(reply.status).toBe(403);
    expect(reply.body).toMatchObject({ error: { code: 'scope_escalation' } });
  });

  it('answers unknown and malformed key ids with the same 404', async () => {
    const unknown = await callApi('/v1/api-keys/0000000000000000', {
      method: 'DELETE',
      key: adminKey,
    });
    const malformed = await callApi('/v1/api-keys/..%2F..%2Ftenants', {
      method: 'DELETE',
      key: adminKey,
    });
    const rotate = await callApi('/v1/api-keys/0000000000000000/rotate', {
      method: 'POST',
      key: adminKey,
    });
    expect(unknown.status).toBe(404);
    expect(withoutRequestId(malformed.body)).toEqual(withoutRequestId(unknown.body));
    expect(withoutRequestId(rotate.body)).toEqual(withoutRequestId(unknown.body));
  });

  it.each([[-1], [604_801], [1.5], ['60']])(
    'refuses a rotation with overlapSeconds %p',
    async (overlapSeconds) => {
      const key = await createKey({ name: 'r', scopes: ['extractions:read'] });
      const reply = await callApi(`/v1/api-keys/${key.keyId}/rotate`, {
        method: 'POST',
        key: adminKey,
        body: { overlapSeconds },
      });
      expect(reply.status).toBe(400);
      expect((await readExtraction(key.token ?? '')).status).toBe(404);
    },
  );
});

describe('lifecycle', () => {
  it('creates a key shown once, lists it without any secret, and the key works', async () => {
    const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const created = await createKey({
      name: 'ingest',
      scopes: ['extractions:write', 'extractions:read', 'extractions:read'],
      expiresAt,
    });
    expect(created.token).toMatch(new RegExp(`^pvn_${created.keyId}_[A-Za-z0-9_-]{43}$`));
    expect(created).toMatchObject({
      name: 'ingest',
      scopes: ['extractions:write', 'extractions:read'],
      expiresAt,
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(Date.parse(created.createdAt ?? '')).toBeGreaterThan(Date.now() - 60_000);

    const reply = await callApi('/v1/api-keys', { key: adminKey });
    const text = JSON.stringify(reply.body);
    const secret = (created.token ?? '').slice(21);
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/"hash"|[0-9a-f]{64}/);
    const listed = (reply.body as { apiKeys: KeyView[] }).apiKeys;
    expect(listed.find((k) => k.keyId === created.keyId)).toEqual({ ...created, token: undefined });
    expect(listed.map((k) => k.keyId)).toContain(adminKeyId);
    for (const k of listed) {
      expect(Object.keys(k).sort()).toEqual(
        ['createdAt', 'expiresAt', 'keyId', 'lastUsedAt', 'name', 'revokedAt', 'scopes'].sort(),
      );
    }

    expect((await readExtraction(created.token ?? '')).status).toBe(404);
  });

  it('enforces the scopes the key was given', async () => {
    const reader = await createKey({ name: 'reader', scopes: ['extractions:read'] });
    expect((await readExtraction(reader.token ?? '')).status).toBe(404);
    const write = await callApi('/v1/extractions', {
      method: 'POST',
      key: reader.token ?? '',
      body: { document: { contentType: 'text/plain', text: 'Total: 1.00' }, schema: 'invoice' },
    });
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ error: { code: 'insufficient_scope' } });
    expect((await callApi('/v1/api-keys', { key: reader.token ?? '' })).status).toBe(403);
  });

  it('sets lastUsedAt when a key is used', async () => {
    const key = await createKey({ name: 'used', scopes: ['extractions:read'] });
    expect((await list()).find((k) => k.keyId === key.keyId)?.lastUsedAt).toBeNull();
    const before = Date.now();
    await readExtraction(key.token ?? '');
    const lastUsedAt = await eventually(async () => {
      const found = (await list()).find((k) => k.keyId === key.keyId);
      return found?.lastUsedAt ?? undefined;
    }, 5000);
    expect(Date.parse(lastUsedAt)).toBeGreaterThanOrEqual(before - 2000);
  });

  it('revokes a key at once: 204, then 401 for it, listed with revokedAt', async () => {
    const key = await createKey({ name: 'to revoke', scopes: ['extractions:read'] });
    expect((await readExtraction(key.token ?? '')).status).toBe(404);
    const revoked = await callApi(`/v1/api-keys/${key.keyId}`, { method: 'DELETE', key: adminKey });
    expect(revoked.status).toBe(204);
    const after = await readExtraction(key.token ?? '');
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ error: { code: 'invalid_api_key' } });
    const listed = (await list()).find((k) => k.keyId === key.keyId);
    expect(Date.parse(listed?.revokedAt ?? '')).toBeLessThanOrEqual(Date.now());
    // Revoking again keeps the first revocation time; a revoked key cannot be rotated.
    expect(
      (await callApi(`/v1/api-keys/${key.keyId}`, { method: 'DELETE', key: adminKey })).status,
    ).toBe(204);
    expect((await list()).find((k) => k.keyId === key.keyId)?.revokedAt).toBe(listed?.revokedAt);
    const rotate = await callApi(`/v1/api-keys/${key.keyId}/rotate`, {
      method: 'POST',
      key: adminKey,
    });
    expect(rotate.status).toBe(409);
    expect(rotate.body).toMatchObject({ error: { code: 'key_revoked' } });
  });

  it('an admin person (ID token) manages keys like an admin key', async () => {
    const admin = await idTokenFor(`admin-${tenantId}`, { tenant_id: tenantId, role: 'admin' });
    const created = await createKey(
      { name: 'made by a person', scopes: ['extractions:read'] },
      admin,
    );
    expect((await list(admin)).map((k) => k.keyId)).toContain(created.keyId);
    expect(
      (await callApi(`/v1/api-keys/${created.keyId}`, { method: 'DELETE', key: admin })).status,
    ).toBe(204);
  });

  it('rotates with an overlap: both keys work, then only the new one', async () => {
    const old = await createKey({
      name: 'rotating',
      scopes: ['extractions:read', 'extractions:write'],
    });
    const reply = await callApi(`/v1/api-keys/${old.keyId}/rotate`, {
      method: 'POST',
      key: adminKey,
      // Long enough for the reads below on a loaded machine; the test waits it out.
      body: { overlapSeconds: 5 },
    });
    expect(reply.status).toBe(201);
    const next = reply.body as KeyView & { rotatedFrom: string };
    expect(next.keyId).not.toBe(old.keyId);
    expect(next).toMatchObject({
      name: 'rotating',
      scopes: old.scopes,
      revokedAt: null,
      expiresAt: null,
      rotatedFrom: old.keyId,
    });
    expect((await readExtraction(old.token ?? '')).status).toBe(404);
    expect((await readExtraction(next.token ?? '')).status).toBe(404);
    // Issue 18: during the overlap the old key is not shown revoked (it works): the overlap
    // is its expiry, and it names its one successor.
    const listedOld = (await list()).find((k) => k.keyId === old.keyId) as KeyView & {
      rotatedTo?: string;
    };
    expect(listedOld).toMatchObject({ revokedAt: null, rotatedTo: next.keyId });
    const endsAt = Date.parse(listedOld.expiresAt ?? '');
    expect(endsAt).toBeGreaterThan(Date.now() - 1000);
    expect(endsAt).toBeLessThanOrEqual(Date.now() + 5000);

    await sleep(Math.max(0, endsAt - Date.now()) + 1000);
    expect((await readExtraction(old.token ?? '')).status).toBe(401);
    expect((await readExtraction(next.token ?? '')).status).toBe(404);

    // A second rotation of the (now expired) old key is refused; the new one rotates fine,
    // with the default overlap of a day.
    expect(
      (await callApi(`/v1/api-keys/${old.keyId}/rotate`, { method: 'POST', key: adminKey })).status,
    ).toBe(409);
    const third = await callApi(`/v1/api-keys/${next.keyId}/rotate`, {
      method: 'POST',
      key: adminKey,
    });
    expect(third.status).toBe(201);
    const listedNext = (await list()).find((k) => k.keyId === next.keyId);
    expect(listedNext?.revokedAt).toBeNull();
    const dayAhead = Date.parse(listedNext?.expiresAt ?? '') - Date.now();
    expect(dayAhead).toBeGreaterThan(86_400_000 - 60_000);
    expect(dayAhead).toBeLessThanOrEqual(86_400_000);
  }, 20_000);

  it('issue 18: a key has one live successor; rotating it again names the successor', async () => {
    const old = await createKey({ name: 'thrice', scopes: ['extractions:read'] });
    const first = await callApi(`/v1/api-keys/${old.keyId}/rotate`, {
      method: 'POST',
      key: adminKey,
    });
    expect(first.status).toBe(201);
    const successor = (first.body as KeyView).keyId;
    for (let i = 0; i < 2; i++) {
      const again = await callApi(`/v1/api-keys/${old.keyId}/rotate`, {
        method: 'POST',
        key: adminKey,
      });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ error: { code: 'already_rotated' } });
      expect(JSON.stringify(again.body)).toContain(successor);
    }
    const live = (await list()).filter((k) => k.name === 'thrice' && k.revokedAt === null);
    expect(live.map((k) => k.keyId).sort()).toEqual([old.keyId, successor].sort());
  });

  it('a rotated key keeps its lifetime policy', async () => {
    const old = await createKey({
      name: 'short-lived',
      scopes: ['extractions:read'],
      expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    });
    const reply = await callApi(`/v1/api-keys/${old.keyId}/rotate`, {
      method: 'POST',
      key: adminKey,
      body: { overlapSeconds: 0 },
    });
    expect(reply.status).toBe(201);
    const next = reply.body as KeyView;
    const lifetime = Date.parse(next.expiresAt ?? '') - Date.now();
    expect(lifetime).toBeGreaterThan(7 * 86_400_000 - 120_000);
    expect(lifetime).toBeLessThanOrEqual(7 * 86_400_000 + 1000);
    expect((await readExtraction(old.token ?? '')).status).toBe(401);
  });

  it('a key with a short expiry stops working when it expires', async () => {
    const key = await createKey({
      name: 'expiring',
      scopes: ['extractions:read'],
      // Long enough for the first read on a loaded machine; the test waits it out.
      expiresAt: new Date(Date.now() + 5000).toISOString(),
    });
    expect((await readExtraction(key.token ?? '')).status).toBe(404);
    await sleep(Math.max(0, Date.parse(key.expiresAt ?? '') - Date.now()) + 1000);
    const reply = await readExtraction(key.token ?? '');
    expect(reply.status).toBe(401);
    expect(reply.body).toMatchObject({ error: { code: 'invalid_api_key' } });
  });
});
