/**
 * CMEK registration on the local stack: a key the platform cannot use is refused with a 422
 * naming why; a usable one becomes the tenant's KEK, the same wrapping key re-wrapped under it,
 * and every existing extraction still decrypts. A customer who later revokes the platform's
 * grant (or disables the key) stops that tenant's extractions with a typed reason, and only
 * that tenant's; restoring access lets new extractions through again.
 */
import { randomBytes } from 'node:crypto';
import type { KeyManagementServiceClient } from '@google-cloud/kms';
import { parseConfig } from '../../functions/src/config';
import { createKmsClient, keyVersionManager } from '../../functions/src/crypto/kms';
import { replayExtraction } from '../../functions/src/extraction/replay';
import { createServices, type Services } from '../../functions/src/services';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import {
  callApi,
  callOps,
  extractInvoice,
  functionLog,
  loggedLines,
  idTokenFor,
  stack,
  waitForTerminal,
  withCanary,
  type ExtractionBody,
} from '../support/api';
import { as, setGrant } from '../support/customer-kms';

const run = randomBytes(4).toString('hex');
/** The customer: their own project, which the platform cannot see, and its owner. */
const CUSTOMER = `user:security@customer-${run}.example`;
const CUSTOMER_LOCATION = `projects/customer-${run}/locations/europe-west1`;
const CUSTOMER_RING = `${CUSTOMER_LOCATION}/keyRings/cmek`;
let customerKms: KeyManagementServiceClient;
const customerKeys = { granted: '', ungranted: '' };
let services: Services;
let operator: string;
let ring: string;
const keys: Record<'good' | 'signing' | 'disabled' | 'other', string> = {
  good: '',
  signing: '',
  disabled: '',
  other: '',
};

const extract = async (apiKey: string, n: number) =>
  (await extractInvoice(apiKey, `Vendor: Cmek ${String(n)}\nTotal: 3.00`)).id;

beforeAll(async () => {
  services = createServices(parseConfig());
  operator = await idTokenFor(`operator-cmek-${run}`, { platform_role: 'operator' });
  // The customer's own key ring: same emulator, another ring than the platform's.
  ring = `projects/${stack().projectId}/locations/global/keyRings/customer-${run}`;
  const kms = keyVersionManager(services.keyManager);
  await kms.ensureKeyRing(ring);
  keys.good = await kms.ensureSymmetricKey(ring, 'good', 90 * 86_400);
  keys.other = await kms.ensureSymmetricKey(ring, 'other', 90 * 86_400);
  keys.signing = (await kms.ensureSigningKey(ring, 'signing')).replace(
    /\/cryptoKeyVersions\/1$/,
    '',
  );
  keys.disabled = await kms.ensureSymmetricKey(ring, 'disabled', 90 * 86_400);
  for (const v of await kms.listCryptoKeyVersions(keys.disabled))
    await kms.disableCryptoKeyVersion(v.name);

  // The customer makes a ring and two keys in their own project, and grants the platform's
  // service account the use of one of them.
  customerKms = createKmsClient(services.config.KMS_API_ENDPOINT);
  await customerKms.createKeyRing(
    { parent: CUSTOMER_LOCATION, keyRingId: 'cmek', keyRing: {} },
    as(CUSTOMER),
  );
  for (const id of ['granted', 'ungranted'] as const) {
    const [key] = await customerKms.createCryptoKey(
      { parent: CUSTOMER_RING, cryptoKeyId: id, cryptoKey: { purpose: 'ENCRYPT_DECRYPT' } },
      as(CUSTOMER),
    );
    customerKeys[id] = key.name ?? '';
  }
  await setGrant(customerKms, CUSTOMER, customerKeys.granted, true);
}, 60_000);

afterAll(async () => {
  await customerKms.close();
  await services.close();
});

