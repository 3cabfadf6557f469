/**
 * Sub-processor notices, the customer's side: a tenant subscribes addresses (confirmed by a
 * mailed link whose token is stored only as its hash), every confirmed address of every active
 * tenant is mailed each notice, and each delivery is recorded once per (notice, subscription)
 * as `subprocessor_notice` evidence in that tenant's log, so "we notified every customer 30
 * days ahead" is provable from the sealed export. A tenant objects inside the notice's window
 * (`subprocessor_objection`, in the same transaction as the stored objection).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Actor } from '../evidence/actor';
import { eventEvidenceId, recordEvent, recordEventOnce } from '../ledger/evidence-writer';
import { AppError, conflict, notFound } from '../errors';
import { errorFields, log } from '../logging';
import type { Services } from '../services';
import {
  objectionWindowOpen,
  renderConfirmationMail,
  renderNoticeMail,
  type SubprocessorNotice,
} from '../subprocessors/notices';
import { dayOf } from '../subprocessors/registry';
import { COMMIT_TIME, DocId, type TenantDb } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';
import { noticeMailer, NoticesUnavailableError, type Mailer } from './mailer';

/** What the notifier receives on the notifications topic for a notice to deliver. */
export const SubprocessorNoticeMessage = z.strictObject({
  channel: z.literal('subprocessor-notice'),
  noticeId: z.string().regex(/^spn_[0-9a-f]{32}$/),
});
export type SubprocessorNoticeMessage = z.infer<typeof SubprocessorNoticeMessage>;

export const SUBSCRIPTION_STATUSES = ['pending', 'confirmed'] as const;

const SubscriptionRecord = z.object({
  email: z.string(),
  /** The address lower-cased, to find a second subscription of the same address. */
  emailKey: z.string(),
  status: z.enum(SUBSCRIPTION_STATUSES),
  /** SHA-256 of the confirmation token; the token itself is only in the mail. */
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /**
   * Key of the recipient's hash in delivery evidence (HMAC-SHA256(salt, address)). Revealing
   * it proves which address a sealed record names; deleting the subscription deletes it, and
   * the sealed hashes then name nobody.
   */
  recipientSalt: z.string(),
  createdBy: z.string(),
  createdAt: z.string().optional(),
  confirmedAt: z.string().nullable().optional(),
  /** When the last confirmation link was mailed (ISO), to throttle re-sends. */
  mailedAt: z.string().optional(),
});
type SubscriptionRecord = z.infer<typeof SubscriptionRecord>;

export interface SubscriptionView {
  id: string;
  email: string;
  status: (typeof SUBSCRIPTION_STATUSES)[number];
  createdAt: string | null;
  confirmedAt: string | null;
}

/** Confirmation tokens: 32 random bytes, base64url (43 characters). */
export const ConfirmationToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a confirmation token');

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The recipient as delivery evidence names it: never the address itself. */
export function recipientSha256(salt: string, emailKey: string): string {
  return createHmac('sha256', Buffer.from(salt, 'base64url')).update(emailKey).digest('hex');
}

function view(id: string, record: SubscriptionRecord): SubscriptionView {
  return {
    id,
    email: record.email,
    status: record.status,
    createdAt: record.createdAt ?? null,
    confirmedAt: record.confirmedAt ?? null,
  };
}

function mailerOf(services: Services): Mailer {
  const { config } = services;
  if (!config.SMTP_URL || !config.PUBLIC_API_URL) {
    throw new NoticesUnavailableError('notice mail is not configured (SMTP_URL)');
  }
  return noticeMailer(config);
}

function apiUrl(services: Services, pathAndQuery: string): string {
  return `${(services.config.PUBLIC_API_URL ?? '').replace(/\/+$/, '')}${pathAndQuery}`;
}

async function readSubscriptions(
  db: TenantDb,
): Promise<{ id: string; record: SubscriptionRecord }[]> {
  const rows = await db.list('subprocessorSubscriptions');
  return rows.map(({ id, data }) => ({ id, record: SubscriptionRecord.parse(data) }));
}

