/** A notifier log line keeps its own event name; the notification's type is `eventType`. */
import { log, setLogSink } from '../../functions/src/logging';
import { notificationFields } from '../../functions/src/webhooks/notifier';

it('does not let the notification overwrite the log event name', () => {
  const lines: Record<string, unknown>[] = [];
  const previous = setLogSink((line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  try {
    const message = { tenantId: 't1', extractionId: 'ex_1', event: 'extraction.failed' } as const;
    log('notifier_error', { ...notificationFields(message), reason: 'unknown_tenant' });
  } finally {
    setLogSink(previous);
  }
  expect(lines[0]).toMatchObject({
    message: 'notifier_error',
    event: 'notifier_error',
    eventType: 'extraction.failed',
    tenantId: 't1',
  });
});
