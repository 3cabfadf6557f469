/** `DELETE /v1/extractions/{id}`: erasure by crypto-shredding (extraction/erasure.ts). */
import { eraseExtraction } from '../extraction/erasure';
import { route } from './route';

export const erasureRoutes = [
  route({
    method: 'DELETE',
    pattern: '/v1/extractions/:id',
    auth: { scope: 'extractions:write' },
    summary: 'Erase an extraction: its original, raw response and result become unreadable',
    ok: [{ status: 204, description: 'Erased (also when it already was)' }],
    errors: [404],
    handle: async ({ services, tenant, actor, params: { id } }) => {
      await eraseExtraction(services, tenant, id, actor);
      return { status: 204, body: undefined };
    },
  }),
];
