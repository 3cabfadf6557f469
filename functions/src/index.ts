/**
 * Registers every function with the functions framework. Only wiring lives here: each trigger
 * hands its input to a domain module together with the instance's services.
 */
import * as functions from '@google-cloud/functions-framework';
import { ConfigError } from './config';
import { sealAllTenants } from './ledger/sealer';
import { handleDeadLetter } from './extraction/dead-letter';
import { processExtraction } from './extraction/pipeline';
import { ExtractionMessage } from './extraction/submit';
import { createApiRouter } from './http/api';
import { createOpsRouter } from './http/ops';
import { takeOverRequestBodies } from './http/request-body';
import { errorFields, log } from './logging';
import { getServices, type Services } from './services';
import type { Router } from './http/router';
import { NotificationMessage } from './webhooks/events';
import { deliverNotification, DeliveryPendingError } from './webhooks/notifier';

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

function decodeJson(base64: string | undefined): unknown {
  if (base64 === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

interface PubSubData {
  message?: { data?: string; messageId?: string; attributes?: Record<string, string> };
  subscription?: string;
}

functions.cloudEvent<PubSubData>(
  'extractWorker',
  async (event: functions.CloudEvent<PubSubData>) => {
    const decoded = ExtractionMessage.safeParse(decodeJson(event.data?.message?.data));
    if (!decoded.success) {
      // A malformed message can never succeed: acknowledge it rather than loop to the dead letter.
      log('worker_error', {
        reason: 'malformed_message',
        messageId: event.data?.message?.messageId,
      });
      return;
    }
    try {
      await processExtraction(getServices(), decoded.data);
    } catch (err) {
      log('worker_error', { ...decoded.data, reason: 'transient', ...errorFields(err) });
      throw err;
    }
  },
);

/** Push subscription on `extraction-requests-dlq`: a poison message ends as `failed`. */
functions.cloudEvent<PubSubData>(
  'deadLetterWorker',
  async (event: functions.CloudEvent<PubSubData>) => {
    const messageId = event.data?.message?.messageId;
    const decoded = ExtractionMessage.safeParse(decodeJson(event.data?.message?.data));
    if (!decoded.success) {
      log('extraction_dead_lettered', { outcome: 'malformed_message', messageId });
      return;
    }
    try {
      const count = Number(
        event.data?.message?.attributes?.CloudPubSubDeadLetterSourceDeliveryCount ?? NaN,
      );
      await handleDeadLetter(getServices(), decoded.data, {
        messageId,
        ...(Number.isFinite(count) ? { deliveryAttempt: count } : {}),
      });
    } catch (err) {
      log('worker_error', { ...decoded.data, reason: 'dead_letter', ...errorFields(err) });
      throw err;
    }
  },
);

/** Push subscription on `notifications`: signed webhook deliveries of extraction outcomes. */
functions.cloudEvent<PubSubData>('notifier', async (event: functions.CloudEvent<PubSubData>) => {
  const messageId = event.data?.message?.messageId;
  const decoded = NotificationMessage.safeParse(decodeJson(event.data?.message?.data));
  if (!decoded.success) {
    log('notifier_error', { reason: 'malformed_message', messageId });
    return;
  }
  try {
    await deliverNotification(getServices(), decoded.data);
  } catch (err) {
    if (!(err instanceof DeliveryPendingError))
      log('notifier_error', { ...decoded.data, reason: 'transient', ...errorFields(err) });
    throw err;
  }
});

/** Cloud Scheduler publishes to `seal-requests`; each message runs one pass over all tenants. */
functions.cloudEvent('sealer', async () => {
  const outcomes = await sealAllTenants(getServices());
  const sealed = outcomes.filter((o) => o.seq !== null);
  log('seal_pass_completed', {
    tenants: outcomes.length,
    sealed: sealed.length,
    records: sealed.reduce((n, o) => n + o.records, 0),
  });
});
