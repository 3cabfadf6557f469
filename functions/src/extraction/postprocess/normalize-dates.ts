/** normalize-dates@1: the schema's date fields as ISO dates (an `invalid_date` issue when not). */
import type { ExtractionResult, Step } from './types';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** ISO dates, `DD.MM.YYYY`, `MM/DD/YYYY` and `12 March 2026` / `March 12, 2026`. */
export function isoDate(text: string): string | null {
  const t = text.trim();
  const pad = (n: number) => String(n).padStart(2, '0');
  const build = (y: number, m: number, d: number) => {
    const date = new Date(Date.UTC(y, m - 1, d));
    return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
      ? `${y}-${pad(m)}-${pad(d)}`
      : null;
  };
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (m) return build(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(t);
  if (m) return build(Number(m[3]), Number(m[2]), Number(m[1]));
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(t);
  if (m) return build(Number(m[3]), Number(m[1]), Number(m[2]));
  m = /^(\d{1,2}) ([A-Za-z]+)\.? (\d{4})$/.exec(t);
  if (m?.[2]) {
    const month = MONTHS.indexOf(m[2].slice(0, 3).toLowerCase()) + 1;
    if (month > 0) return build(Number(m[3]), month, Number(m[1]));
  }
  m = /^([A-Za-z]+)\.? (\d{1,2}),? (\d{4})$/.exec(t);
  if (m?.[1]) {
    const month = MONTHS.indexOf(m[1].slice(0, 3).toLowerCase()) + 1;
    if (month > 0) return build(Number(m[3]), month, Number(m[2]));
  }
  return null;
}

export const normalizeDates: Step = {
  name: 'normalize-dates',
  version: 1,
  run(input, { schema }) {
    const result = structuredClone(input) as ExtractionResult;
    for (const name of schema.dateFields) {
      const field = result.fields[name];
      if (!field || field.value === null) continue;
      const iso = isoDate(String(field.value));
      if (iso === null) {
        result.issues.push({
          code: 'invalid_date',
          field: name,
          message: 'not a recognizable date',
        });
        field.value = null;
      } else field.value = iso;
    }
    return result;
  },
};
