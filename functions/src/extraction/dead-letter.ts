/**
 * The end of the line for a poison message: one the worker threw on at every delivery (its
 * document object vanished out of band, the tenant's KEK is unreachable, ...) and that Pub/Sub
 * moved to the dead-letter topic after `maxDeliveryAttempts`. The extraction is marked `failed`
 * with `processing_failed` and the outcome announced, so nothing a customer submitted ever just
 * vanishes. Throws only when that write fails, so the dead-letter subscription retries it.
 */
import { log } from '../logging';
import type { Services } from '../services';
import { COMMIT_TIME } from '../tenancy/firestore';
import { publishExtractionEvent } from '../webhooks/events';
import type { ExtractionMessage } from './submit';

export type DeadLetterOutcome = 'marked_failed' | 'already_terminal' | 'unknown';

export async function handleDeadLetter(
  services: Services,
  message: ExtractionMessage,
  delivery: { messageId?: string | undefined; deliveryAttempt?: number | undefined } = {},
): Promise<DeadLetterOutcome> {
  const { tenantId, extractionId } = message;
  const tenant = await services.platform.getTenant(tenantId);
  if (!tenant) {
    log('extraction_dead_lettered', { tenantId, extractionId, outcome: 'unknown_tenant' });
    return 'unknown';
  }
  const db = services.platform.tenantDb(tenant);
  const outcome = await db.runTransaction(async (tx): Promise<DeadLetterOutcome> => {
    const current = await tx.get('extractions', extractionId);
    if (!current) return 'unknown';
    if (current.status === 'succeeded' || current.status === 'failed') return 'already_terminal';
    tx.update('extractions', extractionId, {
      status: 'failed',
      error: {
        code: 'processing_failed',
        message: 'the extraction could not be processed; it was not retried further',
      },
      updatedAt: COMMIT_TIME,
      completedAt: COMMIT_TIME,
    });
    return 'marked_failed';
  });
  log('extraction_dead_lettered', {
    tenantId,
    extractionId,
    outcome,
    messageId: delivery.messageId,
    deliveryAttempt: delivery.deliveryAttempt,
  });
  if (outcome === 'marked_failed') {
    log('extraction_failed', { tenantId, extractionId, code: 'processing_failed' });
    await publishExtractionEvent(services, { tenantId, extractionId, event: 'extraction.failed' });
  }
  return outcome;
}