describe('registering a customer key on an existing tenant', () => {
  let tenantId: string;
  let apiKey: string;
  const extractions: string[] = [];

  beforeAll(async () => {
    tenantId = `cmek-${run}`;
    const onboarded = await onboardTenant(services, { tenantId, name: 'Cmek' });
    apiKey = onboarded.apiKey.token;
    extractions.push(await extract(apiKey, 1));
  }, 60_000);

  it('refuses a person who is not an operator', async () => {
    const admin = await idTokenFor(`not-operator-cmek-${run}`, {
      tenant_id: tenantId,
      role: 'admin',
    });
    const reply = await callOps(`/v1/tenants/${tenantId}/cmek`, admin, { keyName: keys.good });
    expect(reply.status).toBe(403);
  }, 30_000);

  it.each([
    ['a key that does not exist', () => `${ring}/cryptoKeys/missing`, 'not_found'],
    ['an ASYMMETRIC_SIGN key', () => keys.signing, 'wrong_purpose'],
    ['a key whose versions are all disabled', () => keys.disabled, 'version_unusable'],
    [
      "a key in the customer's project the platform was never granted",
      () => customerKeys.ungranted,
      'permission_denied',
    ],
    [
      'a key on the platform key ring',
      () => `${services.config.KMS_KEY_RING}/cryptoKeys/tenant-${tenantId}`,
      'platform_key',
    ],
    ['a malformed name', () => 'projects/x/cryptoKeys/y', 'invalid_name'],
  ])('refuses %s: 422 cmek_unusable (%s), tenant unchanged', async (_, keyName, reason) => {
    const before = await services.platform.getTenant(tenantId);
    const reply = await callOps(`/v1/tenants/${tenantId}/cmek`, operator, { keyName: keyName() });
    expect(reply.status).toBe(422);
    expect(reply.body).toMatchObject({ error: { code: 'cmek_unusable', details: { reason } } });
    expect(await services.platform.getTenant(tenantId)).toEqual(before);
  });

  it('accepts a usable key: same wrapping key re-wrapped, existing extractions still decrypt', async () => {
    const before = await services.platform.getTenant(tenantId);
    if (!before) throw new Error('tenant missing');
    services.keys.evict(tenantId);
    // A copy: evicting zeroes the cached buffer itself (issue 10, finding 8).
    const wrappingKey = Buffer.from(await services.keys.wrappingKey(before));

    const reply = await callOps(`/v1/tenants/${tenantId}/cmek`, operator, { keyName: keys.good });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ kekName: keys.good, kekManagedBy: 'customer' });
    const after = await services.platform.getTenant(tenantId);
    if (!after) throw new Error('tenant missing');
    expect(after.kekName).toBe(keys.good);
    expect(after.kekManagedBy).toBe('customer');
    expect(after.wrappingKey.kekVersion.startsWith(`${keys.good}/cryptoKeyVersions/`)).toBe(true);
    services.keys.evict(tenantId);
    expect((await services.keys.wrappingKey(after)).equals(wrappingKey)).toBe(true);
    for (const id of extractions) {
      await expect(replayExtraction(services, after, id)).resolves.toMatchObject({
        reproducible: true,
      });
    }
    // The platform-made KEK no longer unwraps anything: only the customer's key does.
    services.keys.evict(tenantId);
    await expect(services.keys.wrappingKey(before)).rejects.toMatchObject({ code: 9 });
    // And the running functions use the customer's key for new work.
    extractions.push(await extract(apiKey, 2));
    await expect(replayExtraction(services, after, extractions[1] ?? '')).resolves.toMatchObject({
      reproducible: true,
    });
  }, 60_000);

  it('keeps working when the customer key is registered again (no-op)', async () => {
    const reply = await callOps(`/v1/tenants/${tenantId}/cmek`, operator, { keyName: keys.good });
    expect(reply.status).toBe(200);
  }, 30_000);
});

describe('a customer key at onboarding', () => {
  it('refuses an unusable key before anything of the tenant exists', async () => {
    const tenantId = `cmek-on-bad-${run}`;
    const reply = await callOps('/v1/tenants', operator, {
      tenantId,
      name: 'x',
      cmekKeyName: keys.signing,
    });
    expect(reply.status).toBe(422);
    expect(reply.body).toMatchObject({
      error: { code: 'cmek_unusable', details: { reason: 'wrong_purpose' } },
    });
    expect(await services.platform.getTenant(tenantId)).toBeUndefined();
  }, 30_000);

  it('onboards with a usable key as the KEK', async () => {
    const tenantId = `cmek-on-${run}`;
    const reply = await callOps('/v1/tenants', operator, {
      tenantId,
      name: 'x',
      cmekKeyName: keys.other,
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ kekManagedBy: 'customer' });
    const tenant = await services.platform.getTenant(tenantId);
    expect(tenant?.kekName).toBe(keys.other);
    const apiKey = (reply.body.apiKey as { token: string }).token;
    const id = await extract(apiKey, 3);
    if (!tenant) throw new Error('tenant missing');
    await expect(replayExtraction(services, tenant, id)).resolves.toMatchObject({
      reproducible: true,
    });
  }, 60_000);
});

