/**
 * Erasure by crypto-shredding on the local stack: DELETE /v1/extractions/{id} deletes the data
 * keys with the result, then the objects; the extraction's evidence still verifies, the erasure
 * is itself sealed evidence, and the commitments can no longer be recomputed.
 */
import { captureCli } from '../support/cli';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCli } from '../../functions/src/cli/program';
import { parseConfig } from '../../functions/src/config';
import { commitment, type WrappedDataKey } from '../../functions/src/crypto/envelope';
import { EvidenceRecordSchema, verifyContentHash } from '../../functions/src/evidence/record';
import { erasureEvidenceId } from '../../functions/src/extraction/erasure';
import { replayExtraction } from '../../functions/src/extraction/replay';
import { createServices, type Services } from '../../functions/src/services';
import { parseGsUri } from '../../functions/src/storage/object-store';
import { issueApiKey } from '../../functions/src/tenancy/api-keys';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import {
  callApi,
  tenantKey,
  waitForTerminal,
  withCanary,
  type ExtractionBody,
} from '../support/api';
import { sealEverything as sealAll } from '../support/sealing';

let services: Services;
let tenant: TenantProfile;
let apiKey: string;
let readOnlyKey: string;

const text = (n: number) =>
  withCanary(`Vendor: Erase Co ${String(n)}\nInvoice No: E-${String(n)}\nTotal: ${String(n)}.00`);

async function extract(n: number): Promise<ExtractionBody> {
  const created = await callApi('/v1/extractions', {
    method: 'POST',
    key: apiKey,
    body: { document: { contentType: 'text/plain', text: text(n) }, schema: 'invoice' },
  });
  expect(created.status).toBe(202);
  const done = await waitForTerminal((created.body as ExtractionBody).id, apiKey);
  expect(done.status).toBe('succeeded');
  return done;
}

const erase = (id: string, key = apiKey) =>
  callApi(`/v1/extractions/${id}`, { method: 'DELETE', key });

const sealEverything = () => sealAll(services, tenant);

beforeAll(async () => {
  services = createServices(parseConfig({ ...process.env, SEAL_SAFETY_SECONDS: '0' }));
  const onboarded = await onboardTenant(services, {
    tenantId: `erase-${randomBytes(4).toString('hex')}`,
    name: 'Erase',
  });
  tenant = onboarded.tenant;
  apiKey = onboarded.apiKey.token;
  const limited = issueApiKey(services.config.API_KEY_PEPPER);
  await services.platform.createApiKey(limited.keyId, {
    tenantId: tenant.id,
    hash: limited.hash,
    scopes: ['extractions:read'],
    name: 'read only',
    expiresAt: null,
    revokedAt: null,
  });
  readOnlyKey = limited.token;
}, 60_000);

afterAll(async () => {
  await services.close();
});

describe('who may erase (denial paths first)', () => {
  let id: string;
  beforeAll(async () => {
    id = (await extract(1)).id;
  }, 45_000);

  it('refuses without credentials (401) and without extractions:write (403)', async () => {
    const anonymous = await callApi(`/v1/extractions/${id}`, { method: 'DELETE' });
    expect(anonymous.status).toBe(401);
    const readOnly = await erase(id, readOnlyKey);
    expect(readOnly.status).toBe(403);
    expect(readOnly.body).toMatchObject({ error: { code: 'insufficient_scope' } });
  });

  it("answers another tenant's extraction exactly like an unknown one (404), erasing nothing", async () => {
    const other = await erase(id, tenantKey(0).apiKey);
    const unknown = await erase('ex_000000000000000000000000', tenantKey(0).apiKey);
    expect(other.status).toBe(404);
    expect(unknown.status).toBe(404);
    const strip = (b: unknown) => {
      const { requestId: _r, ...rest } = (b as { error: Record<string, unknown> }).error;
      return rest;
    };
    expect(strip(other.body)).toEqual(strip(unknown.body));
    const db = services.platform.tenantDb(tenant);
    expect(await db.get('dataKeys', `document-${id}`)).toBeDefined();
    await expect(replayExtraction(services, tenant, id)).resolves.toMatchObject({
      reproducible: true,
    });
  });
});

