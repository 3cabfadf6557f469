/**
 * Exports what the model saw beside a seal's records: for every extraction record of the batch,
 * the system prompt's text and the schema version's canonical JSON, each as
 * `{prefix}/{tenantId}/content/{sha256}` (the SHA-256 of the object's bytes, the hash the record
 * names; `evidence/content.ts`), create-only and Locked like the records. The bytes come from
 * the tenant's `content` collection, kept in the transaction that committed each record.
 *
 * Content-addressed, so an object that exists already holds these bytes (another seal named the
 * same prompt) or the run fails loudly. Records written before content was kept name no schema
 * hash and export nothing here.
 */
import { contentHashesOf, contentPath, checkContentFile } from '../evidence/content';
import type { EvidenceRecord } from '../evidence/record';
import type { Services } from '../services';
import type { TenantDb } from '../tenancy/firestore';

export async function exportRecordContent(
  services: Services,
  db: TenantDb,
  records: readonly EvidenceRecord[],
  retainUntil: Date,
): Promise<number> {
  const hashes = [...new Set(records.flatMap(contentHashesOf))];
  const bucket = services.config.AUDIT_BUCKET;
  let written = 0;
  for (const sha256 of hashes) {
    const kept = await db.get('content', sha256);
    if (typeof kept?.bytes !== 'string') {
      throw new Error(
        `content ${sha256} named by an evidence record is not kept: refusing to continue`,
      );
    }
    const bytes = Buffer.from(kept.bytes, 'utf8');
    const problem = checkContentFile(sha256, bytes);
    if (problem !== undefined) throw new Error(`${problem}: refusing to export it`);
    const name = contentPath(services.config.AUDIT_EXPORT_PREFIX, db.tenantId, sha256);
    try {
      await services.objects.putNew(bucket, name, bytes, {
        contentType: kept.type === 'schema' ? 'application/json' : 'text/plain; charset=utf-8',
        retainUntil,
        retentionMode: 'Locked',
      });
      written += 1;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 412) throw err;
      const existing = await services.objects.get(bucket, name);
      if (!existing.equals(bytes)) {
        throw new Error(`audit object ${name} exists with other content: refusing to continue`, {
          cause: err,
        });
      }
    }
  }
  return written;
}
