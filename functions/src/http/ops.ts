/**
 * The operator API (`ops` function; IAM-only ingress in production). Callers also present a
 * Firebase ID token whose `platform_role` claim is `operator`, verified with firebase-admin.
 */
import type { Request } from '@google-cloud/functions-framework';
import { z } from 'zod';
import { forbidden, unauthenticated } from '../errors';
import { log } from '../logging';
import type { Services } from '../services';
import { firebaseAuth } from '../tenancy/identity';
import { DATABASE_ID, IDENTITY_TENANT_ID, onboardTenant } from '../tenancy/onboarding';
import { PROVIDERS } from '../tenancy/platform';
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
});

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
  return new Router().on('POST', '/v1/tenants', async ({ req, requestId }) => {
    await requireOperator(services, req, requestId);
    const body = OnboardBody.parse(req.body);
    const result = await onboardTenant(services, body);
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
      },
    };
  });
}
