/**
 * Onboarding for people and dedicated tenants: the first admin person is a new account with the
 * tenant's claims (in the project's user pool or the tenant's own Identity Platform tenant),
 * never an existing one, and a dedicated tenant's records live in its own named Firestore
 * database, never in `(default)`.
 */
import { randomBytes } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { parseConfig } from '../../functions/src/config';
import { createServices, type Services } from '../../functions/src/services';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { authAdmin, callApi, idTokenFor, stack, waitForTerminal } from '../support/api';

const run = randomBytes(4).toString('hex');
let services: Services;
let operator: string;

async function callOps(path: string, token: string, body: unknown) {
  const response = await fetch(`${stack().opsUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

interface OnboardReply {
  tenant: { id: string; databaseId: string | null; identityTenantId: string | null };
  apiKey: { keyId: string; token: string };
  admin: { uid: string; email: string; signInLink: string } | null;
}

beforeAll(async () => {
  services = createServices(parseConfig());
  operator = await idTokenFor(`operator-${run}`, { platform_role: 'operator' });
}, 60_000);

afterAll(async () => {
  await services.close();
});

describe('denials first', () => {
  it('refuses onboarding by a person who is not an operator', async () => {
    const admin = await idTokenFor(`not-operator-${run}`, { tenant_id: 'acme', role: 'admin' });
    const reply = await callOps('/v1/tenants', admin, { tenantId: `x-${run}`, name: 'x' });
    expect(reply.status).toBe(403);
  });

  it.each([
    ['a database id with capitals', { databaseId: 'Dedicated' }],
    ['the default database by name', { databaseId: '(default)' }],
    ['an email that is not one', { adminEmail: 'not-an-email' }],
    ['an identity tenant id with a slash', { identityTenantId: 'a/b' }],
  ])('refuses %s with 400 and creates nothing', async (_, extra) => {
    const tenantId = `bad-${randomBytes(3).toString('hex')}`;
    const reply = await callOps('/v1/tenants', operator, { tenantId, name: 'x', ...extra });
    expect(reply.status).toBe(400);
    expect(await services.platform.getTenant(tenantId)).toBeUndefined();
  });

  it("refuses an admin email that already belongs to another tenant's person", async () => {
    const email = `taken-${run}@example.com`;
    const first = await callOps('/v1/tenants', operator, {
      tenantId: `first-${run}`,
      name: 'first',
      adminEmail: email,
    });
    expect(first.status).toBe(201);
    const second = await callOps('/v1/tenants', operator, {
      tenantId: `second-${run}`,
      name: 'second',
      adminEmail: email,
    });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: { code: 'admin_email_in_use' } });
    expect(await services.platform.getTenant(`second-${run}`)).toBeUndefined();
    const [user] = await authAdmin([{ op: 'getUserByEmail', email }]);
    expect(user).toMatchObject({ customClaims: { tenant_id: `first-${run}`, role: 'admin' } });
  });
});

describe('the first admin person', () => {
  it('is created with the tenant claims and can manage keys with an ID token', async () => {
    const tenantId = `people-${run}`;
    const email = `Admin-${run}@Example.com`;
    const reply = await callOps('/v1/tenants', operator, {
      tenantId,
      name: 'people',
      adminEmail: email,
    });
    expect(reply.status).toBe(201);
    const body = reply.body as unknown as OnboardReply;
    expect(body.admin).toMatchObject({
      email: email.toLowerCase(),
      signInLink: expect.stringContaining('mode=resetPassword') as string,
    });
    const [user] = await authAdmin([{ op: 'getUserByEmail', email: email.toLowerCase() }]);
    expect(user).toMatchObject({
      uid: body.admin?.uid,
      customClaims: { tenant_id: tenantId, role: 'admin' },
    });
    const [token] = await authAdmin([{ op: 'idToken', uid: body.admin?.uid ?? '' }]);
    const keys = await callApi('/v1/api-keys', { key: token as string });
    expect(keys.status).toBe(200);
    expect(JSON.stringify(keys.body)).toContain(body.apiKey.keyId);
  });

  it('is never an existing person, not even an operator: 409, their claims as they were', async () => {
    const email = `existing-${run}@example.com`;
    await authAdmin([
      { op: 'user', uid: `existing-${run}`, email, claims: { platform_role: 'operator' } },
    ]);
    const tenantId = `existing-${run}`;
    const reply = await callOps('/v1/tenants', operator, {
      tenantId,
      name: 'x',
      adminEmail: email,
    });
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({ error: { code: 'admin_email_in_use' } });
    expect(await services.platform.getTenant(tenantId)).toBeUndefined();
    const [user] = await authAdmin([{ op: 'getUserByEmail', email }]);
    expect(user).toMatchObject({
      uid: `existing-${run}`,
      customClaims: { platform_role: 'operator' },
    });
  });

  it('lives in the tenant’s own identity tenant when one is named', async () => {
    const [identityTenantId] = (await authAdmin([
      { op: 'createIdentityTenant', displayName: `onb${run.slice(0, 5)}` },
    ])) as string[];
    const tenantId = `idp-${run}`;
    const email = `idp-admin-${run}@example.com`;
    const reply = await callOps('/v1/tenants', operator, {
      tenantId,
      name: 'own identity tenant',
      adminEmail: email,
      identityTenantId,
    });
    expect(reply).toMatchObject({ status: 201 });
    const body = reply.body as unknown as OnboardReply;
    expect(body.tenant.identityTenantId).toBe(identityTenantId);
    const [user] = await authAdmin([
      { op: 'getUserByEmail', email, identityTenantId: identityTenantId ?? '' },
    ]);
    expect(user).toMatchObject({ customClaims: { tenant_id: tenantId, role: 'admin' } });
    const [token] = await authAdmin([
      { op: 'idToken', uid: body.admin?.uid ?? '', identityTenantId: identityTenantId ?? '' },
    ]);
    expect((await callApi('/v1/api-keys', { key: token as string })).status).toBe(200);
    // The same claims from the project-level pool are not this tenant's people.
    const outsider = await idTokenFor(`outsider-${run}`, { tenant_id: tenantId, role: 'admin' });
    const refused = await callApi('/v1/api-keys', { key: outsider });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'identity_tenant_mismatch' } });
  });
});

describe('a dedicated tenant', () => {
  it('keeps its records in its own database, none in (default)', async () => {
    const tenantId = `dedicated-${run}`;
    const databaseId = `dedicated-${run}`;
    const { apiKey, tenant } = await onboardTenant(services, {
      tenantId,
      name: 'dedicated',
      databaseId,
    });
    expect(tenant.databaseId).toBe(databaseId);
    expect((await services.platform.getTenant(tenantId))?.databaseId).toBe(databaseId);

    const created = await callApi('/v1/extractions', {
      method: 'POST',
      key: apiKey.token,
      body: {
        document: { contentType: 'text/plain', text: 'Vendor: Dedicated Ltd\nTotal: 5.00' },
        schema: 'invoice',
      },
    });
    expect(created.status).toBe(202);
    const done = await waitForTerminal((created.body as { id: string }).id, apiKey.token);
    expect(done.status).toBe('succeeded');
    const evidence = await callApi(`/v1/evidence/${done.evidenceId ?? ''}`, { key: apiKey.token });
    expect(evidence.status).toBe(200);

    const { projectId } = stack();
    const dedicated = new Firestore({ projectId, databaseId });
    const shared = new Firestore({ projectId });
    try {
      for (const collection of ['extractions', 'evidence', 'documents', 'dataKeys']) {
        const own = await dedicated.collection(`tenants/${tenantId}/${collection}`).count().get();
        const leaked = await shared.collection(`tenants/${tenantId}/${collection}`).count().get();
        expect([collection, own.data().count > 0]).toEqual([collection, true]);
        expect([collection, leaked.data().count]).toEqual([collection, 0]);
      }
      expect((await dedicated.doc(`tenants/${tenantId}/extractions/${done.id}`).get()).exists).toBe(
        true,
      );
      expect(
        (await dedicated.doc(`tenants/${tenantId}/evidence/${done.evidenceId ?? ''}`).get()).exists,
      ).toBe(true);
      // The registry entry (profile) and the API key stay platform-wide, in (default).
      expect((await shared.doc(`tenants/${tenantId}`).get()).exists).toBe(true);
      expect((await shared.doc(`apiKeys/${apiKey.keyId}`).get()).exists).toBe(true);
      expect((await dedicated.doc(`tenants/${tenantId}`).get()).exists).toBe(false);
    } finally {
      await Promise.all([dedicated.terminate(), shared.terminate()]);
    }
  }, 60_000);
});
