/**
 * Notices to the platform's security channel: every break-glass request, approval, denial,
 * revocation and use (access/). They travel as reference-only messages on the notifications
 * topic, like extraction outcomes, so a request never waits on the channel and a failed delivery
 * is redelivered by Pub/Sub. The `notifier` logs each one (`security_notice`) and, when
 * `SECURITY_CHANNEL_URL` is set, POSTs it signed as webhooks are (`Provenant-Signature`, with
 * `SECURITY_CHANNEL_SECRET`). A notice carries ids, the ticket and the time: never content.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { errorFields, log } from '../logging';
import type { Services } from '../services';
import { DocId } from '../tenancy/firestore';
import { DeliveryPendingError, postSigned } from './notifier';
import { SIGNATURE_HEADER, signatureHeader } from './signature';

export const SECURITY_EVENTS = [
  'access.requested',
  'access.approved',
  'access.denied',
  'access.revoked',
  'access.used',
] as const;
export type SecurityEvent = (typeof SECURITY_EVENTS)[number];

export const SecurityNotice = z.strictObject({
  channel: z.literal('security'),
  event: z.enum(SECURITY_EVENTS),
  tenantId: DocId,
  requestId: DocId,
  /** Who acted: the requester, the approver, the engineer who read. */
  actorUid: z.string().min(1).max(128),
  ticket: z.string().max(64),
  /** The request's status after the event. */
  status: z.string().max(32),
  at: z.iso.datetime(),
  /** What was read (`extraction:ex_…`), for `access.used`. */
  resource: z.string().max(200).optional(),
});
export type SecurityNotice = z.infer<typeof SecurityNotice>;

/** The ids a log line may carry. */
function noticeFields(notice: SecurityNotice) {
  return {
    tenantId: notice.tenantId,
    requestId: notice.requestId,
    eventType: notice.event,
    uid: notice.actorUid,
    ticket: notice.ticket,
    status: notice.status,
    resource: notice.resource,
  };
}

/**
 * Publishes a notice. The change it announces is committed already, so a failure to publish is
 * logged (`security_notice_failed`, an ERROR an alert can page on) rather than undoing it.
 */
export async function publishSecurityNotice(
  services: Pick<Services, 'pubsub' | 'config'>,
  notice: Omit<SecurityNotice, 'channel'>,
): Promise<void> {
  const message = SecurityNotice.parse({ channel: 'security', ...notice });
  try {
    await services.pubsub
      .topic(services.config.NOTIFICATIONS_TOPIC)
      .publishMessage({ json: message });
  } catch (err) {
    log('security_notice_failed', {
      ...noticeFields(message),
      stage: 'publish',
      ...errorFields(err),
    });
  }
}

/** The notifier's side: log the notice, and deliver it to the channel when one is configured. */
export async function deliverSecurityNotice(
  services: Services,
  notice: SecurityNotice,
): Promise<'logged' | 'delivered'> {
  log('security_notice', noticeFields(notice));
  const { SECURITY_CHANNEL_URL: url, SECURITY_CHANNEL_SECRET: secret } = services.config;
  if (url === undefined || secret === undefined) return 'logged';
  // One id per notice, the same on every redelivery, so the channel can deduplicate.
  const id = `sec_${createHash('sha256').update(JSON.stringify(notice)).digest('hex').slice(0, 32)}`;
  const body = JSON.stringify({ id, type: notice.event, ...notice });
  const result = await postSigned(
    url,
    body,
    {
      'Content-Type': 'application/json',
      'User-Agent': 'Provenant-Security/1',
      'Provenant-Event-Id': id,
      'Provenant-Event-Type': notice.event,
      [SIGNATURE_HEADER]: signatureHeader(secret, Math.floor(Date.now() / 1000), body),
    },
    {
      policy: { allowLoopback: services.config.WEBHOOK_ALLOW_LOOPBACK },
      timeoutMs: services.config.WEBHOOK_TIMEOUT_MS,
    },
  );
  if (result.outcome === 'delivered') return 'delivered';
  log('security_notice_failed', {
    ...noticeFields(notice),
    stage: 'deliver',
    outcome: result.outcome,
    httpStatus: result.httpStatus,
  });
  throw new DeliveryPendingError(`security notice ${id} not yet delivered`);
}
