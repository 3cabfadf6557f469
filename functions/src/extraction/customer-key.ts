/**
 * A tenant with a customer-managed KEK (CMEK) can take the platform's access away at any
 * moment: revoke our `roles/cloudkms.cryptoKeyEncrypterDecrypter` grant on the key, or disable
 * or destroy its versions. From then on that tenant's extractions must stop, with a reason the
 * customer can act on, and must not be retried until the message dead-letters (nothing can
 * succeed before the customer acts), while every other tenant carries on.
 *
 * The wrapping key cache (`KeyHierarchy`) would hide a revocation for up to its TTL, so before
 * any of a CMEK tenant's content is opened the worker asks KMS again, with the tenant's own
 * wrapped wrapping key: one Decrypt per extraction, and a revoked grant stops the very next one.
 */
import { wrappingKeyAad, type TenantKeyInfo } from '../crypto/envelope';
import { KmsKeyUnavailableError, type KeyManager } from '../crypto/kms';
import { log } from '../logging';
import { TerminalExtractionError } from './model-calls';

/** The profile fields that say whose key the tenant's KEK is. */
export interface CustomerKeyTenant extends TenantKeyInfo {
  kekManagedBy?: 'platform' | 'customer' | undefined;
}

/**
 * Proves the platform may still unwrap the tenant's wrapping key under the customer's key.
 * A no-op for platform-managed KEKs (our own key, our own IAM: the cache is enough there).
 */
export async function confirmCustomerKey(
  keyManager: KeyManager,
  tenant: CustomerKeyTenant,
): Promise<void> {
  if (tenant.kekManagedBy !== 'customer') return;
  const key = await keyManager.decrypt(
    tenant.kekName,
    Buffer.from(tenant.wrappingKey.wrapped, 'base64'),
    wrappingKeyAad(tenant.id),
  );
  key.fill(0);
}

const ADVICE: Record<KmsKeyUnavailableError['reason'], string> = {
  permission_denied:
    "the platform's service account no longer holds roles/cloudkms.cryptoKeyEncrypterDecrypter on it",
  key_not_enabled: "the key's version is disabled, scheduled for destruction or destroyed",
  not_found: 'the key no longer exists',
};

/**
 * The terminal failure for an error that says the tenant's own customer-managed key refused
 * us; undefined for anything else (a platform key, another key, another failure), which keeps
 * its usual handling.
 */
export function customerKeyFailure(
  tenant: CustomerKeyTenant,
  extractionId: string,
  err: unknown,
): TerminalExtractionError | undefined {
  if (
    tenant.kekManagedBy !== 'customer' ||
    !(err instanceof KmsKeyUnavailableError) ||
    err.keyName !== tenant.kekName
  ) {
    return undefined;
  }
  log('customer_key_unavailable', {
    tenantId: tenant.id,
    extractionId,
    reason: err.reason,
    kmsStatus: err.code,
  });
  return new TerminalExtractionError(
    'customer_key_unavailable',
    `the customer-managed key cannot be used (${err.reason}): ${ADVICE[err.reason]}; extractions resume once the key owner restores access`,
  );
}
