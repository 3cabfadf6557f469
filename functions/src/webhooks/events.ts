/**
 * Extraction outcomes as events: the worker (and the dead-letter worker) publishes a
 * reference-only message to the notifications topic; the notifier turns it into signed
 * webhook deliveries. The message and the event carry ids and a status, never content.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { unbatchedTopic, type Services } from '../services';
import { DocId } from '../tenancy/firestore';

export const WEBHOOK_EVENTS = ['extraction.succeeded', 'extraction.failed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export const NotificationMessage = z.strictObject({
  tenantId: DocId,
  extractionId: DocId,
  event: z.enum(WEBHOOK_EVENTS),
});
export type NotificationMessage = z.infer<typeof NotificationMessage>;

/** The body a webhook endpoint receives. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  data: { extractionId: string; status: string; evidenceId?: string };
}

/**
 * One id per (tenant, extraction, event type): every redelivery of the same outcome is the same
 * event, so receivers can deduplicate on it.
 */
export function webhookEventId(message: NotificationMessage): string {
  const digest = createHash('sha256')
    .update(`${message.tenantId}\u0000${message.extractionId}\u0000${message.event}`)
    .digest('hex');
  return `evt_${digest.slice(0, 32)}`;
}

/** Publishes the outcome; a failure propagates, so the caller's message is redelivered. */
export async function publishExtractionEvent(
  services: Pick<Services, 'pubsub' | 'config'>,
  message: NotificationMessage,
): Promise<void> {
  await unbatchedTopic(services, services.config.NOTIFICATIONS_TOPIC).publishMessage({
    json: NotificationMessage.parse(message),
  });
}
