/**
 * Customer-managed encryption keys: a tenant's KEK may be a Cloud KMS key in the customer's own
 * project. Before accepting one, the platform proves it can use it: it encrypts a random probe
 * with AAD and decrypts it back (and checks that the AAD is enforced). Then the tenant wrapping
 * key — the same key, so no data key or ciphertext changes — is re-wrapped under the customer's
 * key, and the platform-made KEK's versions are disabled: from then on the customer alone can
 * revoke the platform's access to the tenant's data.
 */
import { randomBytes } from 'node:crypto';
import { AppError, conflict, notFound } from '../errors';
import { log } from '../logging';
import type { Services } from '../services';
import type { TenantProfile } from '../tenancy/platform';
import { hasKeyVersionManager, kmsStatus } from '../crypto/kms';
import { versionsToDisable, wrappingKeyAad } from './key-rotation';
import { onboardTenant, type OnboardRequest, type OnboardResult } from './onboarding';

export const CMEK_KEY_NAME =
  /^projects\/[a-z0-9-]{1,63}\/locations\/[a-z0-9-]{1,63}\/keyRings\/[A-Za-z0-9_-]{1,63}\/cryptoKeys\/[A-Za-z0-9_-]{1,63}$/;

export const CMEK_REFUSALS = [
  'invalid_name',
  'platform_key',
  'not_found',
  'permission_denied',
  'wrong_purpose',
  'version_unusable',
  'probe_failed',
  'kms_error',
] as const;
export type CmekRefusal = (typeof CMEK_REFUSALS)[number];

/** 422 `cmek_unusable`, `details.reason` says why (stable values: CMEK_REFUSALS). */
export class CmekUnusableError extends AppError {
  override readonly name = 'CmekUnusableError';
  constructor(
    readonly reason: CmekRefusal,
    message: string,
  ) {
    super(422, 'cmek_unusable', message, { reason });
  }
}

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_FAILED_PRECONDITION = 9;

function probeAad(tenantId: string): Buffer {
  return Buffer.from(`provenant/v1/${tenantId}/cmek-probe`);
}

/** Turns a failed KMS call into the reason the customer can act on. */
async function classify(services: Services, keyName: string, err: unknown): Promise<never> {
  const status = kmsStatus(err);
  if (status === GRPC_NOT_FOUND)
    throw new CmekUnusableError('not_found', `the key ${keyName} does not exist`);
  if (status === GRPC_PERMISSION_DENIED) {
    throw new CmekUnusableError(
      'permission_denied',
      'the platform may not use this key: grant its service account roles/cloudkms.cryptoKeyEncrypterDecrypter on it',
    );
  }
  if (status === GRPC_FAILED_PRECONDITION) {
    // Getting the key needs a viewer role the customer may not have granted; without it, the
    // message KMS answered is all there is to go on.
    const key = hasKeyVersionManager(services.keyManager)
      ? await services.keyManager.getCryptoKey(keyName).catch(() => undefined)
      : undefined;
    const message = err instanceof Error ? err.message : '';
    if (key ? key.purpose !== 'ENCRYPT_DECRYPT' : /purpose/i.test(message)) {
      throw new CmekUnusableError(
        'wrong_purpose',
        `the key must have purpose ENCRYPT_DECRYPT${key ? `, not ${key.purpose}` : ''}`,
      );
    }
    const state = key?.primary?.state ?? /state is: ([A-Z_]+)/.exec(message)?.[1];
    throw new CmekUnusableError(
      'version_unusable',
      `the key's primary version is not usable${state ? ` (state ${state})` : ''}: enable or restore a version and make it primary`,
    );
  }
  if (status === GRPC_INVALID_ARGUMENT) {
    throw new CmekUnusableError('probe_failed', 'the key refused the probe (invalid argument)');
  }
  throw new CmekUnusableError('kms_error', 'Cloud KMS could not be reached or failed');
}

/**
 * Proves the platform can encrypt and decrypt with `keyName` under the tenant's AAD, and that
 * the key enforces the AAD. Throws `CmekUnusableError` naming the reason otherwise.
 */