/**
 * Addresses per tenant. Subscribing mails an address the caller names through our relay, so
 * the relay is not a way to mail anyone at will: a bounded list, and one link per address per
 * `RESEND_AFTER_MS`.
 */
export const MAX_SUBSCRIPTIONS_PER_TENANT = 20;
export const RESEND_AFTER_MS = 10 * 60 * 1000;

/**
 * Subscribes `email` for `tenant` and mails the confirmation link. An address already
 * confirmed is left as it is (no mail); a pending one gets a new token (the old link stops
 * working) and a new mail, unless its last link went out less than `RESEND_AFTER_MS` ago
 * (then nothing changes and nothing is mailed). A tenant has at most
 * `MAX_SUBSCRIPTIONS_PER_TENANT` addresses (409 `subscription_limit`).
 */
export async function subscribe(
  services: Services,
  tenant: TenantProfile,
  email: string,
  actor: Actor,
): Promise<{ subscription: SubscriptionView; mailed: boolean }> {
  const mailer = mailerOf(services);
  const db = services.platform.tenantDb(tenant);
  const emailKey = email.toLowerCase();
  const all = await readSubscriptions(db);
  const existing = all.find((s) => s.record.emailKey === emailKey);
  if (existing?.record.status === 'confirmed') {
    return { subscription: view(existing.id, existing.record), mailed: false };
  }
  const now = new Date();
  if (
    existing?.record.mailedAt !== undefined &&
    now.getTime() - Date.parse(existing.record.mailedAt) < RESEND_AFTER_MS
  ) {
    return { subscription: view(existing.id, existing.record), mailed: false };
  }
  if (!existing && all.length >= MAX_SUBSCRIPTIONS_PER_TENANT) {
    throw conflict(
      'subscription_limit',
      `a tenant has at most ${String(MAX_SUBSCRIPTIONS_PER_TENANT)} notice subscriptions`,
    );
  }
  const token = randomBytes(32).toString('base64url');
  const mailedAt = now.toISOString();
  let id: string;
  if (existing) {
    id = existing.id;
    await db.update('subprocessorSubscriptions', id, { tokenSha256: sha256(token), mailedAt });
  } else {
    id = `sub_${randomBytes(12).toString('hex')}`;
    await db.create('subprocessorSubscriptions', id, {
      email,
      emailKey,
      status: 'pending',
      tokenSha256: sha256(token),
      recipientSalt: randomBytes(32).toString('base64url'),
      createdBy: `${actor.kind}:${actor.id}`,
      createdAt: COMMIT_TIME,
      confirmedAt: null,
      mailedAt,
    });
  }
  const link = apiUrl(
    services,
    `/v1/subprocessor-notices/subscriptions/${id}/confirm?tenant=${encodeURIComponent(tenant.id)}&token=${token}`,
  );
  await mailer.send({ to: email, ...renderConfirmationMail(link) });
  const stored = SubscriptionRecord.parse(await db.get('subprocessorSubscriptions', id));
  return { subscription: view(id, stored), mailed: true };
}

/**
 * Confirms a subscription from its mailed link. An unknown tenant, an unknown subscription and
 * a wrong token answer alike (404), so the link's parts cannot be probed one at a time.
 */
export async function confirmSubscription(
  services: Services,
  tenantId: string,
  subscriptionId: string,
  token: string,
): Promise<SubscriptionView> {
  const tenant = await services.platform.getTenant(tenantId);
  if (!tenant || tenant.status !== 'active') throw notFound('subscription');
  const db = services.platform.tenantDb(tenant);
  return db.runTransaction(async (tx) => {
    const data = await tx.get('subprocessorSubscriptions', subscriptionId);
    if (!data) throw notFound('subscription');
    const record = SubscriptionRecord.parse(data);
    const given = Buffer.from(sha256(token), 'hex');
    if (!timingSafeEqual(given, Buffer.from(record.tokenSha256, 'hex'))) {
      throw notFound('subscription');
    }
    if (record.status === 'confirmed') return view(subscriptionId, record);
    const confirmedAt = new Date().toISOString();
    tx.update('subprocessorSubscriptions', subscriptionId, { status: 'confirmed', confirmedAt });
    return view(subscriptionId, { ...record, status: 'confirmed', confirmedAt });
  });
}

