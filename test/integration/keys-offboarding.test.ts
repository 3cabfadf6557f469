/**
 * Offboarding on the local stack: the tenant's API keys stop working, every KEK version is
 * destroyed so nothing of the tenant decrypts (cache evicted too), and the signed deletion
 * certificate verifies offline, fails when altered, and is sealed into the audit export.
 */
import { captureCli } from '../support/cli';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCli } from '../../functions/src/cli/program';
import { parseConfig } from '../../functions/src/config';
import { keyVersionManager } from '../../functions/src/crypto/kms';
import { EvidenceRecordSchema, verifyContentHash } from '../../functions/src/evidence/record';
import { verifyExport } from '../../functions/src/evidence/verify-export';
import { replayExtraction } from '../../functions/src/extraction/replay';
import { createServices, type Services } from '../../functions/src/services';
import { bucketSource } from '../../functions/src/storage/bucket-source';
import {
  offboardingEvidenceId,
  offboardTenant,
  verifyCertificate,
  type DeletionCertificate,
} from '../../functions/src/lifecycle/offboarding';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import { callApi, callOps, extractInvoice, idTokenFor, withCanary } from '../support/api';

const run = randomBytes(4).toString('hex');
let services: Services;
let operator: string;

const extract = async (apiKey: string, n: number) =>
  (await extractInvoice(apiKey, `Vendor: Off ${String(n)}\nTotal: 2.00`)).id;

const publicKey = () => services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION);

beforeAll(async () => {
  services = createServices(parseConfig({ ...process.env, SEAL_SAFETY_SECONDS: '0' }));
  operator = await idTokenFor(`operator-off-${run}`, { platform_role: 'operator' });
}, 60_000);

afterAll(async () => {
  await services.close();
});

describe('the ops route (denial paths first)', () => {
  let tenant: TenantProfile;
  let apiKey: string;
  let extractionId: string;
  let reply: { status: number; body: Record<string, unknown> };

  beforeAll(async () => {
    const onboarded = await onboardTenant(services, { tenantId: `off-http-${run}`, name: 'Off' });
    tenant = onboarded.tenant;
    apiKey = onboarded.apiKey.token;
    extractionId = await extract(apiKey, 1);
  }, 60_000);

  it('refuses a person who is not an operator, and an unknown tenant', async () => {
    const admin = await idTokenFor(`not-operator-off-${run}`, {
      tenant_id: tenant.id,
      role: 'admin',
    });
    const refused = await callOps(`/v1/tenants/${tenant.id}/offboard`, admin);
    expect(refused.status).toBe(403);
    expect((await services.platform.getTenant(tenant.id))?.status).toBe('active');
    const unknown = await callOps(`/v1/tenants/no-such-${run}/offboard`, operator);
    expect(unknown.status).toBe(404);
  }, 30_000);

  it('offboards: the API key stops working and the certificate comes back', async () => {
    reply = await callOps(`/v1/tenants/${tenant.id}/offboard`, operator);
    expect(reply.status).toBe(200);
    const certificate = reply.body.certificate as DeletionCertificate;
    expect(certificate).toMatchObject({
      version: 1,
      tenantId: tenant.id,
      counts: { documents: 1, extractions: 1, dataKeys: 3 },
      signature: { algorithm: 'EC_SIGN_P256_SHA256' },
    });
    expect(certificate.keyVersionsDestroyed.length).toBeGreaterThanOrEqual(1);
    expect(verifyCertificate(certificate, await publicKey())).toBe(true);
    // The stack's sealer skips offboarded tenants: offboarding sealed the record itself.
    expect(reply.body.finalSeal).toMatchObject({ seq: expect.any(Number) as number });

    const read = await callApi(`/v1/extractions/${extractionId}`, { key: apiKey });
    expect([401, 403]).toContain(read.status);
    const submit = await callApi('/v1/extractions', {
      method: 'POST',
      key: apiKey,
      body: { document: { contentType: 'text/plain', text: withCanary('x') }, schema: 'invoice' },
    });
    expect([401, 403]).toContain(submit.status);
    const keys = await services.platform.listApiKeys(tenant.id);
    expect(keys.every(({ record }) => record.revokedAt !== null)).toBe(true);
  }, 60_000);

  it('answers the same certificate when asked again', async () => {
    const again = await callOps(`/v1/tenants/${tenant.id}/offboard`, operator);
    expect(again.status).toBe(200);
    expect(again.body.certificate).toEqual(reply.body.certificate);
  }, 60_000);

  it('leaves an export the auditor verifies, holding the offboarding record', async () => {
    const source = bucketSource(
      services.objects,
      services.config.AUDIT_BUCKET,
      services.config.AUDIT_EXPORT_PREFIX,
      { under: tenant.id },
    );
    const report = await verifyExport(source, async (v) =>
      v === services.config.SEALING_KEY_VERSION ? publicKey() : undefined,
    );
    const mine = report.tenants.find((t) => t.tenantId === tenant.id);
    expect(mine?.problems).toEqual([]);
    // The extraction record and the offboarding record.
    expect(mine?.records).toBe(2);
  }, 30_000);
});

