/**
 * How long to wait before another attempt at a call to a provider or a webhook endpoint:
 * jittered exponential backoff, or the server's own `retry-after`, capped. Pure functions, so
 * the policy is unit-tested without a clock.
 */
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