export async function listSubscriptions(
  services: Services,
  tenant: TenantProfile,
): Promise<SubscriptionView[]> {
  const rows = await readSubscriptions(services.platform.tenantDb(tenant));
  return rows
    .map(({ id, record }) => view(id, record))
    .sort(
      (a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.id.localeCompare(b.id),
    );
}

/** Deletes the subscription (its address and salt with it); false when the tenant has none such. */
export async function deleteSubscription(
  services: Services,
  tenant: TenantProfile,
  subscriptionId: string,
): Promise<boolean> {
  if (!DocId.safeParse(subscriptionId).success) return false;
  const db = services.platform.tenantDb(tenant);
  if (!(await db.get('subprocessorSubscriptions', subscriptionId))) return false;
  await db.delete('subprocessorSubscriptions', subscriptionId);
  return true;
}

export const NOTIFIER_ACTOR: Actor = { kind: 'service', id: 'notifier' };

/** Thrown so Pub/Sub redelivers the notice; addresses already served are skipped then. */
export class NoticeDeliveryPendingError extends Error {
  override readonly name = 'NoticeDeliveryPendingError';
}

export interface NoticeDeliveryCounts {
  delivered: number;
  skipped: number;
  failed: number;
}

/** The evidence key of one delivery: once per (notice, subscription), whatever the retries. */
export function deliveryKey(noticeId: string, subscriptionId: string): string {
  return `${noticeId}_${subscriptionId}`;
}

/**
 * Mails notice `noticeId` to every confirmed address of every active tenant, recording each
 * delivery in that tenant's log. At least once: a crash between the relay's acceptance and the
 * record mails the address again on redelivery, and the record is still written once. Throws
 * `NoticeDeliveryPendingError` while an address failed, so the message is redelivered.
 */
export async function deliverSubprocessorNotice(
  services: Services,
  message: SubprocessorNoticeMessage,
  mailer: Mailer = mailerOf(services),
): Promise<NoticeDeliveryCounts> {
  const counts: NoticeDeliveryCounts = { delivered: 0, skipped: 0, failed: 0 };
  const notice = await services.platform.getSubprocessorNotice(message.noticeId);
  if (!notice) {
    log('subprocessor_notice_failed', { noticeId: message.noticeId, reason: 'unknown_notice' });
    return counts;
  }
  const mail = renderNoticeMail(notice, {
    trustPage: services.config.TRUST_PAGE_URL,
    objectionsUrl: apiUrl(services, `/v1/subprocessor-notices/${notice.id}/objections`),
  });
  for (const tenant of await services.platform.listTenants()) {
    if (tenant.status !== 'active') continue;
    const db = services.platform.tenantDb(tenant);
    const confirmed = (await readSubscriptions(db)).filter((s) => s.record.status === 'confirmed');
    for (const sub of confirmed) {
      const key = deliveryKey(notice.id, sub.id);
      if (await db.get('evidence', eventEvidenceId('subprocessor_notice', key))) {
        counts.skipped++;
        continue;
      }
      const fields = { tenantId: tenant.id, noticeId: notice.id, subscriptionId: sub.id };
      try {
        const sent = await mailer.send({ to: sub.record.email, ...mail });
        await recordEventOnce(db, {
          kind: 'subprocessor_notice',
          key,
          subject: { type: 'subprocessor_notice', id: notice.id },
          details: {
            noticeId: notice.id,
            changeSetSha256: notice.changeSetSha256,
            announcedOn: notice.announcedOn,
            effectiveDates: notice.effectiveDates,
            objectionWindowClosesOn: notice.objectionWindowClosesOn,
            vendorIds: notice.vendorIds,
            subscriptionId: sub.id,
            recipientSha256: recipientSha256(sub.record.recipientSalt, sub.record.emailKey),
            smtpMessageId: sent.messageId,
            relayResponse: sent.relayResponse,
          },
          actor: NOTIFIER_ACTOR,
        });
        counts.delivered++;
        log('subprocessor_notice_delivered', fields);
      } catch (err) {
        counts.failed++;
        log('subprocessor_notice_failed', {
          ...fields,
          reason: 'send_failed',
          ...errorFields(err),
        });
      }
    }
  }
  if (counts.failed > 0) {
    throw new NoticeDeliveryPendingError(
      `${String(counts.failed)} address(es) not yet reached for ${notice.id}`,
    );
  }
  return counts;
}

/** An objection after the notice's window closed: the change applies, it can no longer be. */
export class ObjectionWindowClosedError extends AppError {
  override readonly name = 'ObjectionWindowClosedError';
  constructor(notice: SubprocessorNotice, day: string) {
    super(
      409,
      'objection_window_closed',
      `the objection window of ${notice.id} closed on ${notice.objectionWindowClosesOn} (today is ${day})`,
      { noticeId: notice.id, closedOn: notice.objectionWindowClosesOn },
    );
  }
}

export interface ObjectionView {
  noticeId: string;
  evidenceId: string;
  /** False when the tenant had objected to this notice already (that objection stands). */
  created: boolean;
}

/**
 * Records the tenant's objection to `noticeId`, once per notice: the stored objection and its
 * `subprocessor_objection` evidence commit together. Refused for an unknown notice (404) and
 * from the day its window closes (409 `objection_window_closed`).
 */
export async function objectToNotice(
  services: Services,
  tenant: TenantProfile,
  noticeId: string,
  reason: string | undefined,
  actor: Actor,
  now: Date = new Date(),
): Promise<ObjectionView> {
  const notice = await services.platform.getSubprocessorNotice(noticeId);
  if (!notice) throw notFound('notice');
  const day = dayOf(now);
  if (!objectionWindowOpen(notice, day)) throw new ObjectionWindowClosedError(notice, day);
  const db = services.platform.tenantDb(tenant);
  const evidenceId = eventEvidenceId('subprocessor_objection', notice.id);
  const created = await db.runTransaction(async (tx) => {
    if (await tx.get('subprocessorObjections', notice.id)) return false;
    tx.create('subprocessorObjections', notice.id, {
      noticeId: notice.id,
      reason: reason ?? null,
      createdBy: `${actor.kind}:${actor.id}`,
      createdAt: COMMIT_TIME,
    });
    recordEvent(tx, {
      kind: 'subprocessor_objection',
      key: notice.id,
      subject: { type: 'subprocessor_notice', id: notice.id },
      details: {
        noticeId: notice.id,
        changeSetSha256: notice.changeSetSha256,
        vendorIds: notice.vendorIds,
        objectionWindowClosesOn: notice.objectionWindowClosesOn,
        objectedOn: day,
        // The customer's words stay in their database; the log commits to them.
        reasonSha256: reason === undefined ? null : sha256(reason),
      },
      actor,
    });
    return true;
  });
  if (created) log('subprocessor_objection_recorded', { tenantId: tenant.id, noticeId: notice.id });
  return { noticeId: notice.id, evidenceId, created };
}

/** Publishes notice `noticeId` for the notifier to deliver. */
export async function publishNotice(services: Services, noticeId: string): Promise<void> {
  await services.pubsub.topic(services.config.NOTIFICATIONS_TOPIC).publishMessage({
    json: SubprocessorNoticeMessage.parse({ channel: 'subprocessor-notice', noticeId }),
  });
}

/**
 * Stores `notice` (create-only; its id is its change set's hash) and publishes it for delivery.
 * A notice stored already is published again: delivery skips every address already served, so
 * a rerun after a failed publish reaches those the first run did not.
 */
export async function announceNotice(
  services: Services,
  notice: SubprocessorNotice,
): Promise<{ created: boolean }> {
  const created = await services.platform.createSubprocessorNotice(notice);
  await publishNotice(services, notice.id);
  log('subprocessor_notice_announced', {
    noticeId: notice.id,
    created,
    vendors: notice.vendorIds.join(','),
  });
  return { created };
}
