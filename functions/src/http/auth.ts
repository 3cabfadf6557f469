import type { Request } from '@google-cloud/functions-framework';
import { forbidden, unauthenticated } from '../errors';
import type { Actor } from '../evidence/actor';
import { log } from '../logging';
import type { Services } from '../services';
import {
  actorOf,
  firebaseAuth,
  firebaseIdTokenVerifier,
  resolveBearer,
  staffFromClaims,
  type IdTokenVerifier,
  type Principal,
  type StaffMember,
} from '../tenancy/identity';
import type { TenantProfile } from '../tenancy/platform';
import { TenantQuota } from './quota';

export interface AuthenticatedTenant {
  principal: Principal;
  tenant: TenantProfile;
  /** Who acted, as recorded in evidence: the API key id or the person's uid. */
  actor: Actor;
}

const verifiers = new WeakMap<Services, IdTokenVerifier>();
const quotas = new WeakMap<Services, TenantQuota>();

function quotaFor(services: Services): TenantQuota {
  let quota = quotas.get(services);
  if (!quota) {
    quota = new TenantQuota({
      perMinute: services.config.TENANT_REQUESTS_PER_MINUTE,
      burst: services.config.TENANT_REQUEST_BURST,
    });
    quotas.set(services, quota);
  }
  return quota;
}

function defaultVerifier(services: Services): IdTokenVerifier {
  let verifier = verifiers.get(services);
  if (!verifier) {
    verifier = firebaseIdTokenVerifier(services.config.GOOGLE_CLOUD_PROJECT, (id) =>
      services.platform.identityTenantRegistered(id),
    );
    verifiers.set(services, verifier);
  }
  return verifier;
}

/**
 * Resolves `Authorization: Bearer <token>` to a principal and its (active) tenant: an API key
 * (`pvn_...`) or a Firebase ID token whose claims name the tenant and role. Every refusal is
 * logged as `auth_denied` with its reason and the key id or uid, never the token.
 */
export async function authenticate(
  services: Services,
  req: Request,
  requestId: string,
  verifyIdToken: IdTokenVerifier = defaultVerifier(services),
): Promise<AuthenticatedTenant> {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) {
    log('auth_denied', { requestId, reason: header ? 'malformed_header' : 'missing_credentials' });
    throw unauthenticated(
      'missing_credentials',
      'send Authorization: Bearer <API key or ID token>',
    );
  }
  const { principal, tenant } = await resolveBearer(
    {
      platform: services.platform,
      pepper: services.config.API_KEY_PEPPER,
      verifyIdToken,
      onDenied: (denial) => {
        log('auth_denied', { requestId, ...denial });
      },
    },
    match[1],
  );
  // Only authenticated requests spend a tenant's quota: nobody can exhaust another's.
  try {
    quotaFor(services).take(tenant.id, tenant.quota);
  } catch (err) {
    log('rate_limited', { requestId, tenantId: tenant.id });
    throw err;
  }
  return { principal: { ...principal, requestId }, tenant, actor: actorOf(principal) };
}

/**
 * The operator API's check: a Firebase ID token (verified with firebase-admin, revocation
 * included) whose `platform_role` claim is `operator`. Returns the operator's uid.
 */
export async function authenticateOperator(
  services: Services,
  req: Request,
  requestId: string,
): Promise<string> {
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  if (!match?.[1])
    throw unauthenticated('missing_credentials', 'send Authorization: Bearer <ID token>');
  let claims: Record<string, unknown>;
  try {
    const auth = await firebaseAuth(services.config.GOOGLE_CLOUD_PROJECT);
    claims = await auth.verifyIdToken(match[1], true);
  } catch {
    log('auth_denied', { requestId, reason: 'invalid_id_token' });
    throw unauthenticated('invalid_token', 'the ID token is invalid, expired or revoked');
  }
  if (claims.platform_role !== 'operator') {
    log('auth_denied', { requestId, reason: 'not_operator', uid: String(claims.uid) });
    throw forbidden('not_operator', 'this operation needs the operator role');
  }
  return String(claims.uid);
}

/** Which staff a break-glass route admits: a role, or either (`staff`). */
export type StaffNeed = 'engineer' | 'approver' | 'staff';

/**
 * The break-glass routes' check (docs/access.md): a Firebase ID token of the project-level
 * pool (verified with firebase-admin, revocation included) whose `access_roles` claim holds the
 * role the route needs. A customer's person (a `tenant_id` claim, or a token of an identity
 * tenant) is refused whatever else the token claims.
 */
export async function authenticateStaff(
  services: Services,
  req: Request,
  requestId: string,
  need: StaffNeed,
): Promise<StaffMember> {
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  if (!match?.[1])
    throw unauthenticated('missing_credentials', 'send Authorization: Bearer <ID token>');
  let claims: Record<string, unknown>;
  try {
    const auth = await firebaseAuth(services.config.GOOGLE_CLOUD_PROJECT);
    claims = await auth.verifyIdToken(match[1], true);
  } catch {
    log('auth_denied', { requestId, reason: 'invalid_id_token' });
    throw unauthenticated('invalid_token', 'the ID token is invalid, expired or revoked');
  }
  const result = staffFromClaims(claims);
  if ('refused' in result) {
    log('auth_denied', { requestId, reason: `not_staff_${result.refused}` });
    throw forbidden('missing_access_role', 'break-glass access is for the platform’s staff');
  }
  const { staff } = result;
  const allowed =
    need === 'staff' ? staff.roles.length > 0 : (staff.roles as string[]).includes(need);
  if (!allowed) {
    log('auth_denied', { requestId, reason: 'missing_access_role', uid: staff.uid });
    throw forbidden(
      'missing_access_role',
      need === 'staff'
        ? 'this operation needs the engineer or approver access role'
        : `this operation needs the ${need} access role`,
    );
  }
  return staff;
}
