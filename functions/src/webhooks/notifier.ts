/**
 * The `notifier`'s unit of work: one extraction outcome → one signed POST to each of the
 * tenant's endpoints subscribed to it. Every attempt is a create-only record in
 * `tenants/{t}/webhookDeliveries`. A few quick retries happen in-function; an endpoint still
 * failing makes the function throw, so Pub/Sub redelivers later (with its retry policy) and
 * endpoints already served are skipped; after `WEBHOOK_MAX_ATTEMPTS` attempts in all, the
 * delivery is abandoned and logged. Delivery is at-least-once: receivers deduplicate on the
 * event id, which is the same for every attempt.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs, parseRetryAfter } from '../util/backoff';
import { log } from '../logging';
import type { Services } from '../services';
import { COMMIT_TIME } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';
import { webhookEventId, type NotificationMessage, type WebhookEvent } from './events';
import { SIGNATURE_HEADER, signatureHeader } from './signature';
import {
  checkUrlSyntax,
  guardedLookup,
  systemResolver,
  WebhookUrlError,
  type Resolver,
  type UrlPolicy,
} from './ssrf';
import { listWebhooks, openWebhookSecret, type WebhookRecord } from './store';

/** Attempts per endpoint within one invocation, before leaving the rest to redelivery. */
const IN_FUNCTION_ATTEMPTS = 3;
const RETRY_POLICY = { baseMs: 500, maxMs: 4000, retryAfterCapMs: 4000 };
const MAX_RESPONSE_BYTES = 64 * 1024;

export type DeliveryOutcome = 'delivered' | 'http_error' | 'timeout' | 'network_error' | 'blocked';

export interface PostResult {
  outcome: DeliveryOutcome;
  httpStatus: number | null;
  retryAfterMs: number | null;
}

/** Thrown so Pub/Sub redelivers the notification; its message names no endpoint. */
export class DeliveryPendingError extends Error {
  override readonly name = 'DeliveryPendingError';
}

/**
 * One POST, never following redirects, connecting only to an address the SSRF guard accepted
 * in the same DNS resolution (IP literals are checked before the request).
 */
export function postSigned(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  options: { policy: UrlPolicy; timeoutMs: number; resolver?: Resolver },
): Promise<PostResult> {
  let url: URL;
  try {
    url = checkUrlSyntax(rawUrl, options.policy).url;
  } catch (err) {
    if (err instanceof WebhookUrlError)
      return Promise.resolve({ outcome: 'blocked', httpStatus: null, retryAfterMs: null });
    throw err;
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    // `timeout` below is an idle timeout: an endpoint trickling a byte at a time never trips
    // it. The whole delivery (connect, send, answer) also ends at this deadline.
    const deadline = setTimeout(() => {
      finish({ outcome: 'timeout', httpStatus: null, retryAfterMs: null });
      req.destroy();
    }, options.timeoutMs);
    const finish = (result: PostResult) => {
      clearTimeout(deadline);
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        lookup: guardedLookup(options.policy, options.resolver ?? systemResolver),
        timeout: options.timeoutMs,
      },
      (res) => {
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) res.destroy();
        });
        const done = () => {
          const status = res.statusCode ?? 0;
          finish({
            outcome: status >= 200 && status < 300 ? 'delivered' : 'http_error',
            httpStatus: status,
            retryAfterMs: parseRetryAfter((h) => {
              const v = res.headers[h];
              return Array.isArray(v) ? v[0] : v;
            }),
          });
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    req.on('timeout', () => {
      finish({ outcome: 'timeout', httpStatus: null, retryAfterMs: null });
      req.destroy();
    });
    req.on('error', (err) => {
      finish({
        outcome: err instanceof WebhookUrlError ? 'blocked' : 'network_error',
        httpStatus: null,
        retryAfterMs: null,
      });
    });
    req.end(body);
  });
}

/**
 * A notification's ids for a log line. Its `event` is named `eventType` there: spread as is, it
 * overwrote the log line's own `event` (the log event's name).
 */
export function notificationFields(message: NotificationMessage) {
  return {
    tenantId: message.tenantId,
    extractionId: message.extractionId,
    eventType: message.event,
  };
}

/** The event a message announces, from the extraction as stored (the source of truth). */
async function buildEvent(
  services: Services,
  tenant: TenantProfile,
  message: NotificationMessage,
): Promise<{ event: WebhookEvent; onlyUrl: string | undefined } | undefined> {
  const extraction = await services.platform
    .tenantDb(tenant)
    .get('extractions', message.extractionId);
  if (!extraction) return undefined;
  const status = String(extraction.status);
  const expected = message.event === 'extraction.succeeded' ? 'succeeded' : 'failed';
  if (status !== expected) return undefined;
  const completedAt =
    typeof extraction.completedAt === 'string' ? extraction.completedAt : new Date().toISOString();
  return {
    event: {
      id: webhookEventId(message),
      type: message.event,
      createdAt: completedAt,
      data: {
        extractionId: message.extractionId,
        status,
        ...(typeof extraction.evidenceId === 'string' ? { evidenceId: extraction.evidenceId } : {}),
      },
    },
    // A request that named its endpoint (`webhookUrl`) is announced there only.
    onlyUrl: typeof extraction.webhookUrl === 'string' ? extraction.webhookUrl : undefined,
  };
}

