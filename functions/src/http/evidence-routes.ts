/**
 * Evidence records, and the receipts and checkpoints a customer keeps to check the log without
 * trusting us.
 */
import { notFound } from '../errors';
import {
  checkpointNote,
  CheckpointsQuery,
  consistencyBetween,
  ConsistencyQuery,
  extractionReceipt,
  readEvidenceRecord,
  tenantCheckpoints,
} from '../ledger/tenant-proofs';
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
    summary: 'Signed seals of the tenant evidence log, oldest first, one page at a time',
    query: CheckpointsQuery,
    ok: [{ status: 200, schema: AnyObject, description: 'Checkpoints and nextPageToken' }],
    errors: [400],
    handle: async ({ services, tenant, query }) => ({
      status: 200,
      body: await tenantCheckpoints(services, tenant, query),
    }),
  }),

  route({
    method: 'GET',
    pattern: '/v1/evidence/checkpoints/:seq',
    auth: { scope: 'extractions:read' },
    summary: 'The checkpoint of seal seq as a C2SP signed note (tlog-checkpoint)',
    ok: [{ status: 200, schema: AnyObject, description: '{seq, note}' }],
    errors: [404],
    handle: async ({ services, tenant, params: { seq } }) => {
      if (!/^[1-9][0-9]{0,14}$/.test(seq)) throw notFound('checkpoint');
      return { status: 200, body: await checkpointNote(services, tenant, Number(seq)) };
    },
  }),

  route({
    method: 'GET',
    pattern: '/v1/evidence/consistency',
    auth: { scope: 'extractions:read' },
    summary: 'RFC 6962 consistency proof between two seals (from <= to), built from tiles',
    query: ConsistencyQuery,
    ok: [{ status: 200, schema: AnyObject, description: 'Consistency document' }],
    errors: [400, 404, 409],
    handle: async ({ services, tenant, query }) => ({
      status: 200,
      body: await consistencyBetween(services, tenant, query.from, query.to),
    }),
  }),
];
