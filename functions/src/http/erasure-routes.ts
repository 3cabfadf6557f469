/** `DELETE /v1/extractions/{id}`: erasure by crypto-shredding (extraction/erasure.ts). */
import { eraseExtraction } from '../extraction/erasure';
import type { Services } from '../services';
import { requireScope } from '../tenancy/api-keys';
import { authenticate } from './auth';
import type { Router } from './router';

export function registerErasureRoutes(router: Router, services: Services): void {
  router.on('DELETE', '/v1/extractions/:id', async ({ req, params, requestId }) => {
    const { principal, tenant, actor } = await authenticate(services, req, requestId);
    requireScope(principal, 'extractions:write');
    await eraseExtraction(services, tenant, params.id ?? '', actor);
    return { status: 204, body: undefined };
  });
}