describe('erasing an extraction', () => {
  let done: ExtractionBody;
  let objects: { bucket: string; name: string }[];
  let payloadSha256: string;

  beforeAll(async () => {
    done = await extract(2);
    const db = services.platform.tenantDb(tenant);
    const evidence = EvidenceRecordSchema.parse(await db.get('evidence', done.evidenceId ?? ''));
    if (evidence.kind !== 'extraction') throw new Error('expected an extraction record');
    payloadSha256 = evidence.request.payloadSha256;
    objects = [evidence.request.ciphertextRef, evidence.response.ciphertextRef].map(parseGsUri);
    // Before erasure the commitment can be recomputed from the document and its secret.
    const wrapped = (await db.get('dataKeys', `document-${done.id}`)) as unknown as WrappedDataKey;
    const key = await services.keys.openDataKey(tenant, { kind: 'document', id: done.id }, wrapped);
    expect(commitment(key.commitmentSecret, Buffer.from(text(2)))).toBe(payloadSha256);
  }, 45_000);

  it('answers 204, twice', async () => {
    expect((await erase(done.id)).status).toBe(204);
    expect((await erase(done.id)).status).toBe(204);
  });

  it('leaves the extraction without its result, status unchanged, erasedAt set', async () => {
    const reply = await callApi(`/v1/extractions/${done.id}`, { key: apiKey });
    expect(reply.status).toBe(200);
    const body = reply.body as ExtractionBody & { result?: unknown };
    expect(body.status).toBe('succeeded');
    expect(body.result).toBeUndefined();
    const stored = await services.platform.tenantDb(tenant).get('extractions', done.id);
    expect(typeof stored?.erasedAt).toBe('string');
    expect(stored?.result).toBeUndefined();
  });

  it('deletes the data keys and the objects: nothing decrypts, replay says it was erased', async () => {
    const db = services.platform.tenantDb(tenant);
    for (const kind of ['document', 'response', 'result'])
      expect(await db.get('dataKeys', `${kind}-${done.id}`)).toBeUndefined();
    for (const { bucket, name } of objects)
      expect(await services.objects.exists(bucket, name)).toBe(false);
    await expect(replayExtraction(services, tenant, done.id)).rejects.toThrow(/erased/);
  });

  it('keeps the extraction evidence intact, and its commitment can no longer be recomputed', async () => {
    const db = services.platform.tenantDb(tenant);
    const record = EvidenceRecordSchema.parse(await db.get('evidence', done.evidenceId ?? ''));
    expect(verifyContentHash(record)).toBe(true);
    if (record.kind !== 'extraction') throw new Error('expected an extraction record');
    expect(record.request.payloadSha256).toBe(payloadSha256);
    // The secret lived only beside the data key: with the key gone no guess can be confirmed.
    expect(await db.get('dataKeys', `document-${done.id}`)).toBeUndefined();
    const documentMeta = await db.get('documents', done.id);
    expect(Object.values(documentMeta ?? {})).not.toContain(text(2));
  });

  it('records the erasure as evidence, sealed and verified by the auditor CLI', async () => {
    const db = services.platform.tenantDb(tenant);
    const record = EvidenceRecordSchema.parse(await db.get('evidence', erasureEvidenceId(done.id)));
    expect(verifyContentHash(record)).toBe(true);
    expect(record).toMatchObject({
      kind: 'erasure',
      subject: { type: 'extraction', id: done.id },
      details: {
        dataKeysDeleted: [`document-${done.id}`, `response-${done.id}`, `result-${done.id}`],
      },
    });
    await sealEverything();
    const cli = captureCli();
    const bucket = `gs://${services.config.AUDIT_BUCKET}/${services.config.AUDIT_EXPORT_PREFIX}`;
    expect(
      await runCli(
        ['audit', 'verify', bucket, '--json', '--kms-key', services.config.SEALING_KEY_VERSION],
        cli,
      ),
    ).toBe(0);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'erasure-'));
    expect(
      await runCli(['audit', 'export', '--out', dir, '--tenant', tenant.id], captureCli()),
    ).toBe(0);
    const lines: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.jsonl')) lines.push(...readFileSync(p, 'utf8').split('\n'));
      }
    };
    walk(dir);
    expect(lines.some((l) => l.includes(`"${erasureEvidenceId(done.id)}"`))).toBe(true);
    expect(
      await runCli(
        ['audit', 'verify', dir, '--kms-key', services.config.SEALING_KEY_VERSION],
        captureCli(),
      ),
    ).toBe(0);
  }, 60_000);
});
