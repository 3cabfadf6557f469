/** The customer API (`api` function): `/healthz` and `/v1/...`. */
import { z } from 'zod';
import type { Services } from '../services';
import { accessApiRoutes } from './access-routes';
import { apiKeyRoutes } from './api-keys-routes';
import { erasureRoutes } from './erasure-routes';
import { evidenceRoutes } from './evidence-routes';
import { extractionRoutes } from './extractions-routes';
import { openApiRoute } from './openapi';
import { route } from './route';
import { Router } from './router';
import { schemaRoutes } from './schemas-routes';
import { subprocessorNoticeRoutes } from './subprocessor-notices-routes';
import { webhookRoutes } from './webhooks-routes';
import { witnessRoutes } from './witness-routes';

const health = route({
  method: 'GET',
  pattern: '/healthz',
  auth: 'none',
  summary: 'Liveness',
  ok: [{ status: 200, schema: z.strictObject({ ok: z.boolean() }), description: 'Serving' }],
  errors: [],
  handle: () => Promise.resolve({ status: 200, body: { ok: true } }),
});

export function createApiRouter(services: Services): Router {
  const router = new Router(services);
  return router.add(
    health,
    ...extractionRoutes,
    ...schemaRoutes,
    openApiRoute(() => router.list()),
    ...apiKeyRoutes,
    ...evidenceRoutes,
    ...erasureRoutes,
    ...webhookRoutes,
    ...accessApiRoutes,
    ...witnessRoutes,
    ...subprocessorNoticeRoutes,
  );
}
