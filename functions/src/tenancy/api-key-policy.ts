/**
 * What a tenant's admins may do with its API keys: issue one (never with a scope the issuer
 * lacks, expiring within a year), revoke one now, rotate one with an overlap window. A key that
 * issues or rotates a key hands on at most what it has: its scopes, and its own lifetime (its
 * expiry, or the end of its overlap once it was rotated), so a leaked short-lived key cannot
 * mint a permanent one. A person (ID token) is bounded by the policy maximum only. `apiKeys`
 * is a global collection, so every operation takes the caller's tenant and treats another
 * tenant's key exactly like an unknown one: the same 404, nothing written, the attempt logged.
 */
import { actorLabel } from '../evidence/actor';
import { badRequest, conflict, forbidden, notFound } from '../errors';
import { log } from '../logging';
import { issueApiKey } from './api-keys';
import { actorOf, type Principal } from './identity';
import { API_KEY_SCOPES, type ApiKeyRecord, type ApiKeyScope, type PlatformDb } from './platform';

/** The longest a key may live: a year, and a day for leap years. */
export const MAX_LIFETIME_MS = 366 * 24 * 3600 * 1000;
/** How long a rotated key keeps working by default. */
export const DEFAULT_OVERLAP_SECONDS = 86_400;
export const MAX_OVERLAP_SECONDS = 604_800;

/** Who manages keys, for which tenant, with what. */
export interface KeyAdmin {
  platform: PlatformDb;
  pepper: string;
  tenantId: string;
  /** The scopes it holds bound what it may grant; it is the new key's `createdBy`. */
  principal: Principal;
}

export interface NewApiKey {
  name: string;
  scopes: readonly ApiKeyScope[];
  expiresAt?: string | undefined;
}

export interface Rotation {
  overlapSeconds?: number | undefined;
  expiresAt?: string | undefined;
}

export interface IssuedTenantKey {
  keyId: string;
  /** The bearer token, to be shown once. */
  token: string;
  /** The record as stored (with its commit-time `createdAt`). */
  record: ApiKeyRecord;
}

/** A future instant at most a year ahead; `undefined` stays undefined. */
function checkedExpiry(expiresAt: string | undefined, now: Date): string | undefined {
  if (expiresAt === undefined) return undefined;
  const at = Date.parse(expiresAt);
  if (at <= now.getTime() || at - now.getTime() > MAX_LIFETIME_MS) {
    throw badRequest('invalid_expiry', 'expiresAt must be in the future and at most a year away');
  }
  return new Date(at).toISOString();
}

/** A key may only hand out what its issuer holds: no scope escalation through key creation. */
function requireGrantable(principal: Principal, scopes: readonly ApiKeyScope[]): void {
  const missing = scopes.filter((s) => !principal.scopes.includes(s));
  if (missing.length > 0) {
    log('auth_denied', {
      requestId: principal.requestId,
      reason: 'scope_escalation',
      keyId: principal.kind === 'apiKey' ? principal.keyId : undefined,
      uid: principal.kind === 'user' ? principal.uid : undefined,
      tenantId: principal.tenantId,
      scope: missing.join(','),
    });
    throw forbidden('scope_escalation', 'a key cannot be given scopes its issuer does not hold');
  }
}

/**
 * The new key's expiry within its issuer's lifetime. An API key issuer's end (`validUntil`)
 * caps it: an expiry asked beyond it is refused (403 `lifetime_escalation`), an implicit one
 * (none asked, or inherited by a rotation) is cut to it. A person's ID token caps nothing.
 */
function withinIssuer(
  principal: Principal,
  requested: string | undefined,
  implicit: string | null,
): string | null {
  const end = principal.kind === 'apiKey' ? principal.validUntil : null;
  if (end === null) return requested ?? implicit;
  if (requested !== undefined) {
    if (Date.parse(requested) <= Date.parse(end)) return requested;
    log('auth_denied', {
      requestId: principal.requestId,
      reason: 'lifetime_escalation',
      keyId: principal.kind === 'apiKey' ? principal.keyId : undefined,
      tenantId: principal.tenantId,
    });
    throw forbidden(
      'lifetime_escalation',
      'a key cannot be made to outlive the key that issues it',
    );
  }
  return implicit === null || Date.parse(implicit) > Date.parse(end) ? end : implicit;
}

/**
 * A rotated key keeps its predecessor's lifetime policy: a key that expired 90 days after its
 * creation is replaced by one that expires 90 days from now (at most a year); no expiry stays none.
 */
function inheritedExpiry(previous: ApiKeyRecord, now: Date): string | null {
  if (previous.expiresAt === null) return null;
  if (previous.createdAt === undefined) return previous.expiresAt;
  const lifetime = Date.parse(previous.expiresAt) - Date.parse(previous.createdAt);
  if (!Number.isFinite(lifetime) || lifetime <= 0) return previous.expiresAt;
  return new Date(now.getTime() + Math.min(lifetime, MAX_LIFETIME_MS)).toISOString();
}

