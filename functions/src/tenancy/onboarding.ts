/**
 * Tenant onboarding: the tenant's own KEK in Cloud KMS, a wrapping key under it, the profile,
 * and a first API key. Shared by the `ops` function, the CLI and the local stack's seeding.
 */
import { conflict, badRequest } from '../errors';
import { log } from '../logging';
import type { Services } from '../services';
import { issueApiKey } from './api-keys';
import { isValidId, isAlreadyExists } from './firestore';
import { API_KEY_SCOPES, type ProviderName, type TenantProfile } from './platform';

const KEK_ROTATION_SECONDS = 90 * 24 * 3600;

export interface OnboardRequest {
  tenantId: string;
  name: string;
  providers?: { primary: ProviderName; fallback: ProviderName | null };
}

export interface OnboardResult {
  tenant: TenantProfile;
  apiKey: { keyId: string; token: string };
}

export function tenantKekId(tenantId: string): string {
  return `tenant-${tenantId}`;
}

export async function onboardTenant(
  services: Services,
  request: OnboardRequest,
): Promise<OnboardResult> {
  const { tenantId } = request;
  if (!isValidId(tenantId) || tenantId.length > 48) {
    throw badRequest('invalid_tenant_id', 'tenant ids are 1-48 letters, digits, - or _');
  }
  if (await services.platform.getTenant(tenantId))
    throw conflict('tenant_exists', 'the tenant already exists');
  const ring = services.config.KMS_KEY_RING;
  await services.keyManager.ensureKeyRing(ring);
  const kekName = await services.keyManager.ensureSymmetricKey(
    ring,
    tenantKekId(tenantId),
    KEK_ROTATION_SECONDS,
  );
  const wrappingKey = await services.keys.createWrappingKey(tenantId, kekName);
  const tenant: TenantProfile = {
    id: tenantId,
    name: request.name,
    status: 'active',
    kekName,
    wrappingKey,
    providers: request.providers ?? { primary: services.config.DEFAULT_PROVIDER, fallback: null },
  };
  try {
    await services.platform.createTenant(tenant);
  } catch (err) {
    if (isAlreadyExists(err)) throw conflict('tenant_exists', 'the tenant already exists');
    throw err;
  }
  const issued = issueApiKey(services.config.API_KEY_PEPPER);
  await services.platform.createApiKey(issued.keyId, {
    tenantId,
    hash: issued.hash,
    scopes: [...API_KEY_SCOPES],
    name: 'initial admin key',
    expiresAt: null,
    revokedAt: null,
  });
  log('tenant_onboarded', { tenantId, keyId: issued.keyId });
  return { tenant, apiKey: { keyId: issued.keyId, token: issued.token } };
}
