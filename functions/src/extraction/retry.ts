/**
 * Which failures of a call to an LLM provider are worth another attempt, as pure functions so
 * the policy is unit-tested without a network. How long to wait is `util/backoff.ts`.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ExtractionEvidenceBody } from '../evidence/record';
import { parseRetryAfter } from '../util/backoff';
import { InvalidModelOutputError } from './postprocess/types';

export type AttemptOutcome = ExtractionEvidenceBody['response']['attempts'][number]['outcome'];

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
