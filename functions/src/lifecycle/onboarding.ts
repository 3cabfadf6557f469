/**
 * Tenant onboarding: the tenant's own KEK in Cloud KMS, a wrapping key under it, the profile,
 * a first API key and, optionally, a first admin person (a Firebase Auth user whose custom
 * claims name the tenant and the admin role). Shared by the `ops` function, the CLI and the
 * local stack's seeding.
 *
 * The admin is always a new account, made here: an account that already holds the email (in
 * the tenant's Identity Platform tenant, or the project's pool) is refused, never promoted, as
 * anyone may have signed up with someone else's address, unverified, with a password of their
 * own. The new account has no password; the admin sets one through the one-time link the
 * onboarding returns, which the operator delivers to them.
 */
import type { Auth, TenantAwareAuth } from 'firebase-admin/auth';
import { z } from 'zod';
import { conflict, badRequest } from '../errors';
import { log } from '../logging';
import type { Services } from '../services';
import { issueApiKey } from '../tenancy/api-keys';
import { isValidId, isAlreadyExists } from '../tenancy/firestore';
import { firebaseAuth } from '../tenancy/identity';
import type { ProviderName } from '../config';
import {
  API_KEY_SCOPES,
  isReservedTenantId,
  PLATFORM_TENANT_ID,
  type TenantProfile,
} from '../tenancy/platform';

export const KEK_ROTATION_SECONDS = 90 * 24 * 3600;

/** Firestore's rule for database ids; `(default)` is the shared database, named by absence. */
export const DATABASE_ID = /^[a-z][a-z0-9-]{2,61}[a-z0-9]$/;
/** Identity Platform tenant ids (`name-xxxxx`; 28 random letters and digits in the Auth emulator). */
export const IDENTITY_TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;

export interface OnboardRequest {
  tenantId: string;
  name: string;
  providers?: { primary: ProviderName; fallback: ProviderName | null };
  /** The first admin person: a new Firebase Auth account, given the tenant's claims. */
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
  /**
   * The new admin account and the one-time link (a Firebase password-reset link) through which
   * the admin sets a password and so can sign in. A bearer secret, like the API key: shown
   * once, delivered to the admin only, never logged.
   */
  admin?: { uid: string; email: string; signInLink: string };
}

/** The Auth instance holding the tenant's people: the identity tenant's, or the project's. */
async function peopleAuth(
  services: Services,
  identityTenantId?: string,
): Promise<Auth | TenantAwareAuth> {
  const auth = await firebaseAuth(services.config.GOOGLE_CLOUD_PROJECT);
  return identityTenantId ? auth.tenantManager().authForTenant(identityTenantId) : auth;
}

function authErrorCode(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

const emailInUse = () =>
  conflict(
    'admin_email_in_use',
    'an account with this email already exists; onboarding creates the admin and never reuses one',
  );

/**
 * The admin's account, new, without claims yet (so it can do nothing until the tenant exists).
 * Any account holding the email is refused: the look-up covers pools that allow several
 * accounts per email, `email-already-exists` a concurrent sign-up between the two calls.
 */
async function createAdmin(auth: Auth | TenantAwareAuth, email: string): Promise<string> {
  const existing = await auth.getUserByEmail(email).then(
    () => true,
    (err: unknown) => {
      if (authErrorCode(err) === 'auth/user-not-found') return false;
      throw err;
    },
  );
  if (existing) throw emailInUse();
  try {
    const user = await auth.createUser({ email, emailVerified: false, disabled: false });
    return user.uid;
  } catch (err) {
    if (authErrorCode(err) === 'auth/email-already-exists') throw emailInUse();
    throw err;
  }
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
  // The platform's own evidence log (the configuration fingerprints) is kept under this id: a
  // customer onboarded under it would read the platform's change log through the API and write
  // its own extractions into it.
  if (isReservedTenantId(tenantId)) {
    throw conflict(
      'reserved_tenant_id',
      `tenant id ${JSON.stringify(tenantId)} is reserved: "${PLATFORM_TENANT_ID}" holds the platform's own evidence log`,
    );
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
  const people =
    adminEmail === undefined
      ? undefined
      : { auth: await peopleAuth(services, request.identityTenantId), email: adminEmail };
  const adminUid = people && (await createAdmin(people.auth, people.email));
  let result: OnboardResult;
  try {
    result = await provisionTenant(services, request);
    if (people && adminUid !== undefined) {
      await people.auth.setCustomUserClaims(adminUid, { tenant_id: tenantId, role: 'admin' });
      // Firebase's password-reset link for an account without a password: following it sets
      // the first one (https://firebase.google.com/docs/auth/admin/email-action-links; the
      // Auth emulator's link sets it too and marks the email verified).
      const signInLink = await people.auth.generatePasswordResetLink(people.email);
      result = { ...result, admin: { uid: adminUid, email: people.email, signInLink } };
    }
  } catch (err) {
    // The account goes again: its link was never handed out, and a retry must not find the
    // email taken. (A crash instead leaves it behind, without a password and its link never
    // shown; a retry then answers admin_email_in_use until an operator deletes the account.)
    if (people && adminUid !== undefined)
      await people.auth.deleteUser(adminUid).catch(() => undefined);
    throw err;
  }
  log('tenant_onboarded', {
    tenantId,
    keyId: result.apiKey.keyId,
    adminUid,
    databaseId: request.databaseId,
    identityTenantId: request.identityTenantId,
  });
  return result;
}

/** The tenant's KEK, wrapping key, profile and first API key. */
async function provisionTenant(
  services: Services,
  request: OnboardRequest,
): Promise<OnboardResult> {
  const { tenantId } = request;
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
  return { tenant, apiKey: { keyId: issued.keyId, token: issued.token } };
}
