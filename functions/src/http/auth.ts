import type { Request } from '@google-cloud/functions-framework';
import { forbidden, notFound, unauthenticated } from '../errors';
import { log } from '../logging';
import type { Services } from '../services';
import { verifyApiKey, type ApiKeyPrincipal } from '../tenancy/api-keys';
import type { TenantProfile } from '../tenancy/platform';

export interface AuthenticatedTenant {
  principal: ApiKeyPrincipal;
  tenant: TenantProfile;
}

/** Resolves `Authorization: Bearer pvn_...` to a principal and its (active) tenant. */
export async function authenticate(
  services: Services,
  req: Request,
  requestId: string,
): Promise<AuthenticatedTenant> {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) {
    log('auth_denied', { requestId, reason: header ? 'malformed_header' : 'missing_credentials' });
    throw unauthenticated('missing_credentials', 'send Authorization: Bearer <API key>');
  }
  const principal = await verifyApiKey(
    services.platform,
    services.config.API_KEY_PEPPER,
    match[1],
    new Date(),
    (reason, keyId) => {
      log('auth_denied', { requestId, reason, keyId });
    },
  );
  const tenant = await services.platform.getTenant(principal.tenantId);
  if (!tenant) throw notFound('tenant');
  if (tenant.status !== 'active') {
    log('auth_denied', {
      requestId,
      reason: 'tenant_inactive',
      keyId: principal.keyId,
      tenantId: tenant.id,
    });
    throw forbidden('tenant_inactive', 'this tenant is not active');
  }
  return { principal, tenant };
}