export async function probeCmek(services: Services, tenantId: string, keyName: string) {
  if (!CMEK_KEY_NAME.test(keyName)) {
    throw new CmekUnusableError(
      'invalid_name',
      'keyName must be projects/P/locations/L/keyRings/R/cryptoKeys/K',
    );
  }
  if (keyName.startsWith(`${services.config.KMS_KEY_RING}/`)) {
    throw new CmekUnusableError(
      'platform_key',
      "keys on the platform's own key ring are not customer-managed",
    );
  }
  const probe = randomBytes(32);
  const aad = probeAad(tenantId);
  let sealed: { ciphertext: Buffer; keyVersion: string };
  let opened: Buffer;
  try {
    sealed = await services.keyManager.encrypt(keyName, probe, aad);
    opened = await services.keyManager.decrypt(keyName, sealed.ciphertext, aad);
  } catch (err) {
    return classify(services, keyName, err);
  }
  if (!opened.equals(probe)) {
    throw new CmekUnusableError('probe_failed', 'the key did not return the probe it encrypted');
  }
  const aadEnforced = await services.keyManager
    .decrypt(keyName, sealed.ciphertext, Buffer.from('provenant/v1/wrong-aad'))
    .then(
      () => false,
      () => true,
    );
  if (!aadEnforced) {
    throw new CmekUnusableError('probe_failed', 'the key decrypted the probe under another AAD');
  }
  return { keyVersion: sealed.keyVersion };
}

export interface CmekRegistration {
  tenant: TenantProfile;
  kekVersion: string;
  /** Versions of the platform-made KEK disabled after the re-wrap. */
  disabledPlatformVersions: string[];
}

/**
 * Makes `keyName` the tenant's KEK: probe, re-wrap the same wrapping key under it (compare-and
 * -set), then disable the platform KEK's versions. Registering the current key again is a no-op.
 */
export async function registerCmek(
  services: Services,
  tenantId: string,
  keyName: string,
): Promise<CmekRegistration> {
  const tenant = await services.platform.getTenant(tenantId);
  if (!tenant) throw notFound('tenant');
  if (tenant.status !== 'active') throw conflict('tenant_inactive', 'this tenant is not active');
  try {
    await probeCmek(services, tenantId, keyName);
  } catch (err) {
    if (err instanceof CmekUnusableError) log('cmek_refused', { tenantId, reason: err.reason });
    throw err;
  }
  if (tenant.kekName === keyName) {
    return { tenant, kekVersion: tenant.wrappingKey.kekVersion, disabledPlatformVersions: [] };
  }
  const aad = wrappingKeyAad(tenantId);
  const key = await services.keyManager.decrypt(
    tenant.kekName,
    Buffer.from(tenant.wrappingKey.wrapped, 'base64'),
    aad,
  );
  let updated: TenantProfile;
  try {
    const { ciphertext, keyVersion } = await services.keyManager.encrypt(keyName, key, aad);
    const result = await services.platform.updateTenantKeys(tenantId, tenant.wrappingKey.wrapped, {
      kekName: keyName,
      wrappingKey: { wrapped: ciphertext.toString('base64'), kekVersion: keyVersion },
      kekManagedBy: 'customer',
    });
    if (!result) throw notFound('tenant');
    if (!result.applied) {
      throw conflict('key_changed_concurrently', 'the wrapping key changed meanwhile; try again');
    }
    updated = result.tenant;
  } finally {
    key.fill(0);
  }
  services.keys.evict(tenantId);
  const disabledPlatformVersions: string[] = [];
  if (tenant.kekManagedBy !== 'customer' && hasKeyVersionManager(services.keyManager)) {
    const versions = await services.keyManager.listCryptoKeyVersions(tenant.kekName);
    for (const name of versionsToDisable(versions, '')) {
      await services.keyManager.disableCryptoKeyVersion(name);
      disabledPlatformVersions.push(name);
    }
  }
  log('cmek_registered', {
    tenantId,
    kekVersion: updated.wrappingKey.kekVersion,
    disabledPlatformVersions: disabledPlatformVersions.length,
  });
  return { tenant: updated, kekVersion: updated.wrappingKey.kekVersion, disabledPlatformVersions };
}

/**
 * Onboards a tenant whose KEK is the customer's own: the key is probed before anything of the
 * tenant is written, then the tenant is onboarded and its wrapping key moved under the key.
 */
export async function onboardTenantWithCmek(
  services: Services,
  request: OnboardRequest,
  keyName: string,
): Promise<OnboardResult> {
  await probeCmek(services, request.tenantId, keyName);
  const onboarded = await onboardTenant(services, request);
  const { tenant } = await registerCmek(services, request.tenantId, keyName);
  return { ...onboarded, tenant };
}
