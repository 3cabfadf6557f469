/**
 * Re-queues extractions whose message is gone. An accepted extraction is owed exactly one
 * outcome, and its only way to the worker is one Pub/Sub message: when that message is lost (a
 * push the emulator never retries after a worker crash, a publish that succeeded but whose
 * subscription was recreated, an operator purge), the extraction would stay `queued` or
 * `processing` for good. The sealer's scheduled pass runs this sweep: an extraction that has not
 * moved for `STUCK_EXTRACTION_SECONDS` gets its message published again.
 *
 * Re-publishing is safe even when the extraction is genuinely still running: the worker skips a
 * finished extraction (pipeline.ts claimExtraction), and the result, its evidence record (under
 * an id derived from the extraction, create-only) and any terminal failure are committed in a
 * transaction that first reads the extraction and refuses a finished one (writeResult,
 * commitFailure). Two live runs therefore end in one result and one record; the loser deletes
 * its orphaned response object (test/e2e/pipeline-delivery.test.ts publishes one message three
 * times at once and counts one record).
 */
import { errorFields, log } from '../logging';
import type { Services } from '../services';
import { COMMIT_TIME, isoToTimestamp, type DocData, type TenantDb } from '../tenancy/firestore';
import type { ExtractionMessage } from './submit';

/** The statuses an extraction passes through before it is finished. */
export const UNFINISHED_STATUSES = ['queued', 'processing'] as const;
type Unfinished = (typeof UNFINISHED_STATUSES)[number];

/**
 * At most this many extractions are re-queued per pass, across tenants: a backlog (a worker
 * outage) is drained over several passes instead of flooding the topic the recovered worker
 * reads. The rest wait for the next pass (the scheduler's interval, terraform/.../fn-sealer.tf).
 */
export const MAX_REQUEUED_PER_PASS = 200;

/** Candidates read per tenant and status: a bound on one tenant's reads per pass. */
const PAGE = 100;

/** One extraction the sweep re-queued. */
export interface Requeued {
  tenantId: string;
  extractionId: string;
  status: Unfinished;
  stuckSeconds: number;
}

export interface SweepOutcome {
  tenants: number;
  requeued: Requeued[];
  /** Tenants whose sweep failed (logged as `sweep_failed`); the others were swept. */
  failedTenants: number;
}

/**
 * Seconds an unfinished extraction has not moved, or undefined when it is finished, has moved
 * within `thresholdSeconds` of `now`, or carries no readable `updatedAt`. Every status change
 * (accepted, claimed by a worker) stamps `updatedAt`, so an extraction a worker is working on
 * right now is not stuck until the worker has held it past the threshold.
 */
export function stuckSeconds(
  extraction: DocData,
  now: Date,
  thresholdSeconds: number,
): number | undefined {
  if (!(UNFINISHED_STATUSES as readonly unknown[]).includes(extraction.status)) return undefined;
  const updatedAt =
    typeof extraction.updatedAt === 'string' ? Date.parse(extraction.updatedAt) : Number.NaN;
  if (!Number.isFinite(updatedAt)) return undefined;
  const idle = (now.getTime() - updatedAt) / 1000;
  return idle >= thresholdSeconds ? Math.floor(idle) : undefined;
}

/**
 * Restarts the extraction's idle clock before its message is published again, unless it moved
 * since it was read (a worker claimed or finished it). Without the stamp, an extraction whose
 * new message waits behind a backlog would be published again on every pass, growing the
 * backlog it waits in; with it, once per threshold at most. A publish that fails after the
 * stamp is retried a threshold later. Only `updatedAt` is written: a status the worker commits
 * meanwhile is serialised against this transaction, never overwritten.
 */
async function stampRequeue(db: TenantDb, extractionId: string, read: DocData): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    const current = await tx.get('extractions', extractionId);
    if (!current || current.status !== read.status || current.updatedAt !== read.updatedAt)
      return false;
    tx.update('extractions', extractionId, { updatedAt: COMMIT_TIME });
    return true;
  });
}

/**
 * One sweep over every active tenant (offboarded tenants' extractions are dropped by the
 * worker anyway). A tenant whose sweep fails is logged and does not stop the others.
 */
export async function sweepStuckExtractions(
  services: Services,
  now: Date = new Date(),
): Promise<SweepOutcome> {
  const threshold = services.config.STUCK_EXTRACTION_SECONDS;
  // Submitted before the cutoff is necessary for stuck (updatedAt is never before submittedAt):
  // the query narrows on `submittedAt`, which the listing's composite index (status,
  // submittedAt desc) serves; `updatedAt` is deliberately not indexed (terraform/modules/
  // firestore/indexes.tf: its sequential writes would cap a tenant's write rate), so it is
  // checked on the documents read.
  const cutoff = isoToTimestamp(new Date(now.getTime() - threshold * 1000).toISOString());
  const tenants = (await services.platform.listTenants()).filter((t) => t.status === 'active');
  const requeued: Requeued[] = [];
  let failedTenants = 0;
  const topic = services.pubsub.topic(services.config.EXTRACTION_TOPIC);
  for (const tenant of tenants) {
    if (requeued.length >= MAX_REQUEUED_PER_PASS) break;
    try {
      const db = services.platform.tenantDb(tenant);
      for (const status of UNFINISHED_STATUSES) {
        const candidates = await db.list('extractions', {
          where: [
            ['status', '==', status],
            ['submittedAt', '<', cutoff],
          ],
          orderBy: [['submittedAt', 'desc']],
          limit: PAGE,
        });
        for (const { id, data } of candidates) {
          if (requeued.length >= MAX_REQUEUED_PER_PASS) break;
          const stuck = stuckSeconds(data, now, threshold);
          if (stuck === undefined) continue;
          if (!(await stampRequeue(db, id, data))) continue;
          const message: ExtractionMessage = { tenantId: tenant.id, extractionId: id };
          // The same message and attributes the API publishes (submit.ts).
          await topic.publishMessage({ json: message, attributes: { tenantId: tenant.id } });
          const entry = { tenantId: tenant.id, extractionId: id, status, stuckSeconds: stuck };
          log('extraction_requeued', { ...entry });
          requeued.push(entry);
        }
      }
    } catch (err) {
      failedTenants += 1;
      log('sweep_failed', { tenantId: tenant.id, ...errorFields(err) });
    }
  }
  return { tenants: tenants.length, requeued, failedTenants };
}
