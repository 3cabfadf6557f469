/**
 * Erasure of one extraction by crypto-shredding: its data keys (document, raw response, result)
 * are deleted in one transaction with the removal of the result from the extraction and the
 * creation of an `erasure` evidence record; then the encrypted objects are deleted from the
 * documents bucket. Once the keys are gone nothing can decrypt the objects (nor any copy of
 * them) and the commitments in the evidence record can no longer confirm a guessed document,
 * while the evidence record itself stays intact and verifiable by hash.
 */
import { conflict, notFound } from '../errors';
import { dataKeyId, type ObjectRef } from '../crypto/envelope';
import type { Actor } from '../evidence/actor';
import { eventEvidenceId, recordEvent } from '../ledger/evidence-writer';
import { log } from '../logging';
import type { Services } from '../services';
import { parseGsUri } from '../storage/object-store';
import { COMMIT_TIME, isValidId } from '../tenancy/firestore';
import { DELETE_FIELD, type TenantProfile } from '../tenancy/platform';

export function erasureEvidenceId(extractionId: string): string {
  return eventEvidenceId('erasure', extractionId);
}

const ERASED_KINDS = ['document', 'response', 'result'] as const;

/** Why an extraction is erased: its owner asked (DELETE), or its retention ran out. */
export type ErasureReason = 'request' | 'retention';

export interface ErasureOutcome {
  extractionId: string;
  evidenceId: string;
  /** False when an earlier request erased it already (the objects are deleted again anyway). */
  erasedNow: boolean;
  objectsDeleted: number;
}

/**
 * Erases an extraction of `tenant`. Unknown ids and other tenants' ids are the same 404; a
 * queued or processing extraction is refused (409) because the worker may still be writing
 * under its keys; erasing twice succeeds twice.
 */
export async function eraseExtraction(
  services: Services,
  tenant: TenantProfile,
  extractionId: string,
  actor: Actor,
  reason: ErasureReason = 'request',
): Promise<ErasureOutcome> {
  if (!isValidId(extractionId)) throw notFound('extraction');
  const db = services.platform.tenantDb(tenant);
  const evidenceId = erasureEvidenceId(extractionId);
  const refs: ObjectRef[] = ERASED_KINDS.map((kind) => ({ kind, id: extractionId }));

  // Idempotency records name the extraction they created; those from before the extraction
  // carried `idempotencyKeyId` are found by that field (the record holds a fingerprint of the
  // request, so it goes with the content).
  const idempotencyRecords = (
    await db.list('idempotencyKeys', { where: [['extractionId', '==', extractionId]] })
  ).map((r) => r.id);
  const { erasedNow, objects } = await db.runTransaction(async (tx) => {
    const extraction = await tx.get('extractions', extractionId);
    if (!extraction) throw notFound('extraction');
    const keys = await Promise.all(refs.map((ref) => tx.get('dataKeys', dataKeyId(ref))));
    const document = await tx.get('documents', extractionId);
    const existing = await tx.get('evidence', evidenceId);
    const uris = new Set<string>();
    for (const key of keys) if (typeof key?.objectRef === 'string') uris.add(key.objectRef);
    if (typeof document?.ciphertextRef === 'string') uris.add(document.ciphertextRef);
    if (existing) return { erasedNow: false, objects: [...uris] };
    if (extraction.status === 'queued' || extraction.status === 'processing') {
      throw conflict(
        'extraction_in_progress',
        'the extraction is still being processed; erase it once it has succeeded or failed',
      );
    }
    const present = refs.filter((_, i) => keys[i] !== undefined).map(dataKeyId);
    for (const id of present) tx.delete('dataKeys', id);
    const named = extraction.idempotencyKeyId;
    for (const id of new Set([
      ...idempotencyRecords,
      ...(typeof named === 'string' ? [named] : []),
    ]))
      tx.delete('idempotencyKeys', id);
    // The customer's metadata and the document's description go with the content: only what
    // proves the erasure (ids, times, the evidence) stays.
    tx.update('extractions', extractionId, {
      result: DELETE_FIELD,
      resultCiphertext: DELETE_FIELD,
      metadata: DELETE_FIELD,
      idempotencyKeyId: DELETE_FIELD,
      erasedAt: COMMIT_TIME,
      updatedAt: COMMIT_TIME,
    });
    if (document) {
      tx.update('documents', extractionId, {
        payloadSha256: DELETE_FIELD,
        bytes: DELETE_FIELD,
        contentType: DELETE_FIELD,
        erasedAt: COMMIT_TIME,
      });
    }
    recordEvent(tx, {
      kind: 'erasure',
      key: extractionId,
      subject: { type: 'extraction', id: extractionId },
      details: {
        extractionId,
        evidenceId: typeof extraction.evidenceId === 'string' ? extraction.evidenceId : null,
        dataKeysDeleted: present,
        objectsDeleted: [...uris].sort(),
        reason,
      },
      actor,
    });
    return { erasedNow: true, objects: [...uris] };
  });

  // After the commit: if this fails, the objects are already unreadable (their keys are gone)
  // and a repeated DELETE removes them.
  for (const uri of objects) {
    const { bucket, name } = parseGsUri(uri);
    await services.objects.delete(bucket, name, { ignoreNotFound: true });
  }
  if (erasedNow) {
    log('extraction_erased', {
      tenantId: tenant.id,
      extractionId,
      evidenceId,
      objects: objects.length,
      reason,
    });
  }
  return { extractionId, evidenceId, erasedNow, objectsDeleted: objects.length };
}
