import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { unauthenticated, forbidden } from '../errors';
import { log } from '../logging';
import type { ApiKeyRecord, ApiKeyScope, PlatformDb } from './platform';

/**
 * `pvn_<keyId>_<secret>`: the key id is public (it names the record and shows in logs and
 * listings), the 256-bit secret is shown once and stored only as HMAC-SHA256 under a pepper
 * kept outside the database, so a leaked `apiKeys` collection yields no usable key.
 */
const KEY_FORMAT = /^pvn_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface IssuedApiKey {
  keyId: string;
  /** The full bearer token. Returned to the caller once; never stored or logged. */
  token: string;
  hash: string;
}

export function hashSecret(pepper: string, secret: string): string {
  return createHmac('sha256', pepper).update(secret).digest('hex');
}

export function issueApiKey(pepper: string): IssuedApiKey {
  const keyId = randomBytes(10).toString('hex').slice(0, 16);
  const secret = randomBytes(32).toString('base64url');
  return { keyId, token: `pvn_${keyId}_${secret}`, hash: hashSecret(pepper, secret) };
}

export function parseApiKey(token: string): { keyId: string; secret: string } | undefined {
  const match = KEY_FORMAT.exec(token);
  if (!match?.[1] || !match[2]) return undefined;
  return { keyId: match[1], secret: match[2] };
}

export interface ApiKeyPrincipal {
  kind: 'apiKey';
  keyId: string;
  tenantId: string;
  scopes: readonly ApiKeyScope[];
  /**
   * When the key stops working: its expiry or a revocation already scheduled (a rotated key's
   * overlap), whichever comes first; null when neither is set. What it issues ends no later.
   */
  validUntil: string | null;
  requestId?: string;
}

/** The earlier of two instants, null meaning never. */
function earliest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

// Compared against when the key id is unknown, so a miss costs the same HMAC as a hit.
const DUMMY_HASH = '0'.repeat(64);
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Resolves a bearer token to its tenant. Every failure is the same 401 to the caller (the
 * reason goes to the log through `onDenied`), so probing cannot tell a revoked key from a
 * made-up one.
 */
export async function verifyApiKey(
  platform: PlatformDb,
  pepper: string,
  token: string,
  now: Date = new Date(),
  onDenied: (reason: string, keyId?: string) => void = () => undefined,
): Promise<ApiKeyPrincipal> {
  const deny = (reason: string, keyId?: string) => {
    onDenied(reason, keyId);
    return unauthenticated('invalid_api_key', 'the API key is invalid, expired or revoked');
  };
  const parsed = parseApiKey(token);
  if (!parsed) throw deny('malformed');
  const record: ApiKeyRecord | undefined = await platform.getApiKey(parsed.keyId);
  const expected = Buffer.from(record?.hash ?? DUMMY_HASH, 'hex');
  const actual = Buffer.from(hashSecret(pepper, parsed.secret), 'hex');
  const matches = timingSafeEqual(expected, actual);
  if (!record) throw deny('unknown_key', parsed.keyId);
  if (!matches) throw deny('wrong_secret', parsed.keyId);
  if (record.revokedAt !== null && Date.parse(record.revokedAt) <= now.getTime()) {
    throw deny('revoked', parsed.keyId);
  }
  if (record.expiresAt !== null && Date.parse(record.expiresAt) <= now.getTime()) {
    throw deny('expired', parsed.keyId);
  }
  const last = record.lastUsedAt ? Date.parse(record.lastUsedAt) : 0;
  // Bounded to one write a minute per key: a busy key must not become a Firestore hot spot.
  if (now.getTime() - last > TOUCH_INTERVAL_MS) {
    await platform.touchApiKey(parsed.keyId);
  }
  return {
    kind: 'apiKey',
    keyId: parsed.keyId,
    tenantId: record.tenantId,
    scopes: record.scopes,
    // Both are in the future here: a past one was refused above.
    validUntil: earliest(record.expiresAt, record.revokedAt),
  };
}

/** What `requireScope` needs of a principal (an API key's or a person's, see identity.ts). */
export interface ScopedPrincipal {
  scopes: readonly string[];
  keyId?: string;
  uid?: string;
  tenantId?: string;
  /** The request the principal was resolved for, so a refusal's log line names it. */
  requestId?: string;
}

/** Refuses (403, logged as `auth_denied`) a principal that lacks `scope`. */
export function requireScope(principal: ScopedPrincipal, scope: ApiKeyScope): void {
  if (!principal.scopes.includes(scope)) {
    log('auth_denied', {
      requestId: principal.requestId,
      reason: 'insufficient_scope',
      scope,
      keyId: principal.keyId,
      uid: principal.uid,
      tenantId: principal.tenantId,
    });
    throw forbidden('insufficient_scope', `this operation needs the ${scope} scope`);
  }
}
