/**
 * Registers every function with the functions framework. Only wiring lives here: each trigger
 * hands its input to a domain module together with the instance's services.
 */
import * as functions from '@google-cloud/functions-framework';
import { z } from 'zod';
import { ConfigError } from './config';
import { sealAllTenants } from './ledger/sealer';
import { handleDeadLetter } from './extraction/dead-letter';
import { processExtraction } from './extraction/pipeline';
import { sweepStuckExtractions } from './extraction/sweeper';
import { defaultRotationId, rotateKeks } from './lifecycle/key-rotation';
import { runRetention } from './lifecycle/retention';
import { ExtractionMessage } from './extraction/submit';
import { createApiRouter } from './http/api';
import { createOpsRouter } from './http/ops';
import { takeOverRequestBodies } from './http/request-body';
import { errorFields, log } from './logging';
import { getServices, type Services } from './services';
import type { Router } from './http/router';
import { NotificationMessage } from './webhooks/events';
import { deliverNotification, DeliveryPendingError, notificationFields } from './webhooks/notifier';
import { deliverSecurityNotice, SecurityNotice } from './webhooks/security-notice';
import {
  deliverSubprocessorNotice,
  SubprocessorNoticeMessage,
} from './webhooks/subprocessor-notices';

function lazyRouter(build: (services: Services) => Router) {
  let router: Router | undefined;
  return (req: functions.Request, res: functions.Response) => {
    router ??= build(getServices());
    return router.handle(req, res);
  };
}

function startupCheck(): void {
  try {
    getServices();
  } catch (err) {
    if (err instanceof ConfigError) log('config_invalid', { problems: err.problems.join('; ') });
    throw err;
  }
}

startupCheck();

// The HTTP functions read their own bodies, bounded and after authentication; the framework's
// parsers would inflate any body up to 1 GiB first (http/request-body.ts).
takeOverRequestBodies(['api', 'ops']);
functions.http('api', lazyRouter(createApiRouter));
functions.http('ops', lazyRouter(createOpsRouter));

interface PubSubData {
  message?: { data?: string; messageId?: string; attributes?: Record<string, string> };
  subscription?: string;
}

/**
 * The message of a push, parsed with its schema (the same id rules as the API), or undefined
 * after logging why: a message that cannot parse can never succeed, so it is acknowledged
 * instead of being redelivered until it reaches the dead letter. Who may push at all is not
 * decided here: in production every push endpoint is internal-ingress only and its invoker IAM
 * binding names just the Pub/Sub push (or Cloud Scheduler) service account (terraform/).
 */
function pushMessage<T>(
  fn: string,
  schema: z.ZodType<T>,
  event: functions.CloudEvent<PubSubData>,
): T | undefined {
  const messageId = event.data?.message?.messageId;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(event.data?.message?.data ?? '', 'base64').toString('utf8'));
  } catch {
    log('push_message_refused', { function: fn, reason: 'not_json', messageId });
    return undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    log('push_message_refused', { function: fn, reason: 'malformed_message', messageId });
    return undefined;
  }
  return parsed.data;
}

functions.cloudEvent<PubSubData>(
  'extractWorker',
  async (event: functions.CloudEvent<PubSubData>) => {
    const message = pushMessage('extractWorker', ExtractionMessage, event);
    if (!message) return;
    try {
      await processExtraction(getServices(), message);
    } catch (err) {
      log('worker_error', { ...message, reason: 'transient', ...errorFields(err) });
      throw err;
    }
  },
);

/** Push subscription on `extraction-requests-dlq`: a poison message ends as `failed`. */
functions.cloudEvent<PubSubData>(
  'deadLetterWorker',
  async (event: functions.CloudEvent<PubSubData>) => {
    const message = pushMessage('deadLetterWorker', ExtractionMessage, event);
    if (!message) return;
    try {
      const count = Number(
        event.data?.message?.attributes?.CloudPubSubDeadLetterSourceDeliveryCount ?? NaN,
      );
      await handleDeadLetter(getServices(), message, {
        messageId: event.data?.message?.messageId,
        ...(Number.isFinite(count) ? { deliveryAttempt: count } : {}),
      });
    } catch (err) {
      log('worker_error', { ...message, reason: 'dead_letter', ...errorFields(err) });
      throw err;
    }
  },
);

