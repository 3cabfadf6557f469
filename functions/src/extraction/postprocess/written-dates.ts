/**
 * Dates as people write them (normalize-dates@2): ISO and year-first numeric dates, dotted
 * day-first dates, slashed or dashed numeric dates whose order is ambiguous unless a part is
 * above 12, and dates with a month name in any order of day, month and year, with ordinals,
 * "of", commas, periods and an optional weekday (`Tuesday, March 3rd, 2026`, `3rd of March
 * 2026`, `03-Mar-2026`).
 */
import type { DateOrder } from '../../tenancy/platform';

export type DateReading =
  | { kind: 'date'; iso: string }
  /** Both readings are real dates; nothing in the text or the settings decides. */
  | { kind: 'ambiguous'; dayFirst: string; monthFirst: string }
  | { kind: 'invalid' };

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** 1-12 for a month's name or its usual abbreviation (`Mar`, `Sept`), else 0. */
function monthNumber(word: string): number {
  const w = word.toLowerCase();
  const index = MONTHS.findIndex(
    (m) => m === w || m.slice(0, 3) === w || (w === 'sept' && m === 'september'),
  );
  return index + 1;
}

/** 0-6 for a weekday's name or its abbreviation (`Tue`, `Tues`, `Thurs`), else -1. */
function weekdayNumber(word: string): number {
  const w = word.toLowerCase();
  return WEEKDAYS.findIndex((d) => d === w || (w.length >= 3 && d.startsWith(w)));
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD` when y-m-d is a real date (and falls on `weekday`, when one is given). */
function build(y: number, m: number, d: number, weekday = -1): string | undefined {
  if (y < 1000 || y > 9999) return undefined;
  const date = new Date(Date.UTC(y, m - 1, d));
  const real =
    date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  if (!real || (weekday !== -1 && date.getUTCDay() !== weekday)) return undefined;
  return `${String(y)}-${pad(m)}-${pad(d)}`;
}

const date = (iso: string | undefined): DateReading =>
  iso === undefined ? { kind: 'invalid' } : { kind: 'date', iso };

/**
 * Numeric day and month that may be either way round (`04/02/2026`): the text decides when
 * only one reading is a real date (or falls on the `weekday` written with it), else `order`.
 */
function eitherWay(
  a: number,
  b: number,
  y: number,
  weekday: number,
  order: DateOrder | undefined,
): DateReading {
  const dayFirst = a <= 31 && b <= 12 ? build(y, b, a, weekday) : undefined;
  const monthFirst = a <= 12 && b <= 31 ? build(y, a, b, weekday) : undefined;
  if (dayFirst === undefined || monthFirst === undefined || dayFirst === monthFirst) {
    return date(dayFirst ?? monthFirst);
  }
  if (order === 'DMY') return { kind: 'date', iso: dayFirst };
  if (order === 'MDY') return { kind: 'date', iso: monthFirst };
  return { kind: 'ambiguous', dayFirst, monthFirst };
}

/** The date `text` writes; `order` decides numeric dates that could be read either way. */
export function readDate(text: string, order?: DateOrder): DateReading {
  let t = text.trim().replace(/\s+/g, ' ');
  // A leading weekday (`Tuesday, `, `Tue. `) must agree with the date.
  let weekday = -1;
  const named = /^([A-Za-z]+)\.?,? (?=\S)/.exec(t);
  if (named?.[1] !== undefined && weekdayNumber(named[1]) !== -1 && monthNumber(named[1]) === 0) {
    weekday = weekdayNumber(named[1]);
    t = t.slice(named[0].length);
  }
  let m =
    /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(
      t,
    );
  if (m) return date(build(Number(m[1]), Number(m[2]), Number(m[3]), weekday));
  m = /^(\d{4})([/.])(\d{1,2})\2(\d{1,2})$/.exec(t);
  if (m) return date(build(Number(m[1]), Number(m[3]), Number(m[4]), weekday));
  // Dotted numeric dates are day-first wherever they are written (`12.03.2026`, `3. 12. 2026`).
  m = /^(\d{1,2})\. ?(\d{1,2})\. ?(\d{4})$/.exec(t);
  if (m) return date(build(Number(m[3]), Number(m[2]), Number(m[1]), weekday));
  m = /^(\d{1,2})([/-])(\d{1,2})\2(\d{4})$/.exec(t);
  if (m) return eitherWay(Number(m[1]), Number(m[3]), Number(m[4]), weekday, order);
  return namedMonth(t, weekday);
}

/** A date with its month named: day, month and year in any of the usual orders. */
function namedMonth(text: string, weekday: number): DateReading {
  const words = text
    .replace(/,/g, ' ')
    .replace(/(\d)(?:st|nd|rd|th)\b/gi, '$1')
    .replace(/\b(?:of|the)\b/gi, ' ')
    .split(/[\s/-]+|\.(?=\s|$|[\s/-])/)
    .map((w) => w.replace(/\.$/, ''))
    .filter((w) => w !== '');
  if (words.length !== 3) return { kind: 'invalid' };
  let day: number | undefined;
  let month = 0;
  let year: number | undefined;
  const order: string[] = [];
  for (const word of words) {
    if (/^\d{4}$/.test(word) && year === undefined) {
      year = Number(word);
      order.push('Y');
    } else if (/^\d{1,2}$/.test(word) && day === undefined) {
      day = Number(word);
      order.push('D');
    } else if (monthNumber(word) > 0 && month === 0) {
      month = monthNumber(word);
      order.push('M');
    } else return { kind: 'invalid' };
  }
  if (!['DMY', 'MDY', 'YMD'].includes(order.join('')) || day === undefined || year === undefined)
    return { kind: 'invalid' };
  return date(build(year, month, day, weekday));
}
