/**
 * Every evidence record is written here: create-only, with its content hash, stamped with the
 * commit time of the write it belongs to. An event (an erasure, an offboarding, a key rotation,
 * a break-glass read) is recorded in the transaction of the change it records where there is
 * one, so the change and its evidence commit together or not at all.
 */
import type { Actor } from '../evidence/actor';
import {
  contentHash,
  type EventEvidenceBody,
  type EventKind,
  type EvidenceBody,
  type ExtractionEvidenceBody,
} from '../evidence/record';
import {
  COMMIT_TIME,
  timestampFromMillis,
  type TenantDb,
  type TenantTransaction,
} from '../tenancy/firestore';

/** An event before it becomes a record: the writer adds the id and the tenant. */
export interface EventEvidence {
  kind: EventKind;
  /** What makes the event unique in its tenant, so a retried workflow names the same record. */
  key: string;
  subject: EventEvidenceBody['subject'];
  details: EventEvidenceBody['details'];
  actor: Actor;
}

/** `ev_{kind}_{key}`: deterministic, so a second attempt can never write a second record. */
export function eventEvidenceId(kind: EventKind, key: string): string {
  return `ev_${kind}_${key}`;
}

/**
 * Days past the evidence retention before Firestore's TTL may delete a stored record or seal.
 * The sealer exports a record under a Locked retention of (seal time + the same retention), and
 * a record waits at most the seal lag before it is sealed: the margin covers that wait many
 * times over, so the Firestore copy never expires before the exported copy's lock ends.
 */
export const EXPIRY_MARGIN_DAYS = 30;

/**
 * When a record written at `now` may be deleted by the TTL policy (terraform/modules/firestore/
 * ttl.tf): a Firestore Timestamp, the only type a TTL policy acts on
 * (https://firebase.google.com/docs/firestore/ttl). Not part of the hashed content, like
 * `createdAt`.
 */
export function expiryTimestamp(
  retentionDays: number,
  now: number = Date.now(),
): ReturnType<typeof timestampFromMillis> {
  return timestampFromMillis(now + (retentionDays + EXPIRY_MARGIN_DAYS) * 86_400_000);
}

/**
 * The stored document of a record: its body, the content hash, the commit time, and (when the
 * tenant's evidence retention is known) its expiry.
 */
export function evidenceDocument(
  body: EvidenceBody,
  retentionDays?: number,
): Record<string, unknown> {
  return {
    ...body,
    contentSha256: contentHash(body),
    createdAt: COMMIT_TIME,
    ...(retentionDays === undefined ? {} : { expireAt: expiryTimestamp(retentionDays) }),
  };
}

function eventBody(tenantId: string, event: EventEvidence): EventEvidenceBody {
  return {
    id: eventEvidenceId(event.kind, event.key),
    tenantId,
    kind: event.kind,
    subject: event.subject,
    details: event.details,
    actor: event.actor,
  };
}

/** Records `event` in `tx`; the commit fails when its record exists already. */
export function recordEvent(tx: TenantTransaction, event: EventEvidence): EventEvidenceBody {
  const body = eventBody(tx.tenantId, event);
  tx.create('evidence', body.id, evidenceDocument(body, tx.evidenceRetentionDays));
  return body;
}

/**
 * Records `event` outside a transaction, where a resumed or concurrent run of the same workflow
 * may have recorded it first: false when it had, and the stored record is left as it was.
 */
export async function recordEventOnce(db: TenantDb, event: EventEvidence): Promise<boolean> {
  const body = eventBody(db.tenantId, event);
  return db.createIfAbsent('evidence', body.id, evidenceDocument(body, db.evidenceRetentionDays));
}

/** The evidence of one extraction, in the transaction that commits its result. */
export function recordExtraction(tx: TenantTransaction, body: ExtractionEvidenceBody): void {
  tx.create('evidence', body.id, evidenceDocument(body, tx.evidenceRetentionDays));
}
