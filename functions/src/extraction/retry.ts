/**
 * Which failures of a call to an LLM provider are worth another attempt, as pure functions so
 * the policy is unit-tested without a network. How long to wait is `util/backoff.ts`; what each
 * provider's errors mean is its own module's (`providers/`).
 */
import type { AttemptOutcome, ClassifiedFailure } from '../providers/provider';
import { classifyProviderFailure } from '../providers/registry';
import { InvalidModelOutputError } from './postprocess/types';

export type { AttemptOutcome, ClassifiedFailure };

/**
 * Outcomes another attempt at the same provider can fix. Not `quota_exhausted` (the account's
 * billing quota: waiting does not refill it, so the next provider is tried at once), not
 * `refused`, not `error` (a request the provider refuses as such), and not `truncated`, which
 * is retried once with a larger output budget instead (`model-calls.ts`).
 */
export const RETRYABLE_OUTCOMES: ReadonlySet<AttemptOutcome> = new Set([
  'rate_limited',
  'server_error',
  'timeout',
  'invalid_output',
]);

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
  return classifyProviderFailure(err, now);
}
