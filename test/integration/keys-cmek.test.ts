/**
 * CMEK registration on the local stack: a key the platform cannot use is refused with a 422
 * naming why; a usable one becomes the tenant's KEK, the same wrapping key re-wrapped under it,
 * and every existing extraction still decrypts.
 */
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../../functions/src/config';
import { keyVersionManager } from '../../functions/src/crypto/kms';
import { replayExtraction } from '../../functions/src/extraction/replay';
import { createServices, type Services } from '../../functions/src/services';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { callOps, extractInvoice, idTokenFor, stack } from '../support/api';

const run = randomBytes(4).toString('hex');
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
}, 60_000);

afterAll(async () => {
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
