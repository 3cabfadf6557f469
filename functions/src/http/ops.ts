/**
 * The operator API (`ops` function; IAM-only ingress in production). Callers also present a
 * Firebase ID token whose `platform_role` claim is `operator` (`auth: 'operator'`).
 */
import { z } from 'zod';
import { PROVIDERS } from '../config';
import { onboardTenantWithCmek, registerCmek } from '../lifecycle/cmek';
import { DATABASE_ID, IDENTITY_TENANT_ID, onboardTenant } from '../lifecycle/onboarding';
import { offboardTenant } from '../lifecycle/offboarding';
import type { Services } from '../services';
import { accessOpsRoutes } from './access-routes';
import { parsedBody } from './body';
import { route } from './route';
import { Router } from './router';
import { AnyObject } from './views';

const OnboardBody = z.strictObject({
  tenantId: z.string(),
  name: z.string().min(1).max(200),
  providers: z
    .strictObject({ primary: z.enum(PROVIDERS), fallback: z.enum(PROVIDERS).nullable() })
    .optional(),
  adminEmail: z.email().max(254).optional(),
  databaseId: z.string().regex(DATABASE_ID).optional(),
  identityTenantId: z.string().regex(IDENTITY_TENANT_ID).optional(),
  /** The customer's own KEK (CMEK), probed before anything of the tenant is written. */
  cmekKeyName: z.string().max(512).optional(),
});

const CmekBody = z.strictObject({ keyName: z.string().min(1).max(512) });

const onboard = route({
  method: 'POST',
  pattern: '/v1/tenants',
  auth: 'operator',
  body: parsedBody(OnboardBody),
  summary: 'Onboard a tenant: its KEK, its first API key, optionally its first admin and CMEK',
  ok: [
    {
      status: 201,
      schema: AnyObject,
      description:
        "The tenant, its first API key and, with adminEmail, the new admin's one-time sign-in link (both shown once)",
    },
  ],
  errors: [400, 409, 422],
  handle: async ({ services, body: { cmekKeyName, ...body } }) => {
    const result =
      cmekKeyName === undefined
        ? await onboardTenant(services, body)
        : await onboardTenantWithCmek(services, body, cmekKeyName);
    return {
      status: 201,
      body: {
        tenant: {
          id: result.tenant.id,
          name: result.tenant.name,
          status: result.tenant.status,
          databaseId: result.tenant.databaseId ?? null,
          identityTenantId: result.tenant.identityTenantId ?? null,
        },
        apiKey: result.apiKey,
        // { uid, email, signInLink }: the operator hands the link to the admin, and only to them.
        admin: result.admin ?? null,
        kekManagedBy: result.tenant.kekManagedBy ?? 'platform',
      },
      // The API key and the sign-in link are bearer secrets: no cache may keep them.
      headers: { 'Cache-Control': 'no-store' },
    };
  },
});

/** Offboarding: crypto-shredding and a signed deletion certificate. */
const offboard = route({
  method: 'POST',
  pattern: '/v1/tenants/:id/offboard',
  auth: 'operator',
  summary: 'Offboard a tenant: revoke its keys, destroy its KEK versions, certify the deletion',
  ok: [{ status: 200, schema: AnyObject, description: 'The signed deletion certificate' }],
  errors: [404, 409],
  handle: async ({ services, actor, params: { id } }) => {
    const result = await offboardTenant(services, id, { actor });
    return { status: 200, body: result };
  },
});

/** A customer-managed KEK (CMEK) for an existing tenant. */
const cmek = route({
  method: 'POST',
  pattern: '/v1/tenants/:id/cmek',
  auth: 'operator',
  body: parsedBody(CmekBody),
  summary: "Register the tenant's own KEK; platform key versions are disabled",
  ok: [{ status: 200, schema: AnyObject, description: 'The KEK now in use' }],
  errors: [400, 404, 409, 422],
  handle: async ({ services, params: { id }, body: { keyName } }) => {
    const result = await registerCmek(services, id, keyName);
    return {
      status: 200,
      body: {
        tenantId: result.tenant.id,
        kekName: result.tenant.kekName,
        kekVersion: result.kekVersion,
        kekManagedBy: 'customer',
        disabledPlatformVersions: result.disabledPlatformVersions,
      },
    };
  },
});

export function createOpsRouter(services: Services): Router {
  return new Router(services).add(onboard, offboard, cmek, ...accessOpsRoutes);
}
