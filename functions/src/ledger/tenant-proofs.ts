/**
 * What a tenant reads to check its own evidence without trusting us: one record, the inclusion
 * receipt of an extraction's record in a signed seal (built from the exported log in the audit
 * bucket, as an auditor would), and every checkpoint (signed seal) with the public key.
 */
import { conflict, notFound } from '../errors';
import { buildReceipt, loadTenantLog, type Receipt } from '../evidence/receipts';
import { EvidenceRecordSchema, evidenceIdFor, type EvidenceRecord } from '../evidence/record';
import { SealSchema, type Seal } from '../evidence/seal';
import type { Services } from '../services';
import { bucketSource } from '../storage/bucket-source';
import { isValidId } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';

function sealingPublicKey(services: Services): Promise<string> {
  return services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION);
}

/** An evidence record of the tenant; unknown ids and other tenants' ids are the same 404. */
export async function readEvidenceRecord(
  services: Services,
  tenant: TenantProfile,
  id: string,
): Promise<EvidenceRecord> {
  const data = isValidId(id)
    ? await services.platform.tenantDb(tenant).get('evidence', id)
    : undefined;
  if (!data) throw notFound('evidence');
  return EvidenceRecordSchema.parse(data);
}

/** The receipt of an extraction's evidence; 409 `not_sealed` until a seal covers it. */
export async function extractionReceipt(
  services: Services,
  tenant: TenantProfile,
  extractionId: string,
): Promise<Receipt> {
  const db = services.platform.tenantDb(tenant);
  const extraction = isValidId(extractionId)
    ? await db.get('extractions', extractionId)
    : undefined;
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
  const receipt = buildReceipt(log, evidenceIdFor(extractionId), await sealingPublicKey(services));
  if (!receipt) throw conflict('not_sealed', 'the evidence is not sealed yet; retry shortly');
  return receipt;
}

export interface Checkpoints {
  tenantId: string;
  publicKeyPem: string;
  checkpoints: Seal[];
}

/** Every seal of the tenant's log, oldest first, with the key that signed them. */
export async function tenantCheckpoints(
  services: Services,
  tenant: TenantProfile,
): Promise<Checkpoints> {
  const docs = await services.platform
    .tenantDb(tenant)
    .list('seals', { orderBy: [['seal.seq', 'asc']] });
  return {
    tenantId: tenant.id,
    publicKeyPem: await sealingPublicKey(services),
    checkpoints: docs.map((d) => SealSchema.parse(d.data.seal)),
  };
}
