/**
 * Who is calling: a bearer token becomes a principal bound to exactly one active tenant.
 *
 * - `pvn_...` is an API key (`verifyApiKey`): one indistinguishable 401 for every bad key, and
 *   so is any other token that is not shaped like a JWT.
 * - A JWT is a Firebase ID token, verified by firebase-admin (signature, expiry,
 *   audience, issuer, revocation, disabled user). Its custom claims name the tenant
 *   (`tenant_id`) and the person's role (`role`); the role maps to the API key scopes, so
 *   `requireScope` treats both kinds alike.
 *
 * The ID token verifier is injected: the firebase-admin one in production and on the local
 * stack, a stub in unit tests (the Auth emulator's tokens are unsigned, so they prove nothing
 * about signature checks). The firebase-admin one outside emulator mode, refusing `alg: none`,
 * unknown keys and bad signatures, is exercised offline by test/e2e/hardening-identity.test.ts;
 * a deployed instance never runs in emulator mode (`deployedSwitchProblems` in config.ts).
 */
import type { Auth } from 'firebase-admin/auth';
import { forbidden, InternalError, unauthenticated } from '../errors';
import type { Actor } from '../evidence/actor';
import { verifyApiKey, type ApiKeyPrincipal } from './api-keys';
import { API_KEY_SCOPES, type ApiKeyScope, type PlatformDb, type TenantProfile } from './platform';

export const ROLES = ['admin', 'member', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** What each role may do, in API key scopes. */
export const ROLE_SCOPES: Readonly<Record<Role, readonly ApiKeyScope[]>> = {
  admin: API_KEY_SCOPES,
  member: ['extractions:read', 'extractions:write'],
  auditor: ['extractions:read'],
};

export interface UserPrincipal {
  kind: 'user';
  uid: string;
  tenantId: string;
  role: Role;
  scopes: readonly ApiKeyScope[];
  /** The request the principal was resolved for, so a refusal's log line names it. */
  requestId?: string;
}

export type Principal = ApiKeyPrincipal | UserPrincipal;

/** The decoded claims of a verified ID token (firebase-admin's `DecodedIdToken`, loosely). */
export type IdTokenClaims = Record<string, unknown>;

/**
 * Verifies an ID token and returns its claims, or throws. A thrown error with a `code` of
 * `auth/...` (other than `auth/internal-error`) means the token was refused; anything else is a
 * failure to verify (the Auth service unreachable, say) and becomes a 500, not a 401.
 */
export type IdTokenVerifier = (token: string) => Promise<IdTokenClaims>;

/** Why a request was refused, for the `auth_denied` log line. Never the token. */
export interface Denial {
  reason: string;
  keyId?: string;
  uid?: string;
  tenantId?: string;
  detail?: string;
}

export interface IdentityDeps {
  platform: PlatformDb;
  pepper: string;
  verifyIdToken: IdTokenVerifier;
  now?: () => Date;
  onDenied?: (denial: Denial) => void;
}

export interface Identity {
  principal: Principal;
  tenant: TenantProfile;
}

/**
 * The default firebase-admin app's Auth, the app initialized once per process with the project
 * id. Loaded on first use: firebase-admin/auth pulls in an ES module (jose) that plain CommonJS
 * test runners cannot load, and API-key-only paths never need it.
 */
export async function firebaseAuth(projectId: string): Promise<Auth> {
  const { getApps, initializeApp } = await import('firebase-admin/app');
  const { getAuth } = await import('firebase-admin/auth');
  const existing = getApps().find((app) => app.name === '[DEFAULT]');
  return getAuth(existing ?? initializeApp({ projectId }));
}

/**
 * The Identity Platform tenant a token claims to come from, read without verification: it only
 * picks the Auth instance that verifies the token, and that instance refuses a token whose
 * tenant is not its own.
 */
function claimedIdentityTenant(token: string): string | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { firebase?: { tenant?: unknown } } | null;
    const tenant = payload?.firebase?.tenant;
    return typeof tenant === 'string' && tenant !== '' ? tenant : undefined;
  } catch {
    return undefined;
  }
}

/**
 * firebase-admin's verifier with the revocation check on (one Auth lookup per call). A token
 * from an Identity Platform tenant is verified by that tenant's Auth, where its user lives (a
 * project-level lookup would not find them). firebase-admin keeps one instance per tenant id
 * for the life of the process, so only identity tenants that some Provenant tenant registered
 * (`isRegistered`) get one: forged tenant ids cannot grow that cache.
 */
