/**
 * API key management for a tenant's admins (`keys:admin`): list, create (the token is shown
 * once), revoke now, rotate with an overlap window. The policy (scopes, lifetimes, another
 * tenant's keys) is `tenancy/api-key-policy.ts`; these routes parse, call it and show the key.
 */
import type { Request } from '@google-cloud/functions-framework';
import { z } from 'zod';
import { badRequest, unsupportedMediaType } from '../errors';
import type { Services } from '../services';
import {
  createTenantApiKey,
  MAX_OVERLAP_SECONDS,
  revokeTenantApiKey,
  rotateTenantApiKey,
  type KeyAdmin,
} from '../tenancy/api-key-policy';
import { requireScope } from '../tenancy/api-keys';
import type { Principal } from '../tenancy/identity';
import { API_KEY_SCOPES, type ApiKeyRecord, type ApiKeyScope } from '../tenancy/platform';
import { authenticate } from './auth';
import type { Router } from './router';

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

function keyAdmin(services: Services, tenantId: string, principal: Principal): KeyAdmin {
  return {
    platform: services.platform,
    pepper: services.config.API_KEY_PEPPER,
    tenantId,
    principal,
  };
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
    const issued = await createTenantApiKey(keyAdmin(services, tenant.id, principal), body);
    return {
      status: 201,
      body: { ...toApiKeyView(issued.keyId, issued.record), token: issued.token },
      headers: { 'Cache-Control': 'no-store' },
    };
  });

  router.on('DELETE', '/v1/api-keys/:keyId', async ({ req, params, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'keys:admin');
    await revokeTenantApiKey(keyAdmin(services, tenant.id, principal), params.keyId ?? '');
    return { status: 204, body: undefined };
  });

  router.on('POST', '/v1/api-keys/:keyId/rotate', async ({ req, params, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'keys:admin');
    const keyId = params.keyId ?? '';
    const body = RotateApiKeyBody.parse(jsonBody(req, true));
    const issued = await rotateTenantApiKey(keyAdmin(services, tenant.id, principal), keyId, body);
    return {
      status: 201,
      body: {
        ...toApiKeyView(issued.keyId, issued.record),
        token: issued.token,
        rotatedFrom: keyId,
      },
      headers: { 'Cache-Control': 'no-store' },
    };
  });

  return router;
}
