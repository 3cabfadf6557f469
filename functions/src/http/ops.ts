/**
 * The operator API (`ops` function; IAM-only ingress in production). Callers also present a
 * Firebase ID token whose `platform_role` claim is `operator`, verified with firebase-admin.
 */
import type { Request } from '@google-cloud/functions-framework';
import { z } from 'zod';
import { PROVIDERS } from '../config';
import { forbidden, unauthenticated } from '../errors';
import { probeCmek, registerCmek } from '../lifecycle/cmek';
import { log } from '../logging';
import type { Services } from '../services';
import { firebaseAuth } from '../tenancy/identity';
import { DATABASE_ID, IDENTITY_TENANT_ID, onboardTenant } from '../lifecycle/onboarding';
import { offboardTenant } from '../lifecycle/offboarding';
import { Router } from './router';

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

async function requireOperator(
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

export function createOpsRouter(services: Services): Router {
  const router = new Router().on('POST', '/v1/tenants', async ({ req, requestId }) => {
    await requireOperator(services, req, requestId);
    const { cmekKeyName, ...body } = OnboardBody.parse(req.body);
    if (cmekKeyName !== undefined) await probeCmek(services, body.tenantId, cmekKeyName);
    const onboarded = await onboardTenant(services, body);
    const result =
      cmekKeyName === undefined
        ? onboarded
        : {
            ...onboarded,
            tenant: (await registerCmek(services, body.tenantId, cmekKeyName)).tenant,
          };
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
        admin: result.admin ?? null,
        kekManagedBy: result.tenant.kekManagedBy ?? 'platform',
      },
    };
  });
  return registerKeyOpsRoutes(router, services);
}

/** Offboarding (crypto-shredding + deletion certificate) and CMEK registration. */
function registerKeyOpsRoutes(router: Router, services: Services): Router {
  return router
    .on('POST', '/v1/tenants/:id/offboard', async ({ req, params, requestId }) => {
      const uid = await requireOperator(services, req, requestId);
      const result = await offboardTenant(services, params.id ?? '', {
        actor: { kind: 'user', id: uid },
      });
      return { status: 200, body: result };
    })
    .on('POST', '/v1/tenants/:id/cmek', async ({ req, params, requestId }) => {
      await requireOperator(services, req, requestId);
      const { keyName } = CmekBody.parse(req.body);
      const result = await registerCmek(services, params.id ?? '', keyName);
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
    });
}