export function firebaseIdTokenVerifier(
  projectId: string,
  isRegistered: (identityTenantId: string) => Promise<boolean>,
): IdTokenVerifier {
  return async (token): Promise<IdTokenClaims> => {
    const identityTenant = claimedIdentityTenant(token);
    if (identityTenant !== undefined && !(await isRegistered(identityTenant))) {
      throw Object.assign(new Error('the identity tenant is not registered'), {
        code: 'auth/unregistered-identity-tenant',
      });
    }
    const auth = await firebaseAuth(projectId);
    if (identityTenant === undefined) return auth.verifyIdToken(token, true);
    return auth.tenantManager().authForTenant(identityTenant).verifyIdToken(token, true);
  };
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A refusal by the verifier, as opposed to a failure to run it. */
function isTokenRefusal(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && code.startsWith('auth/') && code !== 'auth/internal-error';
}

const API_KEY_PREFIX = 'pvn_';
/** A compact JWS: header.payload.signature (the Auth emulator leaves the signature empty). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Resolves a bearer token to its principal and active tenant, or throws a typed AppError. */
export async function resolveBearer(deps: IdentityDeps, token: string): Promise<Identity> {
  const onDenied = deps.onDenied ?? (() => undefined);
  const now = deps.now ?? (() => new Date());
  // Only a JWT can be an ID token; anything else that is not an API key gets the API key's
  // one indistinguishable 401 (logged as malformed).
  if (token.startsWith(API_KEY_PREFIX) || !JWT_SHAPE.test(token)) {
    const principal = await verifyApiKey(
      deps.platform,
      deps.pepper,
      token,
      now(),
      (reason, keyId) => {
        onDenied({ reason, keyId });
      },
    );
    const tenant = await activeTenant(deps, principal.tenantId, {
      keyId: principal.keyId,
    });
    return { principal, tenant };
  }
  return resolveIdToken(deps, token, onDenied);
}

async function resolveIdToken(
  deps: IdentityDeps,
  token: string,
  onDenied: (denial: Denial) => void,
): Promise<Identity> {
  let claims: IdTokenClaims;
  try {
    claims = await deps.verifyIdToken(token);
  } catch (err) {
    if (!isTokenRefusal(err)) throw new InternalError('auth_unavailable', 'internal error', err);
    onDenied({ reason: 'invalid_id_token', detail: errorCode(err) });
    throw unauthenticated('invalid_token', 'the token is invalid, expired or revoked');
  }
  const uid = typeof claims.uid === 'string' ? claims.uid : undefined;
  if (!uid) {
    onDenied({ reason: 'invalid_id_token', detail: 'no_uid' });
    throw unauthenticated('invalid_token', 'the token is invalid, expired or revoked');
  }
  const tenantId = claims.tenant_id;
  if (typeof tenantId !== 'string' || tenantId === '') {
    onDenied({ reason: 'missing_tenant_claim', uid });
    throw forbidden('missing_tenant_claim', 'the token names no Provenant tenant');
  }
  const role = claims.role;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    onDenied({ reason: 'invalid_role', uid, tenantId: tenantId.slice(0, 128) });
    throw forbidden('invalid_role', `the token's role must be one of ${ROLES.join(', ')}`);
  }
  const tenant = await activeTenant(deps, tenantId, { uid });
  const firebase = claims.firebase as { tenant?: unknown } | undefined;
  const identityTenant = typeof firebase?.tenant === 'string' ? firebase.tenant : undefined;
  // Both directions: a token from another Identity Platform tenant, or from the project-level
  // user pool when this tenant's people live in their own identity tenant, is refused.
  if (identityTenant !== tenant.identityTenantId) {
    onDenied({ reason: 'identity_tenant_mismatch', uid, tenantId });
    throw forbidden(
      'identity_tenant_mismatch',
      "the token was issued for another identity tenant than this tenant's",
    );
  }
  const principal: UserPrincipal = {
    kind: 'user',
    uid,
    tenantId: tenant.id,
    role: role as Role,
    scopes: ROLE_SCOPES[role as Role],
  };
  return { principal, tenant };
}

async function activeTenant(
  deps: IdentityDeps,
  tenantId: string,
  who: { keyId?: string; uid?: string },
): Promise<TenantProfile> {
  const onDenied = deps.onDenied ?? (() => undefined);
  const tenant = await deps.platform.getTenant(tenantId);
  if (!tenant) {
    onDenied({ reason: 'unknown_tenant', tenantId: tenantId.slice(0, 128), ...who });
    throw forbidden('unknown_tenant', 'the credentials name no existing tenant');
  }
  if (tenant.status !== 'active') {
    onDenied({ reason: 'tenant_inactive', tenantId, ...who });
    throw forbidden('tenant_inactive', 'this tenant is not active');
  }
  return tenant;
}

/** The actor recorded in evidence for a principal. */
export function actorOf(principal: Principal): Actor {
  return principal.kind === 'apiKey'
    ? { kind: 'apiKey', id: principal.keyId }
    : { kind: 'user', id: principal.uid };
}

/**
 * The platform's own people for break-glass access (access/): Firebase users of the
 * project-level pool (never an Identity Platform tenant's, where a customer's administrator could
 * mint any claim) whose custom claim `access_roles` lists `engineer` (may request access and
 * read under a grant) and/or `approver` (may approve, deny and revoke). Custom claims are set
 * only through the Admin SDK (`setCustomUserClaims`) by whoever holds the project's IAM, never
 * by a tenant.
 */
export const ACCESS_ROLES = ['engineer', 'approver'] as const;
export type AccessRole = (typeof ACCESS_ROLES)[number];

export interface StaffMember {
  uid: string;
  roles: AccessRole[];
}

/**
 * A staff member from verified claims, or why not: a token from an identity tenant, or one
 * naming a Provenant tenant (a customer's person), is never staff, whatever else it claims.
 */
export function staffFromClaims(
  claims: IdTokenClaims,
): { staff: StaffMember } | { refused: 'identity_tenant' | 'tenant_person' | 'no_uid' } {
  const uid = typeof claims.uid === 'string' ? claims.uid : undefined;
  if (!uid) return { refused: 'no_uid' };
  const firebase = claims.firebase as { tenant?: unknown } | undefined;
  if (firebase?.tenant !== undefined) return { refused: 'identity_tenant' };
  if (claims.tenant_id !== undefined || claims.role !== undefined)
    return { refused: 'tenant_person' };
  const raw = Array.isArray(claims.access_roles) ? (claims.access_roles as unknown[]) : [];
  const roles = ACCESS_ROLES.filter((r) => raw.includes(r));
  return { staff: { uid, roles } };
}
