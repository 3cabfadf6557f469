import { AppError } from '../../functions/src/errors';
import { TenantQuota } from '../../functions/src/http/quota';

function refusal(quota: TenantQuota, tenant: string): AppError {
  try {
    quota.take(tenant);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('the request was allowed');
}

describe('per-tenant quota', () => {
  let clock = 0;
  const quota = () => new TenantQuota({ perMinute: 60, burst: 5 }, () => clock);

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('refuses the request after the burst with 429 and a Retry-After', () => {
    const q = quota();
    for (let i = 0; i < 5; i++) q.take('a');
    const err = refusal(q, 'a');
    expect(err.status).toBe(429);
    expect(err.code).toBe('rate_limited');
    expect(err.headers['Retry-After']).toBe('1');
  });

  it("does not let one tenant's burst spend another's quota", () => {
    const q = quota();
    for (let i = 0; i < 5; i++) q.take('a');
    refusal(q, 'a');
    expect(() => {
      q.take('b');
    }).not.toThrow();
  });

  it('refills at the sustained rate', () => {
    const q = quota();
    for (let i = 0; i < 5; i++) q.take('a');
    refusal(q, 'a');
    clock += 999;
    refusal(q, 'a');
    clock += 1;
    expect(() => {
      q.take('a');
    }).not.toThrow();
    refusal(q, 'a');
  });

  it('names how long to wait when the rate is slow', () => {
    const q = new TenantQuota({ perMinute: 2, burst: 1 }, () => clock);
    q.take('a');
    expect(refusal(q, 'a').headers['Retry-After']).toBe('30');
  });

  it("applies a tenant's own quota instead of the default", () => {
    const q = quota();
    const small = { perMinute: 60, burst: 2 };
    q.take('a', small);
    q.take('a', small);
    expect(refusal(q, 'a').status).toBe(429);
  });

  it('drops buckets that are full again, keeping memory bounded', () => {
    const q = quota();
    for (let i = 0; i < 100; i++) q.take(`tenant-${String(i)}`);
    expect(q.size).toBe(100);
    clock += 5_000;
    q.take('late');
    expect(q.size).toBe(1);
  });
});
