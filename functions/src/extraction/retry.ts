/**
 * Retry policy for calls to LLM providers and webhook endpoints: which failures are worth
 * another attempt, how long to wait (jittered exponential backoff, or the server's own
 * `retry-after`, capped), all as pure functions so the policy is unit-tested without a clock.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ExtractionEvidenceBody } from '../evidence/record';
import { InvalidModelOutputError } from './postprocess';

export type AttemptOutcome = ExtractionEvidenceBody['response']['attempts'][number]['outcome'];

export interface BackoffPolicy {
  /** The first retry waits between base/2 and base. */
  baseMs: number;
  /** No computed wait exceeds this. */
  maxMs: number;
  /** A server's `retry-after` is honoured up to this. */
  retryAfterCapMs: number;
}

/**
 * The wait before retry number `attempt + 1` (`attempt` counts from 0). A `retry-after` from the
 * server wins (capped at `retryAfterCapMs`); otherwise "equal jitter": a uniform draw from
 * [d/2, d] where d = min(base * 2^attempt, max), so concurrent clients spread out while the
 * wait still grows. `random` returns a number in [0, 1).
 */
export function backoffDelayMs(
  attempt: number,
  retryAfterMs: number | null,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== null && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    return Math.round(Math.min(retryAfterMs, policy.retryAfterCapMs));
  }
  const exponent = Math.max(0, Math.min(Math.floor(attempt), 30));
  const ceiling = Math.min(policy.baseMs * 2 ** exponent, policy.maxMs);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + r * (ceiling / 2));
}

/**
 * The server's requested wait in ms from `retry-after-ms`, `retry-after` (seconds or an HTTP
 * date), or null when absent or unreadable. Negative and past values read as 0.
 */
export function parseRetryAfter(
  get: (name: string) => string | null | undefined,
  now: number = Date.now(),
): number | null {
  const ms = get('retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.round(Number(ms));
  const value = get('retry-after')?.trim();
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // Otherwise only an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`), never a bare number.
  const date = /^[A-Za-z]{3}, /.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

export const RETRYABLE_OUTCOMES: ReadonlySet<AttemptOutcome> = new Set([
  'rate_limited',
  'server_error',
  'timeout',
  'invalid_output',
]);

export interface ClassifiedFailure {
  outcome: AttemptOutcome;
  retryAfterMs: number | null;
  /** The provider's id for the failed request, when it answered at all. */
  providerRequestId: string | null;
  /** The HTTP status the provider answered, when it answered. */
  status: number | null;
}

type SdkApiError = InstanceType<typeof OpenAI.APIError> | InstanceType<typeof Anthropic.APIError>;

function isSdkError(err: unknown): err is SdkApiError {
  return err instanceof OpenAI.APIError || err instanceof Anthropic.APIError;
}

/**
 * What a failed provider call means for the retry loop, or undefined when the error is not a
 * provider failure at all (a bug or an infrastructure error the caller must rethrow).
 * 408/409/429/5xx (529 "overloaded" included), timeouts, dropped connections and output that
 * does not parse or validate are retryable; other 4xx (a bad request, an unknown model, a
 * rejected key) are not.
 */
export function classifyProviderError(
  err: unknown,
  now: number = Date.now(),
): ClassifiedFailure | undefined {
  if (err instanceof InvalidModelOutputError) {
    return { outcome: 'invalid_output', retryAfterMs: null, providerRequestId: null, status: null };
  }
  if (
    err instanceof OpenAI.APIConnectionTimeoutError ||
    err instanceof Anthropic.APIConnectionTimeoutError
  ) {
    return { outcome: 'timeout', retryAfterMs: null, providerRequestId: null, status: null };
  }
  if (err instanceof OpenAI.APIConnectionError || err instanceof Anthropic.APIConnectionError) {
    return { outcome: 'server_error', retryAfterMs: null, providerRequestId: null, status: null };
  }
  if (!isSdkError(err)) return undefined;
  const status = typeof err.status === 'number' ? err.status : null;
  const providerRequestId = err.requestID ?? null;
  const headers = err.headers;
  const retryAfterMs = headers ? parseRetryAfter((h) => headers.get(h), now) : null;
  if (status === 429) return { outcome: 'rate_limited', retryAfterMs, providerRequestId, status };
  if (status !== null && (status >= 500 || status === 408 || status === 409)) {
    return { outcome: 'server_error', retryAfterMs, providerRequestId, status };
  }
  return { outcome: 'error', retryAfterMs: null, providerRequestId, status };
}
