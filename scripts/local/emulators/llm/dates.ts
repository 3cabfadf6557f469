/**
 * Dates as invoices print them: ISO (`2026-03-12`, `2026/03/12`), day-first with dots
 * (`12.03.2026`), numeric with slashes or dashes (`12/03/2026`, `03/12/2026`), and written
 * (`12 March 2026`, `Mar 12, 2026`, `March 3rd, 2026`, `12-Mar-2026`). A numeric date whose
 * day and month could swap is read the way the document's other dates or its currency say; a
 * model does the same, and where nothing says, the emulator keeps the text as written.
 */

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  sept: 9,
  oct: 10,
  nov: 11,
  dec: 12,
  january: 1,
  february: 2,
  march: 3,
  april: 4,
  june: 6,
  july: 7,
  august: 8,
  september: 9,
  october: 10,
  november: 11,
  december: 12,
  // German, French, Spanish, Italian and Dutch months that differ from the English ones.
  januar: 1,
  februar: 2,
  märz: 3,
  mai: 5,
  juni: 6,
  juli: 7,
  oktober: 10,
  dezember: 12,
  janvier: 1,
  février: 2,
  mars: 3,
  avril: 4,
  juin: 6,
  juillet: 7,
  août: 8,
  septembre: 9,
  octobre: 10,
  novembre: 11,
  décembre: 12,
  enero: 1,
  febrero: 2,
  marzo: 3,
  abril: 4,
  mayo: 5,
  junio: 6,
  julio: 7,
  agosto: 8,
  septiembre: 9,
  octubre: 10,
  noviembre: 11,
  diciembre: 12,
  gennaio: 1,
  febbraio: 2,
  aprile: 4,
  maggio: 5,
  giugno: 6,
  luglio: 7,
  settembre: 9,
  ottobre: 10,
  dicembre: 12,
  januari: 1,
  februari: 2,
  maart: 3,
  mei: 5,
  augustus: 8,
};

const MONTH = `(${Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .join('|')})\\.?`;
const DAY = '(\\d{1,2})(?:st|nd|rd|th)?';
const YEAR = '(\\d{4})';

/** Which part of a numeric date comes first, when the document says. */
export type DayOrder = 'day-first' | 'month-first';

interface Pattern {
  readonly regex: RegExp;
  read(match: RegExpExecArray): { year: number; month: number; day: number } | 'numeric';
}

const B = '(?<![\\p{L}\\p{N}])';
const E = '(?![\\p{L}\\p{N}])';

const PATTERNS: readonly Pattern[] = [
  {
    regex: new RegExp(`${B}${YEAR}[-/.](\\d{1,2})[-/.](\\d{1,2})${E}`, 'iu'),
    read: (m) => ({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) }),
  },
  {
    // `12 March 2026`, `3rd of March 2026`, `12-Mar-2026`, `Tue 3 Mar 2026`
    regex: new RegExp(`${B}${DAY}(?:\\s+of)?[\\s.-]+${MONTH}[\\s,.-]+${YEAR}${E}`, 'iu'),
    read: (m) => ({
      year: Number(m[3]),
      month: MONTHS[(m[2] ?? '').toLowerCase()] ?? 0,
      day: Number(m[1]),
    }),
  },
  {
    // `Mar 12, 2026`, `March 3rd 2026`
    regex: new RegExp(`${B}${MONTH}\\s+${DAY},?\\s+${YEAR}${E}`, 'iu'),
    read: (m) => ({
      year: Number(m[3]),
      month: MONTHS[(m[1] ?? '').toLowerCase()] ?? 0,
      day: Number(m[2]),
    }),
  },
  {
    regex: new RegExp(`${B}(\\d{1,2})([-/.])(\\d{1,2})\\2${YEAR}${E}`, 'u'),
    read: () => 'numeric',
  },
];

/** A date found in a text: where, as written, and its ISO form when it reads one way only. */
export interface FoundDate {
  readonly index: number;
  readonly text: string;
  /** Undefined when day and month could swap and nothing in the document decides. */
  readonly iso: string | undefined;
}

function iso(year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || year < 1900 || year > 2199)
    return undefined;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1) return undefined;
  return `${String(year)}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function readNumeric(match: RegExpExecArray, order: DayOrder | undefined): string | undefined {
  const first = Number(match[1]);
  const separator = match[2];
  const second = Number(match[3]);
  const year = Number(match[4]);
  // Dotted dates are day first wherever they are written (DIN 5008, most of Europe).
  if (separator === '.' || first > 12) return iso(year, second, first);
  if (second > 12) return iso(year, first, second);
  if (first === second) return iso(year, first, second);
  if (order === 'day-first') return iso(year, second, first);
  if (order === 'month-first') return iso(year, first, second);
  return undefined;
}

/** The first date written in `text`, read in `order` where it could read either way. */
export function findDate(text: string, order?: DayOrder): FoundDate | undefined {
  let best: FoundDate | undefined;
  for (const pattern of PATTERNS) {
    const match = pattern.regex.exec(text);
    if (match === null) continue;
    if (best !== undefined && best.index <= match.index) continue;
    const read = pattern.read(match);
    const value =
      read === 'numeric' ? readNumeric(match, order) : iso(read.year, read.month, read.day);
    if (read !== 'numeric' && value === undefined) continue;
    best = { index: match.index, text: match[0], iso: value };
  }
  return best;
}

// Currencies of countries that write the day first; `$` alone and USD say month first.
const DAY_FIRST_MARKS = /€|£|₹|\b(?:EUR|GBP|INR|AUD|NZD|CHF|ZAR|SEK|NOK|DKK|PLN|BRL|A\$|NZ\$)\b/u;
const MONTH_FIRST_MARKS = /\bUSD\b|US\$|(?<![A-Z])\$/u;

/**
 * How the document writes numeric dates: decided by a date of its own that reads one way only
 * (`27/03/2026`), else by its currency, as a reader would guess; undefined when nothing says.
 */
export function documentDayOrder(text: string): DayOrder | undefined {
  const numeric = /(?<![\p{L}\p{N}])(\d{1,2})[/-](\d{1,2})[/-]\d{4}(?![\p{L}\p{N}])/gu;
  for (const match of text.matchAll(numeric)) {
    if (Number(match[1]) > 12) return 'day-first';
    if (Number(match[2]) > 12) return 'month-first';
  }
  if (DAY_FIRST_MARKS.test(text)) return 'day-first';
  if (MONTH_FIRST_MARKS.test(text)) return 'month-first';
  return undefined;
}