/**
 * Push subscription on `notifications`: signed webhook deliveries of extraction outcomes, the
 * security channel's notices of break-glass access (`channel: 'security'`), and sub-processor
 * notices mailed to every confirmed subscriber (`channel: 'subprocessor-notice'`; a failed
 * address throws, and the redelivery skips those already recorded).
 */
functions.cloudEvent<PubSubData>('notifier', async (event: functions.CloudEvent<PubSubData>) => {
  const message = pushMessage(
    'notifier',
    z.union([NotificationMessage, SecurityNotice, SubprocessorNoticeMessage]),
    event,
  );
  if (!message) return;
  if ('channel' in message) {
    if (message.channel === 'subprocessor-notice') {
      await deliverSubprocessorNotice(getServices(), message);
      return;
    }
    await deliverSecurityNotice(getServices(), message);
    return;
  }
  try {
    await deliverNotification(getServices(), message);
  } catch (err) {
    if (!(err instanceof DeliveryPendingError))
      log('notifier_error', {
        ...notificationFields(message),
        reason: 'transient',
        ...errorFields(err),
      });
    throw err;
  }
});

/**
 * What Cloud Scheduler (and the local stack's stand-in) publishes to `seal-requests`,
 * `key-rotation-requests` and `retention-requests`: a trigger name and nothing else.
 */
const SchedulerTrigger = z.strictObject({ trigger: z.string().regex(/^[a-z0-9-]{1,64}$/) });

/**
 * Cloud Scheduler's pass (and the local stack's stand-in): seal every tenant's new evidence, and,
 * as a separate step, re-queue extractions whose message was lost (extraction/sweeper.ts). The
 * two run side by side and fail apart: a sweep that throws is logged and left to the next pass
 * (the delivery is not failed for it, so sealing is not repeated), and a sealing pass that throws
 * fails the delivery as before, after the sweep has run.
 */
functions.cloudEvent<PubSubData>('sealer', async (event: functions.CloudEvent<PubSubData>) => {
  if (!pushMessage('sealer', SchedulerTrigger, event)) return;
  const services = getServices();
  const [sealing] = await Promise.allSettled([
    sealAllTenants(services).then((outcomes) => {
      const sealed = outcomes.filter((o) => o.seq !== null);
      log('seal_pass_completed', {
        tenants: new Set(outcomes.map((o) => o.tenantId)).size,
        sealed: new Set(sealed.map((o) => o.tenantId)).size,
        seals: sealed.length,
        records: sealed.reduce((n, o) => n + o.records, 0),
      });
    }),
    sweepStuckExtractions(services).catch((err: unknown) => {
      log('sweep_failed', errorFields(err));
    }),
  ]);
  if (sealing.status === 'rejected') throw sealing.reason;
});

/**
 * Cloud Scheduler publishes to `key-rotation-requests` (terraform/): one KEK rotation pass over
 * every active tenant, named by the UTC date, so a repeated trigger the same day finishes or
 * skips what the first one did. A tenant whose rotation failed fails the delivery, and the
 * redelivery resumes it (the old versions stay enabled until the re-wrap is stored).
 */
functions.cloudEvent<PubSubData>('keyRotator', async (event: functions.CloudEvent<PubSubData>) => {
  if (!pushMessage('keyRotator', SchedulerTrigger, event)) return;
  const outcomes = await rotateKeks(getServices(), { rotationId: defaultRotationId() });
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length > 0)
    throw new Error(`KEK rotation failed for ${String(failed.length)} tenant(s)`);
});

/**
 * Cloud Scheduler publishes to `retention-requests` (terraform/): one content retention pass
 * at the current time. A tenant that failed fails the delivery; the redelivery resumes from the
 * cursors the pass stored, and erasure is idempotent.
 */
functions.cloudEvent<PubSubData>('retention', async (event: functions.CloudEvent<PubSubData>) => {
  if (!pushMessage('retention', SchedulerTrigger, event)) return;
  const outcomes = await runRetention(getServices(), { now: new Date() });
  const failed = outcomes.filter((o) => o.error !== undefined);
  if (failed.length > 0) throw new Error(`retention failed for ${String(failed.length)} tenant(s)`);
});