describe('offboarding in-process: nothing of the tenant decrypts any more', () => {
  let tenant: TenantProfile;
  let extractionId: string;
  let certificate: DeletionCertificate;

  beforeAll(async () => {
    const onboarded = await onboardTenant(services, { tenantId: `off-${run}`, name: 'Off 2' });
    tenant = onboarded.tenant;
    extractionId = await extract(onboarded.apiKey.token, 2);
    // Warm this instance's cache: eviction must be what makes the next unwrap go to KMS.
    await expect(replayExtraction(services, tenant, extractionId)).resolves.toMatchObject({
      reproducible: true,
    });
    certificate = (await offboardTenant(services, tenant.id)).certificate;
  }, 60_000);

  it('destroyed every KEK version and evicted the cached wrapping key', async () => {
    const list = await keyVersionManager(services.keyManager).listCryptoKeyVersions(tenant.kekName);
    expect(list.length).toBeGreaterThanOrEqual(1);
    for (const v of list) expect(['DESTROY_SCHEDULED', 'DESTROYED']).toContain(v.state);
    expect([...certificate.keyVersionsDestroyed].sort()).toEqual(list.map((v) => v.name).sort());
    // FAILED_PRECONDITION from KMS: the version is no longer enabled.
    await expect(services.keys.wrappingKey(tenant)).rejects.toMatchObject({ code: 9 });
    await expect(replayExtraction(services, tenant, extractionId)).rejects.toThrow(
      /FAILED_PRECONDITION|not enabled/,
    );
  });

  it('stored the certificate as sealed offboarding evidence', async () => {
    const data = await services.platform
      .tenantDb(tenant)
      .get('evidence', offboardingEvidenceId(tenant.id));
    const record = EvidenceRecordSchema.parse(data);
    expect(verifyContentHash(record)).toBe(true);
    expect(record).toMatchObject({
      kind: 'offboarding',
      details: { signatureValue: certificate.signature.value },
    });
    const seals = await services.platform.tenantDb(tenant).list('seals');
    expect(seals.length).toBeGreaterThanOrEqual(1);
  });

  it('verifies offline with the CLI, and fails once altered', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cert-'));
    const pem = path.join(dir, 'platform.pem');
    writeFileSync(pem, await publicKey());
    const good = path.join(dir, 'certificate.json');
    writeFileSync(good, JSON.stringify(certificate));
    expect(
      await runCli(['tenant', 'verify-certificate', good, '--public-key', pem], captureCli()),
    ).toBe(0);

    const alterations: ((c: DeletionCertificate) => void)[] = [
      (c) => (c.counts.dataKeys += 1),
      (c) => (c.tenantId = 'someone-else'),
      (c) => c.keyVersionsDestroyed.pop(),
      (c) => (c.offboardedAt = '2000-01-01T00:00:00.000Z'),
    ];
    for (const alter of alterations) {
      const forged = structuredClone(certificate);
      alter(forged);
      expect(verifyCertificate(forged, await publicKey())).toBe(false);
      const file = path.join(dir, 'forged.json');
      writeFileSync(file, JSON.stringify(forged));
      expect(
        await runCli(['tenant', 'verify-certificate', file, '--public-key', pem], captureCli()),
      ).toBe(2);
    }
  }, 30_000);
});
