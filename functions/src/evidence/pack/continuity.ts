/**
 * Continuity of a sealed log over the audit period: per UTC day, the records written and the
 * seals signed, and how long records waited for their seal; the days on which no seal was
 * signed; and gaps in the seal sequence. A day without a seal is not a failure by itself (a
 * tenant may write nothing that day), so each such day says whether records were waiting.
 */
import type { Seal } from '../seal';
import { inPeriod, type PackRecord, type Period } from './log';

export interface DayContinuity {
  /** `YYYY-MM-DD` (UTC). */
  date: string;
  records: number;
  seals: number;
  /** Seconds from a record's createdAt to its seal's sealedAt, for the records of that day. */
  maxSealLagSeconds: number | null;
  medianSealLagSeconds: number | null;
}

export interface SeqGap {
  /** The last seal present before the gap, and the next one present after it. */
  after: number;
  next: number;
  missing: number;
}

export interface Continuity {
  period: Period;
  days: DayContinuity[];
  /** Days of the period on which no seal was signed. */
  daysWithoutSeals: { date: string; recordsWritten: number }[];
  seqGaps: SeqGap[];
  sealsInPeriod: number;
  recordsInPeriod: number;
  firstSeq: number | null;
  lastSeq: number | null;
}

const DAY_MS = 86_400_000;

/** Every UTC date from the period's first day to the day of its last millisecond. */
export function periodDays(period: Period): string[] {
  const start = Date.parse(period.from.slice(0, 10) + 'T00:00:00.000Z');
  const end = Date.parse(period.to) - 1;
  const days: string[] = [];
  for (let t = start; t <= end; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Gaps between consecutive seals present (and before the first, which must be seq 1). */
export function seqGaps(seals: readonly Pick<Seal, 'seq'>[]): SeqGap[] {
  const seqs = [...new Set(seals.map((s) => s.seq))].sort((a, b) => a - b);
  const gaps: SeqGap[] = [];
  let prev = 0;
  for (const seq of seqs) {
    if (seq > prev + 1) gaps.push({ after: prev, next: seq, missing: seq - prev - 1 });
    prev = seq;
  }
  return gaps;
}

export function continuity(
  seals: readonly Seal[],
  records: readonly Pick<PackRecord, 'createdAt' | 'sealedAt'>[],
  period: Period,
): Continuity {
  const byDay = new Map<string, { records: number; seals: number; lags: number[] }>();
  for (const date of periodDays(period)) byDay.set(date, { records: 0, seals: 0, lags: [] });
  let recordsInPeriod = 0;
  for (const r of records) {
    if (!inPeriod(period, r.createdAt)) continue;
    recordsInPeriod += 1;
    const day = byDay.get(r.createdAt.slice(0, 10));
    if (day === undefined) continue;
    day.records += 1;
    day.lags.push(Math.max(0, (Date.parse(r.sealedAt) - Date.parse(r.createdAt)) / 1000));
  }
  const sealed = seals.filter((s) => inPeriod(period, s.sealedAt));
  for (const s of sealed) {
    const day = byDay.get(s.sealedAt.slice(0, 10));
    if (day) day.seals += 1;
  }
  const days = [...byDay].map(([date, d]) => ({
    date,
    records: d.records,
    seals: d.seals,
    maxSealLagSeconds: d.lags.length === 0 ? null : Math.max(...d.lags),
    medianSealLagSeconds: median(d.lags),
  }));
  return {
    period,
    days,
    daysWithoutSeals: days
      .filter((d) => d.seals === 0)
      .map((d) => ({ date: d.date, recordsWritten: d.records })),
    seqGaps: seqGaps(seals),
    sealsInPeriod: sealed.length,
    recordsInPeriod,
    firstSeq: sealed[0]?.seq ?? null,
    lastSeq: sealed.at(-1)?.seq ?? null,
  };
}
