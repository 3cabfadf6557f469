/** The customer API (`api` function): `/v1/...`. */
import type { Services } from '../services';
import { registerApiKeyRoutes } from './api-keys-routes';
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

  registerApiKeyRoutes(router, services);

  registerEvidenceRoutes(router, services);
  registerErasureRoutes(router, services);
  registerWebhookRoutes(router, services);
  return router;
}
