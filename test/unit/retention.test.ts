/**
 * The retention job's clock and selection rules, without a stack: which settings are in force,
 * where the cutoff lies for a given `now`, and which values a tenant may not choose.
 */
import { AppError } from '../../functions/src/errors';
import {
  contentCutoff,
  contentRetentionDays,
  DEFAULT_CONTENT_RETENTION_DAYS,
  evidenceRetentionDaysFor,
  retentionSettings,
} from '../../functions/src/lifecycle/retention';

const PLATFORM_DAYS = 2557;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? `${String(err.status)} ${err.code}` : 'not an AppError';
  }
}

describe('retention settings in force', () => {
  it('applies the documented default to a tenant that set nothing: 90 days of content, 7 years of evidence', () => {
    expect(DEFAULT_CONTENT_RETENTION_DAYS).toBe(90);
    expect(retentionSettings({}, PLATFORM_DAYS)).toEqual({
      contentRetentionDays: 90,
      bySchema: {},
      evidenceRetentionDays: 2557,
    });
  });

  it("honours a schema's own content retention and falls back to the tenant's for the rest", () => {
    const settings = retentionSettings(
      { contentRetention: { days: 30, bySchema: { invoice: 120 } } },
      PLATFORM_DAYS,
    );
    expect(contentRetentionDays(settings, 'invoice')).toBe(120);
    expect(contentRetentionDays(settings, 'receipt')).toBe(30);
  });

  it('never keeps evidence shorter than the platform, whatever a stored profile says', () => {
    expect(retentionSettings({ retentionDays: 100 }, PLATFORM_DAYS).evidenceRetentionDays).toBe(
      PLATFORM_DAYS,
    );
    expect(retentionSettings({ retentionDays: 3653 }, PLATFORM_DAYS).evidenceRetentionDays).toBe(
      3653,
    );
  });
});

describe('the cutoff under a simulated clock', () => {
  const submitted = new Date('2026-01-10T12:00:00.000Z');
  const day = 86_400_000;
  const past = (now: Date, days: number) => submitted < contentCutoff(now, days);

  it('keeps content one day before its retention ends and erases it one day after', () => {
    expect(past(new Date(submitted.getTime() + 89 * day), 90)).toBe(false);
    expect(past(new Date(submitted.getTime() + 91 * day), 90)).toBe(true);
    // Exactly at the retention the content is not yet past it (the query is `<` the cutoff).
    expect(past(new Date(submitted.getTime() + 90 * day), 90)).toBe(false);
  });

  it('moves the cutoff with the clock, not with the wall time', () => {
    expect(contentCutoff(new Date('2030-01-01T00:00:00.000Z'), 1).toISOString()).toBe(
      '2029-12-31T00:00:00.000Z',
    );
  });
});

describe('what a tenant may not choose (denial paths)', () => {
  it('refuses evidence retention below 7 years, and above the ceiling, with typed codes', () => {
    expect(codeOf(() => evidenceRetentionDaysFor(6, PLATFORM_DAYS))).toBe(
      '400 evidence_retention_too_short',
    );
    expect(codeOf(() => evidenceRetentionDaysFor(0, PLATFORM_DAYS))).toBe(
      '400 evidence_retention_too_short',
    );
    expect(codeOf(() => evidenceRetentionDaysFor(101, PLATFORM_DAYS))).toBe(
      '400 evidence_retention_out_of_range',
    );
  });

  it('refuses a choice below a platform minimum configured above 7 years', () => {
    // 8 years is 2922 days: shorter than a platform that keeps evidence 3000 days.
    expect(codeOf(() => evidenceRetentionDaysFor(8, 3000))).toBe(
      '400 evidence_retention_too_short',
    );
    expect(evidenceRetentionDaysFor(9, 3000)).toBe(3288);
  });

  it('counts 7 years as the platform does: 2557 days', () => {
    expect(evidenceRetentionDaysFor(7, PLATFORM_DAYS)).toBe(2557);
    expect(evidenceRetentionDaysFor(10, PLATFORM_DAYS)).toBe(3653);
  });
});
