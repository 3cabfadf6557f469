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
import { requireScope } from '../tenancy/api-keys';
import { isValidId } from '../tenancy/firestore';
import { authenticate } from './auth';
import type { Router } from './router';

export function registerEvidenceRoutes(router: Router, services: Services): void {
  const publicKey = () => services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION);

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

  router.on('GET', '/v1/extractions/:id/receipt', async ({ req, params, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'extractions:read');
    const id = params.id ?? '';
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
    const receipt = buildReceipt(log, evidenceIdFor(id), await publicKey());
    if (!receipt) throw conflict('not_sealed', 'the evidence is not sealed yet; retry shortly');
    return { status: 200, body: receipt };
  });

  router.on('GET', '/v1/evidence/checkpoints', async ({ req, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'extractions:read');
    const docs = await services.platform
      .tenantDb(tenant)
      .list('seals', { orderBy: [['seal.seq', 'asc']] });
    return {
      status: 200,
      body: {
        tenantId: tenant.id,
        publicKeyPem: await publicKey(),
        checkpoints: docs.map((d) => SealSchema.parse(d.data.seal)),
      },
    };
  });
}
