/**
 * API key management for a tenant's admins (`keys:admin`): list, create (the token is shown
 * once), revoke now, rotate with an overlap window. The policy (scopes, lifetimes, another
 * tenant's keys) is `tenancy/api-key-policy.ts`; these routes parse, call it and show the key.
 */
import { z } from 'zod';
import type { Services } from '../services';
import {
  createTenantApiKey,
  MAX_OVERLAP_SECONDS,
  revokeTenantApiKey,
  rotateTenantApiKey,
  type KeyAdmin,
} from '../tenancy/api-key-policy';
import type { Principal } from '../tenancy/identity';
import { API_KEY_SCOPES, type ApiKeyRecord, type ApiKeyScope } from '../tenancy/platform';
import { jsonObject, optionalJsonObject } from './body';
import { route } from './route';
import { ApiKey } from './views';

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
  rotatedFrom?: string;
  rotatedTo?: string;
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
    ...(record.rotatedFrom === undefined ? {} : { rotatedFrom: record.rotatedFrom }),
    ...(record.rotatedTo === undefined ? {} : { rotatedTo: record.rotatedTo }),
  };
}

function keyAdmin(services: Services, tenantId: string, principal: Principal): KeyAdmin {
  return {
    platform: services.platform,
    pepper: services.config.API_KEY_PEPPER,
    tenantId,
    principal,
  };
}

/** A freshly issued secret must not sit in any cache. */
const NO_STORE = { 'Cache-Control': 'no-store' };

export const apiKeyRoutes = [
  route({
    method: 'GET',
    pattern: '/v1/api-keys',
    auth: { scope: 'keys:admin' },
    summary: 'List API keys',
    ok: [
      {
        status: 200,
        schema: z.strictObject({ apiKeys: z.array(ApiKey) }),
        description: 'Keys, never secrets',
      },
    ],
    errors: [],
    handle: async ({ services, tenant }) => {
      const keys = await services.platform.listApiKeys(tenant.id);
      const views = keys
        .map(({ keyId, record }) => toApiKeyView(keyId, record))
        .sort(
          (a, b) =>
            (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.keyId.localeCompare(b.keyId),
        );
      return { status: 200, body: { apiKeys: views } };
    },
  }),

  route({
    method: 'POST',
    pattern: '/v1/api-keys',
    auth: { scope: 'keys:admin' },
    body: jsonObject(CreateApiKeyBody),
    summary: 'Issue an API key',
    ok: [{ status: 201, schema: ApiKey, description: 'Issued; the token is shown once' }],
    errors: [400, 415],
    handle: async ({ services, tenant, principal, body }) => {
      const issued = await createTenantApiKey(keyAdmin(services, tenant.id, principal), body);
      return {
        status: 201,
        body: { ...toApiKeyView(issued.keyId, issued.record), token: issued.token },
        headers: NO_STORE,
      };
    },
  }),

  route({
    method: 'DELETE',
    pattern: '/v1/api-keys/:keyId',
    auth: { scope: 'keys:admin' },
    summary: 'Revoke an API key',
    ok: [{ status: 204, description: 'Revoked' }],
    errors: [404],
    handle: async ({ services, tenant, principal, params }) => {
      await revokeTenantApiKey(keyAdmin(services, tenant.id, principal), params.keyId);
      return { status: 204, body: undefined };
    },
  }),

  route({
    method: 'POST',
    pattern: '/v1/api-keys/:keyId/rotate',
    auth: { scope: 'keys:admin' },
    body: optionalJsonObject(RotateApiKeyBody),
    summary: 'Rotate an API key with an overlap',
    ok: [{ status: 201, schema: ApiKey, description: 'The new key; the token is shown once' }],
    errors: [400, 404, 409, 415],
    handle: async ({ services, tenant, principal, params, body }) => {
      const issued = await rotateTenantApiKey(
        keyAdmin(services, tenant.id, principal),
        params.keyId,
        body,
      );
      return {
        status: 201,
        body: {
          ...toApiKeyView(issued.keyId, issued.record),
          token: issued.token,
          rotatedFrom: params.keyId,
        },
        headers: NO_STORE,
      };
    },
  }),
];
