/**
 * API key management for a tenant's admins (`keys:admin`): list, create (the token is shown
 * once), revoke now, rotate with an overlap window. `apiKeys` is a global collection, so every
 * accessor used here takes the caller's tenant and treats another tenant's key exactly like an
 * unknown one: the same 404, and nothing written.
 */
import type { Request } from '@google-cloud/functions-framework';
import { z } from 'zod';
import { badRequest, conflict, forbidden, notFound, unsupportedMediaType } from '../errors';
import { log } from '../logging';
import type { Services } from '../services';
import { issueApiKey, requireScope } from '../tenancy/api-keys';
import type { Principal } from '../tenancy/identity';
import { API_KEY_SCOPES, type ApiKeyRecord, type ApiKeyScope } from '../tenancy/platform';
import { authenticate } from './auth';
import type { Router } from './router';

const MAX_LIFETIME_MS = 366 * 24 * 3600 * 1000;
const DEFAULT_OVERLAP_SECONDS = 86_400;
const MAX_OVERLAP_SECONDS = 604_800;

export const CreateApiKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});

export const RotateApiKeyBody = z.strictObject({
  overlapSeconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});

export interface ApiKeyView {
  keyId: string;
  name: string;
  scopes: ApiKeyScope[];
  createdAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** What a listing shows: never the hash. */
export function toApiKeyView(keyId: string, record: ApiKeyRecord): ApiKeyView {
  return {
    keyId,
    name: record.name,
    scopes: [...record.scopes],
    createdAt: record.createdAt ?? null,
    expiresAt: record.expiresAt,
    revokedAt: record.revokedAt,
    lastUsedAt: record.lastUsedAt ?? null,
  };
}

/** A JSON object body; an absent body is `{}` when `optional`. */
function jsonBody(req: Request, optional: boolean): unknown {
  const raw: unknown = req.body;
  const empty =
    raw === undefined ||
    raw === '' ||
    (Buffer.isBuffer(raw) && raw.length === 0) ||
    (!req.is('application/json') && Number(req.get('content-length') ?? '0') === 0);
  if (empty && optional) return {};
  if (!req.is('application/json'))
    throw unsupportedMediaType('send the request as application/json');
  if (raw === null || typeof raw !== 'object' || Buffer.isBuffer(raw) || Array.isArray(raw)) {
    throw badRequest('invalid_request', 'the request body must be a JSON object');
  }
  return raw;
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

function issuer(principal: Principal): string {
  return principal.kind === 'apiKey' ? `apiKey:${principal.keyId}` : `user:${principal.uid}`;
}

/** Another tenant's key id: the same 404 as an unknown one, and the attempt goes to the log. */
async function keyNotFound(
  services: Services,
  principal: Principal,
  keyId: string,
): Promise<never> {
  const record = await services.platform.getApiKey(keyId);
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

export function registerApiKeyRoutes(router: Router, services: Services): Router {
  router.on('GET', '/v1/api-keys', async ({ req, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'keys:admin');
    const keys = await services.platform.listApiKeys(tenant.id);
    const views = keys
      .map(({ keyId, record }) => toApiKeyView(keyId, record))
      .sort(
        (a, b) =>
          (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.keyId.localeCompare(b.keyId),
      );
    return { status: 200, body: { apiKeys: views } };
  });

  router.on('POST', '/v1/api-keys', async ({ req, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'keys:admin');
    const body = CreateApiKeyBody.parse(jsonBody(req, false));
    const scopes = API_KEY_SCOPES.filter((s) => body.scopes.includes(s));
    requireGrantable(principal, scopes);
    const expiresAt = checkedExpiry(body.expiresAt, new Date()) ?? null;
    const issued = issueApiKey(services.config.API_KEY_PEPPER);
    await services.platform.createApiKey(issued.keyId, {
      tenantId: tenant.id,
      hash: issued.hash,
      scopes,
      name: body.name,
      expiresAt,
      revokedAt: null,
      createdBy: issuer(principal),
    });
    const stored = await services.platform.getTenantApiKey(tenant.id, issued.keyId);
    if (!stored) throw new Error('the new API key could not be read back');
    return {
      status: 201,
      body: { ...toApiKeyView(issued.keyId, stored), token: issued.token },
      headers: { 'Cache-Control': 'no-store' },
    };
  });

  router.on('DELETE', '/v1/api-keys/:keyId', async ({ req, params, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'keys:admin');
    const keyId = params.keyId ?? '';
    const revoked = await services.platform.revokeApiKey(tenant.id, keyId, new Date());
    if (!revoked) return keyNotFound(services, principal, keyId);
    return { status: 204, body: undefined };
  });

  router.on('POST', '/v1/api-keys/:keyId/rotate', async ({ req, params, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'keys:admin');
    const keyId = params.keyId ?? '';
    const body = RotateApiKeyBody.parse(jsonBody(req, true));
    const now = new Date();
    const requestedExpiry = checkedExpiry(body.expiresAt, now);
    const overlapMs = (body.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS) * 1000;
    const issued = issueApiKey(services.config.API_KEY_PEPPER);
    const old = await services.platform.rotateApiKey(
      tenant.id,
      keyId,
      new Date(now.getTime() + overlapMs),
      {
        keyId: issued.keyId,
        record: (previous) => {
          if (previous.revokedAt !== null && Date.parse(previous.revokedAt) <= now.getTime())
            throw conflict('key_revoked', 'a revoked key cannot be rotated');
          if (previous.expiresAt !== null && Date.parse(previous.expiresAt) <= now.getTime())
            throw conflict('key_expired', 'an expired key cannot be rotated');
          requireGrantable(principal, previous.scopes);
          return {
            tenantId: tenant.id,
            hash: issued.hash,
            scopes: previous.scopes,
            name: previous.name,
            expiresAt: requestedExpiry ?? inheritedExpiry(previous, now),
            revokedAt: null,
            createdBy: issuer(principal),
            rotatedFrom: keyId,
          };
        },
      },
    );
    if (!old) return keyNotFound(services, principal, keyId);
    const stored = await services.platform.getTenantApiKey(tenant.id, issued.keyId);
    if (!stored) throw new Error('the new API key could not be read back');
    return {
      status: 201,
      body: { ...toApiKeyView(issued.keyId, stored), token: issued.token, rotatedFrom: keyId },
      headers: { 'Cache-Control': 'no-store' },
    };
  });

  return router;
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
