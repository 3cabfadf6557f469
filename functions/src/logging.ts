/**
 * Named log events. Every line is one JSON object Cloud Logging parses (`severity`, `message`)
 * and greppable by its event name. Fields are ids, counts, codes and durations: never document
 * text, prompts, model output or secrets. A field value is a scalar, so a whole object (a
 * request body, a model response) cannot be logged by accident.
 */
const EVENTS = {
  request_completed: 'INFO',
  request_failed: 'ERROR',
  auth_denied: 'WARNING',
  rate_limited: 'WARNING',
  extraction_accepted: 'INFO',
  extraction_processing: 'INFO',
  extraction_succeeded: 'INFO',
  extraction_failed: 'WARNING',
  extraction_redelivered: 'INFO',
  /** An unfinished extraction idle past STUCK_EXTRACTION_SECONDS, published again. */
  extraction_requeued: 'WARNING',
  sweep_failed: 'ERROR',
  /** Per-stage durations of one submission (`side: 'api'`) or one worker run (`'worker'`). */
  stage_timings: 'DEBUG',
  provider_attempt_failed: 'WARNING',
  subprocessor_refused: 'ERROR',
  evidence_written: 'INFO',
  evidence_sealed: 'INFO',
  seal_failed: 'ERROR',
  // A locked audit object holds other bytes than the seal being exported: the ledger and the
  // audit bucket disagree (a restored or re-created ledger, or tampering). Someone must look.
  audit_object_conflict: 'ALERT',
  checkpoint_published: 'INFO',
  witness_registered: 'NOTICE',
  cosignature_accepted: 'NOTICE',
  cosignature_refused: 'WARNING',
  seal_pass_completed: 'INFO',
  retention_pass_completed: 'INFO',
  retention_settings_changed: 'NOTICE',
  // An extraction past its retention still queued or processing holds up its group's pass.
  retention_blocked: 'WARNING',
  retention_failed: 'ERROR',
  tenant_onboarded: 'NOTICE',
  wrapping_key_unwrapped: 'DEBUG',
  worker_error: 'ERROR',
  push_message_refused: 'WARNING',
  extraction_dead_lettered: 'ERROR',
  webhook_created: 'NOTICE',
  webhook_deleted: 'NOTICE',
  webhook_url_refused: 'WARNING',
  webhook_record_invalid: 'WARNING',
  webhook_delivered: 'INFO',
  webhook_delivery_failed: 'WARNING',
  webhook_delivery_abandoned: 'ERROR',
  notifier_error: 'ERROR',
  extraction_erased: 'NOTICE',
  kek_rotated: 'NOTICE',
  kek_rotation_failed: 'ERROR',
  cmek_registered: 'NOTICE',
  cmek_refused: 'WARNING',
  /** A CMEK tenant's key refused us mid-life (grant revoked, version disabled or destroyed). */
  customer_key_unavailable: 'WARNING',
  tenant_offboarded: 'NOTICE',
  access_requested: 'NOTICE',
  access_decided: 'NOTICE',
  content_accessed: 'NOTICE',
  content_access_refused: 'WARNING',
  security_notice: 'NOTICE',
  security_notice_failed: 'ERROR',
  config_invalid: 'CRITICAL',
  // Sub-processor notices: subscriptions, mails (never an address: subscription ids only).
  notice_subscription_created: 'NOTICE',
  notice_subscription_confirmed: 'NOTICE',
  notice_subscription_deleted: 'NOTICE',
  subprocessor_notice_announced: 'NOTICE',
  subprocessor_notice_delivered: 'INFO',
  subprocessor_notice_failed: 'ERROR',
  subprocessor_objection_recorded: 'NOTICE',
  notice_mail_refused: 'ERROR',
} as const;

export type LogEvent = keyof typeof EVENTS;
export type LogFields = Record<string, string | number | boolean | null | undefined>;

type Sink = (line: string) => void;
let sink: Sink = (line) => {
  process.stdout.write(line + '\n');
};

/** Tests capture every line here to check that no customer content is ever logged. */
export function setLogSink(next: Sink): Sink {
  const previous = sink;
  sink = next;
  return previous;
}

export function log(event: LogEvent, fields: LogFields = {}): void {
  const line: Record<string, unknown> = {
    severity: EVENTS[event],
    message: event,
    event,
    time: new Date().toISOString(),
  };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) line[key] = value;
  }
  sink(JSON.stringify(line));
}

/** The parts of an error that are safe to log: its class, code and message, no payloads. */
export function errorFields(err: unknown): LogFields {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      errorName: err.name,
      errorCode: typeof code === 'string' || typeof code === 'number' ? code : undefined,
      errorMessage: err.message.slice(0, 500),
    };
  }
  return { errorName: typeof err };
}
