/** The customer API (`api` function): `/v1/...`. */
import { badRequest, notFound, unsupportedMediaType } from '../errors';
import { EvidenceRecordSchema } from '../evidence/record';
import { CreateExtractionBody, submitExtraction, toExtractionView } from '../extraction/submit';
import type { Services } from '../services';
import { isValidId } from '../tenancy/firestore';
import { requireScope } from '../tenancy/api-keys';
import { registerApiKeyRoutes } from './api-keys-routes';
import { authenticate } from './auth';
import { registerEvidenceRoutes } from './evidence-routes';
import { Router } from './router';
import { registerWebhookRoutes } from './webhooks-routes';

export function createApiRouter(services: Services): Router {
  const router = new Router();

  router.on('GET', '/healthz', () => Promise.resolve({ status: 200, body: { ok: true } }));

  router.on('POST', '/v1/extractions', async ({ req, requestId }) => {
    const { principal, tenant, actor } = await authenticate(services, req, requestId);
    requireScope(principal, 'extractions:write');
    if (!req.is('application/json'))
      throw unsupportedMediaType('send the request as application/json');
    if (req.body === null || typeof req.body !== 'object' || Buffer.isBuffer(req.body)) {
      throw badRequest('invalid_request', 'the request body must be a JSON object');
    }
    const body = CreateExtractionBody.parse(req.body);
    const view = await submitExtraction(services, tenant, actor, body);
    return { status: 202, body: view, headers: { Location: `/v1/extractions/${view.id}` } };
  });

  router.on('GET', '/v1/extractions/:id', async ({ req, params, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'extractions:read');
    const id = params.id ?? '';
    const data = isValidId(id)
      ? await services.platform.tenantDb(tenant).get('extractions', id)
      : undefined;
    if (!data) throw notFound('extraction');
    return { status: 200, body: toExtractionView(id, data) };
  });

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
  registerWebhookRoutes(router, services);
  return router;
}
