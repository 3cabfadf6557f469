/**
 * Amounts as printed (normalize-amounts@2, ground-quotes@3): the number, and the currency a
 * code or sign next to it names. The code list is fixed here rather than read from the
 * runtime's ICU data, so a Node upgrade cannot change how a recorded step replays.
 */

// Digits grouped in threes by one separator (`5,400.00`, `1 234,5`, `1'000`), or plain digits
// with at most one decimal separator (`45.00`, `12,5`).
export const NUMBER_TOKEN =
  /\d{1,3}(?:([,.' \u00a0\u202f])\d{3})(?:\1\d{3})*(?:[.,]\d+)?(?!\d)|\d+(?:[.,]\d+)?/gu;

/**
 * Every reading of a number as printed: `5,400.00` is 5400; `1,234` may be 1234 (thousands) or
 * 1.234 (a decimal comma), so both are returned.
 */
export function numberReadings(token: string): number[] {
  const compact = token.replace(/[' \u00a0\u202f]/g, '');
  const dots = compact.split('.').length - 1;
  const commas = compact.split(',').length - 1;
  const plain = (s: string) => Number(s);
  if (dots > 0 && commas > 0) {
    const decimal = compact.lastIndexOf('.') > compact.lastIndexOf(',') ? '.' : ',';
    const thousands = decimal === '.' ? ',' : '.';
    return [plain(compact.split(thousands).join('').replace(decimal, '.'))];
  }
  const separator = dots > 0 ? '.' : commas > 0 ? ',' : undefined;
  if (separator === undefined) return [plain(compact)];
  const count = separator === '.' ? dots : commas;
  if (count > 1) return [plain(compact.split(separator).join(''))];
  const asDecimal = plain(compact.replace(separator, '.'));
  // One separator before exactly three digits: a thousands group or a 3-place decimal.
  if (/^[1-9]\d{0,2}[.,]\d{3}$/.test(compact) && token === compact) {
    return [plain(compact.replace(separator, '')), asDecimal];
  }
  return [asDecimal];
}

/** ISO 4217 codes of current currencies. */
export const ISO_4217 = new Set(
  (
    'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN ' +
    'BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD ' +
    'FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY ' +
    'KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP ' +
    'MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR ' +
    'RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT ' +
    'TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ' +
    'ZMW ZWG'
  ).split(' '),
);

/** Signs read as one currency (as normalize-amounts@1 reads them), and `US$`. */
export const CURRENCY_SIGNS: Readonly<Record<string, string>> = {
  $: 'USD',
  US$: 'USD',
  '€': 'EUR',
  '£': 'GBP',
  '¥': 'JPY',
  '₹': 'INR',
};

/** The currency `text` names: an ISO code (any case) or a sign; undefined otherwise. */
export function currencyCode(text: string): string | undefined {
  const t = text.trim();
  const sign = CURRENCY_SIGNS[t];
  if (sign !== undefined) return sign;
  return ISO_4217.has(t.toUpperCase()) ? t.toUpperCase() : undefined;
}

export interface CurrencyMark {
  code: string;
  /** Printed as a sign (`$`), which several currencies share, rather than as its code. */
  sign: boolean;
  /** Where in the text the code or sign is. */
  start: number;
  end: number;
}

const MARK = /US\$|\p{Sc}|(?<![\p{L}\p{N}])[A-Z]{3}(?![\p{L}\p{N}])/gu;

/**
 * The currencies marked right next to a number in `text` (`10.86 USD`, `$10.86`, `EUR 5,00`),
 * each once, in order. A code not next to a number (`VAT 19%: 2.00`) names nothing.
 */
export function currencyMarks(text: string): CurrencyMark[] {
  const marks: CurrencyMark[] = [];
  for (const m of text.matchAll(MARK)) {
    const code = m[0] === 'US$' || m[0].length === 1 ? CURRENCY_SIGNS[m[0]] : m[0];
    if (code === undefined || (m[0].length === 3 && !ISO_4217.has(code))) continue;
    const start = m.index;
    const end = start + m[0].length;
    const before = text.slice(0, start);
    const after = text.slice(end);
    if (/\d[\s\u00a0]?$/u.test(before) || /^[\s\u00a0]?[-−(]?\d/u.test(after)) {
      marks.push({ code, sign: m[0].length === 1 || m[0] === 'US$', start, end });
    }
  }
  return marks;
}

export interface WrittenAmount {
  /** The amount as a plain decimal string with at least two decimals: `5400.00`, `0.125`. */
  decimal: string;
  currency?: CurrencyMark;
}

const AMOUNT =
  /^(?<sign1>[-−])?\s*(?<pre>US\$|\p{Sc}|[A-Za-z]{3})?\s*(?<sign2>[-−])?\s*(?<open>\()?\s*(?<number>\d[\d.,' \u00a0\u202f]*\d|\d)\s*(?<close>\))?\s*(?<post>\p{Sc}|[A-Za-z]{3})?\s*(?<sign3>[-−])?$/u;

/**
 * An amount as printed in a text field (`5,400.00`, `10.86 USD`, `-$3.50`, `(12.00)`,
 * `1.234,56 €`): the decimal it is, and the currency named with it. Undefined for anything
 * else, including text around it or two currencies. Lossless: no rounding.
 */
export function readAmount(text: string): WrittenAmount | undefined {
  const m = AMOUNT.exec(text.trim());
  const g = m?.groups;
  if (!g || g.number === undefined) return undefined;
  if ((g.open === undefined) !== (g.close === undefined)) return undefined;
  if (g.pre !== undefined && g.post !== undefined) return undefined;
  const negative =
    [g.sign1, g.sign2, g.sign3].filter((s) => s !== undefined).length + (g.open ? 1 : 0);
  if (negative > 1) return undefined;
  const decimal = decimalOf(g.number);
  if (decimal === undefined) return undefined;
  const mark = g.pre ?? g.post;
  let currency: CurrencyMark | undefined;
  if (mark !== undefined) {
    const code = currencyCode(mark);
    if (code === undefined) return undefined;
    const offset = text.indexOf(mark);
    const sign = mark.length === 1 || mark === 'US$';
    currency = { code, sign, start: offset, end: offset + mark.length };
  }
  const signed = negative === 1 && /[1-9]/.test(decimal) ? `-${decimal}` : decimal;
  return currency === undefined ? { decimal: signed } : { decimal: signed, currency };
}

/**
 * A printed number as a decimal string. Amounts have no 3-place decimals in practice, so a
 * lone separator before three digits (`5,400`, `5.400`) is a thousands separator here.
 */
function decimalOf(token: string): string | undefined {
  if (
    !/^\d{1,3}(?:([,.' \u00a0\u202f])\d{3})(?:\1\d{3})*(?:[.,]\d+)?$|^\d+(?:[.,]\d+)?$/u.test(token)
  )
    return undefined;
  // Rebuild the digits rather than format the float: `0.125` stays `0.125`.
  const compact = token.replace(/[' \u00a0\u202f]/g, '');
  const lastDot = compact.lastIndexOf('.');
  const lastComma = compact.lastIndexOf(',');
  let decimalAt = Math.max(lastDot, lastComma);
  if (decimalAt !== -1) {
    const separator = compact[decimalAt] ?? '';
    const others = compact.split(separator).length - 1;
    // `5,400` is a thousands group; `0.125` and `1234.567` are decimals (a group follows 1-3
    // digits that do not start with a zero).
    const groupOfThree =
      compact.length - decimalAt - 1 === 3 && /^[1-9]\d{0,2}$/.test(compact.slice(0, decimalAt));
    const mixed = lastDot !== -1 && lastComma !== -1;
    if (!mixed && (others > 1 || groupOfThree)) decimalAt = -1;
  }
  const whole = (decimalAt === -1 ? compact : compact.slice(0, decimalAt)).replace(/[.,]/g, '');
  const fraction = decimalAt === -1 ? '' : compact.slice(decimalAt + 1);
  const trimmedWhole = whole.replace(/^0+(?=\d)/, '');
  return `${trimmedWhole}.${fraction.padEnd(2, '0')}`;
}
