/**
 * The scale model (docs/scale.md) is arithmetic, but its conclusions hang on a few mechanisms:
 * shares that sum to the whole, a daily curve with the peak it is asked for, and a sealer
 * simulation that falls behind exactly when capacity is below the arrival rate.
 */
import {
  DEFAULT_WORKLOAD,
  SEALER_CATCH_UP,
  SEALER_TODAY,
  dailyCurve,
  hotTenantCeilingPerDay,
  loads,
  simulateSealer,
  tenantShares,
} from '../../scripts/bench/scale-model';

describe('scale model', () => {
  it('gives the hot tenant its share and the rest a decreasing Zipf tail summing to one', () => {
    const shares = tenantShares(DEFAULT_WORKLOAD);
    expect(shares).toHaveLength(1000);
    expect(shares[0]).toBe(0.4);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(shares[1]).toBeGreaterThan(shares[2] ?? 1);
  });

  it('builds a daily curve with mean one and the requested peak', () => {
    for (const peak of [2, 4, 8]) {
      const curve = dailyCurve(peak);
      expect(curve).toHaveLength(1440);
      expect(curve.reduce((a, b) => a + b, 0) / curve.length).toBeCloseTo(1, 6);
      expect(Math.max(...curve)).toBeCloseTo(peak, 6);
    }
  });

  it('lets the one-seal-per-pass sealer fall behind when the tenant outpaces 10,000 per pass', () => {
    // 10,000 records per 5-minute pass is 33/s; 40% of 10 M/day is 46/s.
    const before = simulateSealer(DEFAULT_WORKLOAD, SEALER_TODAY);
    expect(before.endBacklog).toBeGreaterThan(1_000_000);
    const after = simulateSealer(DEFAULT_WORKLOAD, SEALER_CATCH_UP);
    expect(after.endBacklog).toBeLessThan(10_000);
    expect(after.maxLagMinutes).toBeLessThanOrEqual(SEALER_CATCH_UP.everyMinutes);
  });

  it('keeps a slow tenant sealed by either design', () => {
    const small = { ...DEFAULT_WORKLOAD, perDay: 1_000_000 };
    expect(simulateSealer(small, SEALER_TODAY).endBacklog).toBeLessThan(10_000);
  });

  it('scales loads linearly with volume and names the hot-tenant ceiling', () => {
    const a = loads(DEFAULT_WORKLOAD);
    const b = loads({ ...DEFAULT_WORKLOAD, perDay: 2 * DEFAULT_WORKLOAD.perDay });
    const row = (rows: typeof a, prefix: string) =>
      rows.find((r) => r.what.startsWith(prefix))?.load ?? Number.NaN;
    const evidence = 'hot tenant: evidence createdAt';
    expect(row(b, evidence)).toBeCloseTo(2 * row(a, evidence), 6);
    // 500 writes/s at a 4x peak, one sequential write per extraction: 10.8 M/day.
    expect(hotTenantCeilingPerDay(DEFAULT_WORKLOAD, 1)).toBe(10_800_000);
  });
});
