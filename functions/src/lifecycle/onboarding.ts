/**
 * Tenant onboarding: the tenant's own KEK in Cloud KMS, a wrapping key under it, the profile,
 * a first API key and, optionally, a first admin person (a Firebase Auth user whose custom
 * claims name the tenant and the admin role). Shared by the `ops` function, the CLI and the
 * local stack's seeding.
 */
import type { Auth, TenantAwareAuth, UserRecord } from 'firebase-admin/auth';
import { z } from 'zod';
import { conflict, badRequest } from '../errors';
import { log } from '../logging';
import type { Services } from '../services';
import { issueApiKey } from '../tenancy/api-keys';
import { isValidId, isAlreadyExists } from '../tenancy/firestore';
import { firebaseAuth } from '../tenancy/identity';
import type { ProviderName } from '../config';
import { API_KEY_SCOPES, type TenantProfile } from '../tenancy/platform';

const KEK_ROTATION_SECONDS = 90 * 24 * 3600;

/** Firestore's rule for database ids; `(default)` is the shared database, named by absence. */
export const DATABASE_ID = /^[a-z][a-z0-9-]{2,61}[a-z0-9]$/;
/** Identity Platform tenant ids (`name-xxxxx`; 28 random letters and digits in the Auth emulator). */
export const IDENTITY_TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;

export interface OnboardRequest {
  tenantId: string;
  name: string;
  providers?: { primary: ProviderName; fallback: ProviderName | null };
  /** The first admin person: created in Firebase Auth if missing, given the tenant's claims. */
  adminEmail?: string;
  /** A dedicated tenant's own Firestore database. */
  databaseId?: string;
  /** The Identity Platform tenant whose users are this tenant's people. */
  identityTenantId?: string;
  /** Evidence retention beyond the platform minimum, in days. */
  retentionDays?: number;
  /** A request quota other than the platform default (per function instance). */
  quota?: { perMinute: number; burst: number };
  /** Keep results encrypted at rest under per-result data keys. */
  encryptResults?: boolean;
}

export interface OnboardResult {
  tenant: TenantProfile;
  apiKey: { keyId: string; token: string };
  admin?: { uid: string; email: string; created: boolean };
}

/** The Auth instance holding the tenant's people: the identity tenant's, or the project's. */
async function peopleAuth(
  services: Services,
  identityTenantId?: string,
): Promise<Auth | TenantAwareAuth> {
  const auth = await firebaseAuth(services.config.GOOGLE_CLOUD_PROJECT);
  return identityTenantId ? auth.tenantManager().authForTenant(identityTenantId) : auth;
}

function isUserNotFound(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'auth/user-not-found';
}

/**
 * The admin's user, made if missing, without claims yet. A person who already belongs to
 * another tenant is refused: onboarding must never move someone out of their tenant.
 */
async function prepareAdmin(
  auth: Auth | TenantAwareAuth,
  email: string,
  tenantId: string,
): Promise<{ user: UserRecord; created: boolean }> {
  let user: UserRecord;
  let created = false;
  try {
    user = await auth.getUserByEmail(email);
  } catch (err) {
    if (!isUserNotFound(err)) throw err;
    user = await auth.createUser({ email, emailVerified: false, disabled: false });
    created = true;
  }
  const current: unknown = user.customClaims?.tenant_id;
  if (current !== undefined && current !== tenantId) {
    throw conflict('admin_email_in_use', 'this person already belongs to another tenant');
  }
  return { user, created };
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
  const adminEmail =
    request.adminEmail === undefined ? undefined : request.adminEmail.trim().toLowerCase();
  if (adminEmail !== undefined && !z.email().safeParse(adminEmail).success) {
    throw badRequest('invalid_admin_email', 'adminEmail must be an email address');
  }
  if (request.databaseId !== undefined && !DATABASE_ID.test(request.databaseId)) {
    throw badRequest(
      'invalid_database_id',
      'databaseId is 4-63 lowercase letters, digits or -, starting with a letter',
    );
  }
  if (
    request.identityTenantId !== undefined &&
    !IDENTITY_TENANT_ID.test(request.identityTenantId)
  ) {
    throw badRequest('invalid_identity_tenant_id', 'identityTenantId is not an identity tenant id');
  }
  if (await services.platform.getTenant(tenantId))
    throw conflict('tenant_exists', 'the tenant already exists');
  // The person first (without claims, so they can do nothing yet): a conflict stops here,
  // before anything of the tenant is written.
  const auth =
    adminEmail === undefined ? undefined : await peopleAuth(services, request.identityTenantId);
  const admin =
    auth && adminEmail !== undefined ? await prepareAdmin(auth, adminEmail, tenantId) : undefined;
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
    ...(request.databaseId === undefined ? {} : { databaseId: request.databaseId }),
    ...(request.identityTenantId === undefined
      ? {}
      : { identityTenantId: request.identityTenantId }),
    ...(request.retentionDays === undefined ? {} : { retentionDays: request.retentionDays }),
    ...(request.quota === undefined ? {} : { quota: request.quota }),
    ...(request.encryptResults === undefined ? {} : { encryptResults: request.encryptResults }),
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
    createdBy: 'onboarding',
  });
  if (auth && admin) {
    // Merged, so claims the person holds for other purposes (an operator's) stay.
    await auth.setCustomUserClaims(admin.user.uid, {
      ...admin.user.customClaims,
      tenant_id: tenantId,
      role: 'admin',
    });
  }
  log('tenant_onboarded', {
    tenantId,
    keyId: issued.keyId,
    adminUid: admin?.user.uid,
    databaseId: request.databaseId,
    identityTenantId: request.identityTenantId,
  });
  return {
    tenant,
    apiKey: { keyId: issued.keyId, token: issued.token },
    ...(admin && adminEmail !== undefined
      ? { admin: { uid: admin.user.uid, email: adminEmail, created: admin.created } }
      : {}),
  };
}
