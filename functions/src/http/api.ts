/** The customer API (`api` function): `/v1/...`. */
import { notFound } from '../errors';
import { EvidenceRecordSchema } from '../evidence/record';
import type { Services } from '../services';
import { isValidId } from '../tenancy/firestore';
import { requireScope } from '../tenancy/api-keys';
import { registerApiKeyRoutes } from './api-keys-routes';
import { authenticate } from './auth';
import { registerEvidenceRoutes } from './evidence-routes';
import { registerErasureRoutes } from './erasure-routes';
import { registerExtractionRoutes } from './extractions-routes';
import { registerOpenApiRoute } from './openapi';
import { Router } from './router';
import { registerSchemaRoutes } from './schemas-routes';
import { registerWebhookRoutes } from './webhooks-routes';

export function createApiRouter(services: Services): Router {
  const router = new Router();

  router.on('GET', '/healthz', () => Promise.resolve({ status: 200, body: { ok: true } }));

  registerExtractionRoutes(router, services);
  registerSchemaRoutes(router, services);
  registerOpenApiRoute(router);

  router.on('GET', '/v1/evidence/:id', async ({ req, params, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'extractions:read');
    const id = params.id ?? '';
    const data = isValidId(id)
      ? await services.platform.tenantDb(tenant).get('evidence', id)
      : undefined;
    if (!data) throw notFound('evidence');
    return { status: 200, body: EvidenceRecordSchema.parse(data) };
  });

  registerApiKeyRoutes(router, services);

  registerEvidenceRoutes(router, services);
  registerErasureRoutes(router, services);
  registerWebhookRoutes(router, services);
  return router;
}
