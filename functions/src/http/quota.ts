/**
 * Per-tenant request quota: a token bucket per tenant (burst capacity, steady refill). It lives
 * in each function instance, so the effective platform-wide limit is the per-instance limit
 * times the instance count (bounded by `max_instance_count` in the deployment); it protects
 * each instance and the shared backends from one tenant's burst. Buckets idle long enough to
 * be full again are dropped, so memory stays bounded by the tenants active in that window.
 */
import { rateLimited } from '../errors';

export interface QuotaSettings {
  /** Sustained requests per minute per tenant. */
  perMinute: number;
  /** Requests a tenant may send at once before the refill rate applies. */
  burst: number;
}

interface Bucket {
  /** Fractional: refill is continuous. */
  tokens: number;
  updated: number;
  /** After this long untouched the bucket is full again and need not be kept. */
  fullAfterMs: number;
}

export class TenantQuota {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly defaults: QuotaSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes one request's token, or throws 429 `rate_limited` with the seconds until the next.
   * `settings` is the tenant's own quota where its plan sets one.
   */
  take(tenantId: string, settings: QuotaSettings = this.defaults): void {
    const now = this.now();
    const perMs = settings.perMinute / 60_000;
    const previous = this.buckets.get(tenantId);
    const bucket: Bucket = {
      tokens: previous
        ? Math.min(settings.burst, previous.tokens + (now - previous.updated) * perMs)
        : settings.burst,
      updated: now,
      fullAfterMs: settings.burst / perMs,
    };
    // Re-inserting keeps Map order = recency, which dropFullBuckets relies on.
    this.buckets.delete(tenantId);
    this.buckets.set(tenantId, bucket);
    this.dropFullBuckets(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    throw rateLimited(Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)));
  }

  /** Oldest first: stop at the first bucket that would not be full yet. */
  private dropFullBuckets(now: number): void {
    for (const [id, bucket] of this.buckets) {
      if (now - bucket.updated < bucket.fullAfterMs) break;
      this.buckets.delete(id);
    }
  }

  /** Buckets held, for the memory-bound test. */
  get size(): number {
    return this.buckets.size;
  }
}
