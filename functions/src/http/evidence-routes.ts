/**
 * Evidence records, and the receipts and checkpoints a customer keeps to check the log without
 * trusting us.
 */
import { extractionReceipt, readEvidenceRecord, tenantCheckpoints } from '../ledger/tenant-proofs';
import { route } from './route';
import { AnyObject } from './views';

export const evidenceRoutes = [
  route({
    method: 'GET',
    pattern: '/v1/evidence/:id',
    auth: { scope: 'extractions:read' },
    summary: 'Read one evidence record',
    ok: [{ status: 200, schema: AnyObject, description: 'The evidence record' }],
    errors: [404],
    handle: async ({ services, tenant, params: { id } }) => ({
      status: 200,
      body: await readEvidenceRecord(services, tenant, id),
    }),
  }),

  route({
    method: 'GET',
    pattern: '/v1/extractions/:id/receipt',
    auth: { scope: 'extractions:read' },
    summary: 'Inclusion receipt of the extraction evidence in a signed seal',
    ok: [{ status: 200, schema: AnyObject, description: 'The receipt' }],
    errors: [404, 409],
    handle: async ({ services, tenant, params: { id } }) => ({
      status: 200,
      body: await extractionReceipt(services, tenant, id),
    }),
  }),

  route({
    method: 'GET',
    pattern: '/v1/evidence/checkpoints',
    auth: { scope: 'extractions:read' },
    summary: 'Signed seals of the tenant evidence log',
    ok: [{ status: 200, schema: AnyObject, description: 'Checkpoints' }],
    errors: [],
    handle: async ({ services, tenant }) => ({
      status: 200,
      body: await tenantCheckpoints(services, tenant),
    }),
  }),
];
