/**
 * Evidence records, and the receipts and checkpoints a customer keeps to check the log without
 * trusting us.
 */
import { conflict, notFound } from '../errors';
import { buildReceipt, loadTenantLog } from '../evidence/receipts';
import { EvidenceRecordSchema, evidenceIdFor } from '../evidence/record';
import { SealSchema } from '../evidence/seal';
import type { Services } from '../services';
import { bucketSource } from '../storage/bucket-source';
import { isValidId } from '../tenancy/firestore';
import { route } from './route';
import { AnyObject } from './views';

const publicKey = (services: Services) =>
  services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION);

export const evidenceRoutes = [
  route({
    method: 'GET',
    pattern: '/v1/evidence/:id',
    auth: { scope: 'extractions:read' },
    summary: 'Read one evidence record',
    ok: [{ status: 200, schema: AnyObject, description: 'The evidence record' }],
    errors: [404],
    handle: async ({ services, tenant, params: { id } }) => {
      const data = isValidId(id)
        ? await services.platform.tenantDb(tenant).get('evidence', id)
        : undefined;
      if (!data) throw notFound('evidence');
      return { status: 200, body: EvidenceRecordSchema.parse(data) };
    },
  }),

  route({
    method: 'GET',
    pattern: '/v1/extractions/:id/receipt',
    auth: { scope: 'extractions:read' },
    summary: 'Inclusion receipt of the extraction evidence in a signed seal',
    ok: [{ status: 200, schema: AnyObject, description: 'The receipt' }],
    errors: [404, 409],
    handle: async ({ services, tenant, params: { id } }) => {
      const db = services.platform.tenantDb(tenant);
      const extraction = isValidId(id) ? await db.get('extractions', id) : undefined;
      if (!extraction) throw notFound('extraction');
      if (extraction.status !== 'succeeded') {
        throw conflict('not_sealed', 'the extraction has no sealed evidence yet');
      }
      const source = bucketSource(
        services.objects,
        services.config.AUDIT_BUCKET,
        services.config.AUDIT_EXPORT_PREFIX,
        { under: tenant.id },
      );
      const log = await loadTenantLog(source, tenant.id);
      const receipt = buildReceipt(log, evidenceIdFor(id), await publicKey(services));
      if (!receipt) throw conflict('not_sealed', 'the evidence is not sealed yet; retry shortly');
      return { status: 200, body: receipt };
    },
  }),

  route({
    method: 'GET',
    pattern: '/v1/evidence/checkpoints',
    auth: { scope: 'extractions:read' },
    summary: 'Signed seals of the tenant evidence log',
    ok: [{ status: 200, schema: AnyObject, description: 'Checkpoints' }],
    errors: [],
    handle: async ({ services, tenant }) => {
      const docs = await services.platform
        .tenantDb(tenant)
        .list('seals', { orderBy: [['seal.seq', 'asc']] });
      return {
        status: 200,
        body: {
          tenantId: tenant.id,
          publicKeyPem: await publicKey(services),
          checkpoints: docs.map((d) => SealSchema.parse(d.data.seal)),
        },
      };
    },
  }),
];