/** Another tenant's key id: the same 404 as an unknown one, and the attempt goes to the log. */
async function keyNotFound(admin: KeyAdmin, keyId: string): Promise<never> {
  const { principal } = admin;
  const record = await admin.platform.getApiKey(keyId);
  if (record && record.tenantId !== principal.tenantId) {
    log('auth_denied', {
      requestId: principal.requestId,
      reason: 'foreign_api_key',
      keyId,
      callerKeyId: principal.kind === 'apiKey' ? principal.keyId : undefined,
      uid: principal.kind === 'user' ? principal.uid : undefined,
      tenantId: principal.tenantId,
    });
  }
  throw notFound('api key');
}

async function readBack(admin: KeyAdmin, keyId: string): Promise<ApiKeyRecord> {
  const stored = await admin.platform.getTenantApiKey(admin.tenantId, keyId);
  if (!stored) throw new Error('the new API key could not be read back');
  return stored;
}

/**
 * Issues a key of the tenant: 403 `scope_escalation` or `lifetime_escalation`, 400
 * `invalid_expiry`. Without an asked expiry, a key issued by a key expires with its issuer.
 */
export async function createTenantApiKey(
  admin: KeyAdmin,
  request: NewApiKey,
): Promise<IssuedTenantKey> {
  const scopes = API_KEY_SCOPES.filter((s) => request.scopes.includes(s));
  requireGrantable(admin.principal, scopes);
  const expiresAt = withinIssuer(
    admin.principal,
    checkedExpiry(request.expiresAt, new Date()),
    null,
  );
  const issued = issueApiKey(admin.pepper);
  await admin.platform.createApiKey(issued.keyId, {
    tenantId: admin.tenantId,
    hash: issued.hash,
    scopes,
    name: request.name,
    expiresAt,
    revokedAt: null,
    createdBy: actorLabel(actorOf(admin.principal)),
  });
  return { keyId: issued.keyId, token: issued.token, record: await readBack(admin, issued.keyId) };
}

/** Revokes a key of the tenant now (an earlier scheduled revocation stays); 404 otherwise. */
export async function revokeTenantApiKey(admin: KeyAdmin, keyId: string): Promise<void> {
  const revoked = await admin.platform.revokeApiKey(admin.tenantId, keyId, new Date());
  if (!revoked) await keyNotFound(admin, keyId);
}

/**
 * Replaces a key of the tenant: the new one has the old one's name and scopes and, unless asked
 * otherwise, its lifetime (cut to a rotating key's own); the old one keeps working for the
 * overlap, which becomes its expiry, and names its one successor. 404 for a key not the
 * tenant's, 409 `key_revoked`/`key_expired`/`already_rotated`, 403
 * `scope_escalation`/`lifetime_escalation`, 400 `invalid_expiry`.
 */
export async function rotateTenantApiKey(
  admin: KeyAdmin,
  keyId: string,
  rotation: Rotation,
): Promise<IssuedTenantKey> {
  const now = new Date();
  const requestedExpiry = checkedExpiry(rotation.expiresAt, now);
  // An asked expiry beyond the rotating key's own is refused before anything is written.
  if (requestedExpiry !== undefined) withinIssuer(admin.principal, requestedExpiry, null);
  const overlapMs = (rotation.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS) * 1000;
  const issued = issueApiKey(admin.pepper);
  const old = await admin.platform.rotateApiKey(
    admin.tenantId,
    keyId,
    new Date(now.getTime() + overlapMs),
    {
      keyId: issued.keyId,
      record: (previous) => {
        if (previous.revokedAt !== null && Date.parse(previous.revokedAt) <= now.getTime())
          throw conflict('key_revoked', 'a revoked key cannot be rotated');
        if (previous.expiresAt !== null && Date.parse(previous.expiresAt) <= now.getTime())
          throw conflict('key_expired', 'an expired key cannot be rotated');
        if (previous.rotatedTo !== undefined) {
          throw conflict(
            'already_rotated',
            `this key was already rotated to ${previous.rotatedTo}: rotate that key instead`,
          );
        }
        requireGrantable(admin.principal, previous.scopes);
        return {
          tenantId: admin.tenantId,
          hash: issued.hash,
          scopes: previous.scopes,
          name: previous.name,
          expiresAt: withinIssuer(admin.principal, requestedExpiry, inheritedExpiry(previous, now)),
          revokedAt: null,
          createdBy: actorLabel(actorOf(admin.principal)),
          rotatedFrom: keyId,
        };
      },
    },
  );
  if (!old) return keyNotFound(admin, keyId);
  return { keyId: issued.keyId, token: issued.token, record: await readBack(admin, issued.keyId) };
}