describe('a customer revokes their key mid-life', () => {
  let cmekTenant: string;
  let cmekApiKey: string;
  let otherApiKey: string;

  /** Submits an invoice and waits for the extraction to end, whichever way. */
  async function extraction(apiKey: string, n: number) {
    const created = await callApi('/v1/extractions', {
      method: 'POST',
      key: apiKey,
      body: {
        document: {
          contentType: 'text/plain',
          text: withCanary(`Vendor: Revoked ${String(n)}\nTotal: 5.00`),
        },
        schema: 'invoice',
      },
    });
    expect(created.status).toBe(202);
    const done = await waitForTerminal((created.body as ExtractionBody).id, apiKey, 60_000);
    return done as ExtractionBody & { error?: { code: string; message: string } };
  }

  const setVersionState = async (state: 'ENABLED' | 'DISABLED') => {
    await customerKms.updateCryptoKeyVersion(
      {
        cryptoKeyVersion: { name: `${customerKeys.granted}/cryptoKeyVersions/1`, state },
        updateMask: { paths: ['state'] },
      },
      as(CUSTOMER),
    );
  };

  beforeAll(async () => {
    cmekTenant = `cmek-revoke-${run}`;
    const reply = await callOps('/v1/tenants', operator, {
      tenantId: cmekTenant,
      name: 'Revokes its key',
      cmekKeyName: customerKeys.granted,
    });
    expect(reply.status).toBe(201);
    cmekApiKey = (reply.body.apiKey as { token: string }).token;
    const other = await onboardTenant(services, { tenantId: `cmek-bystander-${run}`, name: 'x' });
    otherApiKey = other.apiKey.token;
    // Mid-life: the tenant has worked under the customer's key before anything is revoked.
    await extractInvoice(cmekApiKey, 'Vendor: Before revocation\nTotal: 1.00');
  }, 60_000);

  it("fails that tenant's extraction with customer_key_unavailable once the grant is revoked, without retrying it, while another tenant's succeeds", async () => {
    await setGrant(customerKms, CUSTOMER, customerKeys.granted, false);
    try {
      const failed = await extraction(cmekApiKey, 1);
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatchObject({
        code: 'customer_key_unavailable',
        message: expect.stringContaining('permission_denied') as unknown,
      });
      expect(failed.evidenceId).toBeUndefined();
      // Ended by the worker on its first delivery, not redelivered until the dead letter.
      // `extraction_failed` is the worker's last line for it (after the failure's commit).
      await loggedLines(
        'extractWorker',
        (l) => l.extractionId === failed.id && l.event === 'extraction_failed',
      );
      const lines = functionLog('extractWorker').filter((l) => l.extractionId === failed.id);
      expect(lines.filter((l) => l.event === 'customer_key_unavailable')).toEqual([
        expect.objectContaining({
          tenantId: cmekTenant,
          reason: 'permission_denied',
          kmsStatus: 7,
        }),
      ]);
      expect(lines.filter((l) => l.event === 'worker_error')).toEqual([]);
      expect(lines).toContainEqual(
        expect.objectContaining({ event: 'extraction_failed', code: 'customer_key_unavailable' }),
      );

      // Nobody else is affected.
      expect((await extraction(otherApiKey, 2)).status).toBe('succeeded');
    } finally {
      await setGrant(customerKms, CUSTOMER, customerKeys.granted, true);
    }
  }, 90_000);

  it('lets new extractions through again once the customer restores the grant', async () => {
    const restored = await extraction(cmekApiKey, 3);
    expect(restored.status).toBe('succeeded');
    expect(restored.evidenceId).toEqual(expect.any(String));
  }, 60_000);

  it('fails with customer_key_unavailable (key_not_enabled) while the customer has the key disabled', async () => {
    await setVersionState('DISABLED');
    try {
      const failed = await extraction(cmekApiKey, 4);
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatchObject({
        code: 'customer_key_unavailable',
        message: expect.stringContaining('key_not_enabled') as unknown,
      });
    } finally {
      await setVersionState('ENABLED');
    }
    expect((await extraction(cmekApiKey, 5)).status).toBe('succeeded');
  }, 90_000);
});
