/**
 * Currencies as documents print them next to amounts: an ISO 4217 code before or after the
 * number (`EUR 1.234,56`, `1,234.56 USD`, `CHF 2'450.00`) or a sign (`€`, `£`, `¥`, `₹`, `A$`,
 * `$`). A model asked for the currency answers the code, so the emulator does too; `$` alone is
 * read as USD, the reading a model gives it without other evidence.
 */

const CODES = [
  'USD',
  'EUR',
  'GBP',
  'CHF',
  'JPY',
  'CNY',
  'CAD',
  'AUD',
  'NZD',
  'INR',
  'SEK',
  'NOK',
  'DKK',
  'PLN',
  'CZK',
  'HUF',
  'RON',
  'BGN',
  'TRY',
  'ZAR',
  'BRL',
  'MXN',
  'SGD',
  'HKD',
  'KRW',
  'AED',
  'SAR',
  'ILS',
] as const;

// Longest first, so `A$` is not read as `$`.
const SIGNS: readonly (readonly [string, string])[] = [
  ['US$', 'USD'],
  ['NZ$', 'NZD'],
  ['CA$', 'CAD'],
  ['A$', 'AUD'],
  ['C$', 'CAD'],
  ['S$', 'SGD'],
  ['HK$', 'HKD'],
  ['R$', 'BRL'],
  ['€', 'EUR'],
  ['£', 'GBP'],
  ['¥', 'JPY'],
  ['₹', 'INR'],
  ['₩', 'KRW'],
  ['₺', 'TRY'],
  ['zł', 'PLN'],
  ['Kč', 'CZK'],
  ['$', 'USD'],
];

/** A currency printed in a text: where, as written, and its ISO 4217 code. */
export interface CurrencyMark {
  readonly index: number;
  readonly text: string;
  readonly code: string;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const MARK = new RegExp(
  `(?<![\\p{L}\\p{N}])(?:${CODES.join('|')})(?![\\p{L}\\p{N}])|${SIGNS.map(([sign]) => (/^\p{L}/u.test(sign) ? `(?<![\\p{L}])${escape(sign)}` : escape(sign))).join('|')}`,
  'gu',
);

/** Every currency code or sign in `text`, in order. */
export function currencyMarks(text: string): CurrencyMark[] {
  const marks: CurrencyMark[] = [];
  for (const match of text.matchAll(MARK)) {
    const written = match[0];
    const code = (CODES as readonly string[]).includes(written)
      ? written
      : SIGNS.find(([sign]) => sign === written)?.[1];
    if (code !== undefined) marks.push({ index: match.index, text: written, code });
  }
  return marks;
}

/** The ISO code a currency value is written as (`€` → EUR, `eur` → EUR), if it is one. */
export function currencyCode(text: string): string | undefined {
  const trimmed = text.trim();
  const upper = trimmed.toUpperCase();
  if ((CODES as readonly string[]).includes(upper)) return upper;
  const sign = SIGNS.find(([written]) => written === trimmed);
  if (sign !== undefined) return sign[1];
  const marks = currencyMarks(trimmed);
  const codes = new Set(marks.map((mark) => mark.code));
  return codes.size === 1 ? marks[0]?.code : undefined;
}