type EndpointResult = 'delivered' | 'skipped' | 'blocked' | 'pending' | 'abandoned';

async function deliverToEndpoint(
  services: Services,
  tenant: TenantProfile,
  webhook: { id: string; record: WebhookRecord },
  event: WebhookEvent,
  body: string,
  resolver: Resolver | undefined,
): Promise<EndpointResult> {
  const db = services.platform.tenantDb(tenant);
  const { config } = services;
  const fields = { tenantId: tenant.id, webhookId: webhook.id, eventId: event.id };
  const prior = await db.list('webhookDeliveries', {
    where: [
      ['eventId', '==', event.id],
      ['webhookId', '==', webhook.id],
    ],
  });
  if (prior.some((p) => p.data.outcome === 'delivered')) return 'skipped';
  if (prior.some((p) => p.data.outcome === 'blocked')) return 'blocked';
  let made = prior.length;
  if (made >= config.WEBHOOK_MAX_ATTEMPTS) return 'abandoned';
  const secret = await openWebhookSecret(services, tenant, webhook.id, webhook.record);
  const policy = { allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK };
  for (let i = 0; i < IN_FUNCTION_ATTEMPTS && made < config.WEBHOOK_MAX_ATTEMPTS; i++) {
    const started = Date.now();
    const timestamp = Math.floor(Date.now() / 1000);
    const result = await postSigned(
      webhook.record.url,
      body,
      {
        'Content-Type': 'application/json',
        'User-Agent': 'Provenant-Webhooks/1',
        'Provenant-Event-Id': event.id,
        'Provenant-Event-Type': event.type,
        [SIGNATURE_HEADER]: signatureHeader(secret, timestamp, body),
      },
      { policy, timeoutMs: config.WEBHOOK_TIMEOUT_MS, ...(resolver ? { resolver } : {}) },
    );
    made++;
    await db.create('webhookDeliveries', `wd_${randomBytes(12).toString('hex')}`, {
      webhookId: webhook.id,
      eventId: event.id,
      eventType: event.type,
      extractionId: event.data.extractionId,
      attempt: made,
      outcome: result.outcome,
      httpStatus: result.httpStatus,
      latencyMs: Date.now() - started,
      createdAt: COMMIT_TIME,
    });
    if (result.outcome === 'delivered') {
      log('webhook_delivered', { ...fields, attempt: made, httpStatus: result.httpStatus });
      return 'delivered';
    }
    log('webhook_delivery_failed', {
      ...fields,
      attempt: made,
      outcome: result.outcome,
      httpStatus: result.httpStatus,
    });
    if (result.outcome === 'blocked') return 'blocked';
    if (i + 1 < IN_FUNCTION_ATTEMPTS && made < config.WEBHOOK_MAX_ATTEMPTS)
      await sleep(backoffDelayMs(i, result.retryAfterMs, RETRY_POLICY));
  }
  if (made >= config.WEBHOOK_MAX_ATTEMPTS) {
    log('webhook_delivery_abandoned', { ...fields, attempts: made });
    return 'abandoned';
  }
  return 'pending';
}

/** Delivers one notification to every subscribed endpoint; throws while any is still pending. */
export async function deliverNotification(
  services: Services,
  message: NotificationMessage,
  resolver?: Resolver,
): Promise<Record<EndpointResult, number>> {
  const counts: Record<EndpointResult, number> = {
    delivered: 0,
    skipped: 0,
    blocked: 0,
    pending: 0,
    abandoned: 0,
  };
  const tenant = await services.platform.getTenant(message.tenantId);
  if (!tenant) {
    log('notifier_error', { ...notificationFields(message), reason: 'unknown_tenant' });
    return counts;
  }
  if (tenant.status !== 'active') {
    // Offboarded: nothing of the tenant leaves the platform any more, events included.
    log('notifier_error', { ...notificationFields(message), reason: 'tenant_offboarded' });
    return counts;
  }
  const built = await buildEvent(services, tenant, message);
  if (!built) {
    log('notifier_error', { ...notificationFields(message), reason: 'extraction_not_in_state' });
    return counts;
  }
  const { event, onlyUrl } = built;
  const webhooks = (await listWebhooks(services, tenant)).filter(
    (w) =>
      w.record.events.includes(event.type) && (onlyUrl === undefined || w.record.url === onlyUrl),
  );
  if (webhooks.length === 0) return counts;
  // The body is fixed once, so every attempt signs and sends the same bytes.
  const body = JSON.stringify(event);
  const results = await Promise.all(
    webhooks.map((w) => deliverToEndpoint(services, tenant, w, event, body, resolver)),
  );
  for (const r of results) counts[r]++;
  if (counts.pending > 0) {
    throw new DeliveryPendingError(
      `${String(counts.pending)} webhook endpoint(s) not yet reached for ${event.id}`,
    );
  }
  return counts;
}
