/**
 * Layouts beyond `Label: value` lines and `|` tables, as real invoices and receipts print them
 * and as a PDF's text layer or a scan's OCR hands them over (column gaps collapsed to one space):
 *
 * - labels without a colon, by the longest known label a line starts with (`Total due  1.428,00
 *   EUR`, `Invoice # VES-2026-031`, `VAT @ 20%  £190.00`), so `Invoice Date 2026-02-28` is a date
 *   line and not the invoice number `Date 2026-02-28`;
 * - line-item tables whose header names the columns (`Qty  Description  Unit £  Total £`) and
 *   whose rows are read from both ends (numbers at the edges, the description in between), so a
 *   row still reads when a PDF joins its cells with single spaces;
 * - item lines with no table header (`Site visits (3) ....... 600,00 EUR`) before the totals;
 * - the letterhead: the name a document opens with, when nothing labels the vendor.
 *
 * Pure functions of the text, like the rest of the extractor.
 */
import { currencyMarks } from './currency';
import {
  ALL_LABELS,
  COLUMN_CONCEPTS,
  type ColumnConcept,
  columnLabels,
  conceptLabels,
  INDEX_COLUMNS,
  LABEL_FILLER,
  TENDER_WORDS,
  TITLE_WORDS,
} from './vocabulary';

/** How a label is normalized (extract.ts `normalizeLabel`), passed in to avoid an import cycle. */
export type Normalize = (text: string) => string;

interface Token {
  readonly word: string;
  readonly start: number;
  readonly end: number;
}

const WORD = /[\p{L}\p{N}]+|#|[nN][°º]/gu;

function wordTokens(line: string, normalize: Normalize): Token[] {
  return [...line.matchAll(WORD)].map((match) => ({
    word: normalize(match[0]),
    start: match.index,
    end: match.index + match[0].length,
  }));
}

/** The label a line starts with and where its value begins. */
export interface LinePrefix {
  readonly label: string;
  readonly valueStart: number;
}

const MAX_LABEL_WORDS = 5;
// A label is a line's first few words: reading further would only cost time on long lines.
const LABEL_REACH = 160;

/** A run of words a line opens with, as a label would be written, and where it ends. */
interface Phrase {
  readonly label: string;
  readonly end: number;
}

// Lines repeat across lookups (every property asks about every line): their opening phrases are
// kept, up to a bound so a huge document cannot grow the cache without limit.
const PHRASE_CACHE = new Map<string, readonly Phrase[]>();
const PHRASE_CACHE_LIMIT = 20_000;

/**
 * The phrases a line opens with, longest first: its first one to five words (after bullets and
 * words like `incl.`) with only spaces, dots, hyphens or slashes between them.
 */
function openingPhrases(line: string, normalize: Normalize): readonly Phrase[] {
  const head = line.slice(0, LABEL_REACH);
  const cached = PHRASE_CACHE.get(head);
  if (cached !== undefined) return cached;
  const phrases: Phrase[] = [];
  const tokens = wordTokens(head, normalize);
  const opening = tokens[0];
  if (opening !== undefined && /^[\s\-–—*•·(]*$/u.test(head.slice(0, opening.start))) {
    let first = 0;
    while (first < tokens.length && LABEL_FILLER.has(tokens[first]?.word ?? '')) first += 1;
    const words: string[] = [];
    for (let at = first; at < Math.min(tokens.length, first + MAX_LABEL_WORDS); at += 1) {
      const token = tokens[at];
      const before = tokens[at - 1];
      if (token === undefined) break;
      if (
        at > first &&
        before !== undefined &&
        !/^[\s.\-/']*$/.test(head.slice(before.end, token.start))
      ) {
        break;
      }
      words.push(token.word);
      phrases.unshift({ label: words.join(' '), end: token.end });
    }
  }
  if (PHRASE_CACHE.size >= PHRASE_CACHE_LIMIT) PHRASE_CACHE.clear();
  PHRASE_CACHE.set(head, phrases);
  return phrases;
}

/**
 * The longest label of `vocabulary` the line starts with (after bullets and words like
 * `incl.`), and where the value after it starts; undefined when the line opens with no label.
 * Labels are whole words: `Total` does not start `Totals`, nor `Tax` `Taxi`.
 */
export function linePrefix(
  line: string,
  vocabulary: ReadonlySet<string>,
  normalize: Normalize,
): LinePrefix | undefined {
  for (const phrase of openingPhrases(line, normalize)) {
    if (vocabulary.has(phrase.label)) {
      return { label: phrase.label, valueStart: valueStart(line, phrase.end, normalize) };
    }
  }
  return undefined;
}

// What may sit between a label and its value: punctuation, a rate (`19%`, `(8.25%)`, `@ 20%`),
// a parenthetical, words like `incl.`, or a second wording after a slash (`Totale / Total`).
const MODIFIER = new RegExp(
  [
    // A hyphen is punctuation unless it signs the amount (`Credit -12,50`).
    String.raw`^(?:[\s:.#–—]|-(?!\s?[\p{Sc}\d]))+`,
    String.raw`^\(\s*[^)]*\)`,
    String.raw`^@`,
    String.raw`^\d+(?:[.,]\d+)?\s*%`,
    String.raw`^/\s*\p{L}+(?: \p{Ll}+)?(?=\s|:|$)`,
  ].join('|'),
  'u',
);

function valueStart(line: string, from: number, normalize: Normalize): number {
  let at = from;
  for (;;) {
    const rest = line.slice(at);
    const modifier = MODIFIER.exec(rest);
    if (modifier !== null && modifier[0].length > 0) {
      at += modifier[0].length;
      continue;
    }
    const word = /^\p{L}+\.?/u.exec(rest);
    if (word !== null && LABEL_FILLER.has(normalize(word[0]))) {
      at += word[0].length;
      continue;
    }
    return at;
  }
}

/** The value of a line after its label, trimmed; an unbalanced `)` at the end is dropped. */
export function valueAfter(line: string, prefix: LinePrefix): string {
  const value = line.slice(prefix.valueStart).trim();
  const open = (value.match(/\(/g) ?? []).length;
  const close = (value.match(/\)/g) ?? []).length;
  return close > open ? value.replace(/\)\s*$/, '').trim() : value;
}

// ---------------------------------------------------------------------------------------------
// Tables without pipes

/** A column of a header line: which line-item concept it is, as its header wrote it. */
export interface HeaderColumn {
  readonly concept: ColumnConcept | 'index';
  readonly label: string;
}

const COLUMN_VOCABULARY = new Map<string, ColumnConcept | 'index'>([
  ...COLUMN_CONCEPTS.flatMap((concept) =>
    columnLabels(concept).map((label) => [label, concept] as const),
  ),
  ...INDEX_COLUMNS.map((label) => [label, 'index'] as const),
]);

const COLUMN_FIRST_WORDS = new Set(
  [...COLUMN_VOCABULARY.keys()].map((label) => label.split(' ')[0] ?? ''),
);

const CURRENCY_WORD = /^(?:[A-Z]{3})$/;

/**
 * The columns of a table header line (`Qty Description Unit £ Total £`, `Artikel / Item  Menge
 * Einzelpreis  Betrag`): every word must name a column; undefined for any other line.
 */
export function headerColumns(line: string, normalize: Normalize): HeaderColumn[] | undefined {
  if (line.includes(':') || line.includes('|')) return undefined;
  const cleaned = line.replace(/\([^)]*\)/g, ' ');
  const raw = [...cleaned.matchAll(/[\p{L}\p{N}#]+|\//gu)].map((match) => match[0]);
  // Most lines are no header: their first word opens no column label.
  if (!COLUMN_FIRST_WORDS.has(normalize(raw[0] ?? ''))) return undefined;
  const words = raw.map((token) => (token === '/' ? '/' : normalize(token)));
  const columns: HeaderColumn[] = [];
  let alternative = false;
  for (let index = 0; index < raw.length;) {
    const token = raw[index] ?? '';
    if (token === '/') {
      alternative = true;
      index += 1;
      continue;
    }
    if (CURRENCY_WORD.test(token) && columns.length > 0 && currencyMarks(token).length > 0) {
      index += 1;
      continue;
    }
    let matched: { concept: ColumnConcept | 'index'; words: number; label: string } | undefined;
    for (let count = Math.min(3, raw.length - index); count >= 1; count -= 1) {
      const span = words.slice(index, index + count);
      if (span.includes('/')) continue;
      const label = span.join(' ');
      const concept = COLUMN_VOCABULARY.get(label);
      if (concept !== undefined) {
        matched = { concept, words: count, label };
        break;
      }
    }
    if (matched === undefined) return undefined;
    const previous = columns[columns.length - 1];
    if (alternative && previous !== undefined) {
      if (previous.concept === 'index' && matched.concept !== 'index') {
        columns[columns.length - 1] = { concept: matched.concept, label: matched.label };
      }
    } else {
      columns.push({ concept: matched.concept, label: matched.label });
    }
    alternative = false;
    index += matched.words;
  }
  const descriptions = columns.filter((column) => column.concept === 'description').length;
  const numeric = columns.filter(
    (column) => column.concept !== 'description' && column.concept !== 'index',
  ).length;
  return columns.length >= 2 && descriptions === 1 && numeric >= 1 ? columns : undefined;
}

const NUMBER_CELL = /^[-−(]?(?:[A-Z]{1,2}\$|\p{Sc})?\d[\d.,'’]*\)?\p{Sc}?$/u;
const CURRENCY_CELL = /^(?:[A-Z]{3}|[A-Z]{1,2}\$|\p{Sc})$/u;

interface Cell {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

function spaceTokens(line: string): Cell[] {
  return [...line.matchAll(/\S+/g)].map((match) => ({
    text: match[0],
    start: match.index,
    end: match.index + match[0].length,
  }));
}

/** One numeric cell ending at token `at` (read right to left): `900,00 EUR`, `CHF 2'000.00`. */
function cellEndingAt(
  tokens: readonly Cell[],
  at: number,
): { cell: Cell; from: number } | undefined {
  const last = tokens[at];
  if (last === undefined) return undefined;
  if (NUMBER_CELL.test(last.text)) {
    const before = tokens[at - 1];
    if (
      before !== undefined &&
      CURRENCY_CELL.test(before.text) &&
      currencyMarks(before.text).length > 0
    ) {
      return {
        cell: { text: `${before.text} ${last.text}`, start: before.start, end: last.end },
        from: at - 1,
      };
    }
    return { cell: last, from: at };
  }
  if (CURRENCY_CELL.test(last.text) && currencyMarks(last.text).length > 0) {
    const number = tokens[at - 1];
    if (number !== undefined && NUMBER_CELL.test(number.text)) {
      return {
        cell: { text: `${number.text} ${last.text}`, start: number.start, end: last.end },
        from: at - 1,
      };
    }
  }
  return undefined;
}

/** A row's cells in header order, or undefined when the line is no row of this table. */
export function readRow(line: string, columns: readonly HeaderColumn[]): string[] | undefined {
  const tokens = spaceTokens(line);
  const descriptionAt = columns.findIndex((column) => column.concept === 'description');
  const cells: string[] = new Array<string>(columns.length).fill('');
  let left = 0;
  for (let index = 0; index < descriptionAt; index += 1) {
    const token = tokens[left];
    // A quantity is a number; a row number or a date (`12/06/2026`) is one token with no letters.
    const fits =
      columns[index]?.concept === 'index'
        ? token !== undefined && !/\p{L}/u.test(token.text)
        : token !== undefined && NUMBER_CELL.test(token.text);
    if (token === undefined || !fits) return undefined;
    cells[index] = token.text;
    left += 1;
  }
  let right = tokens.length - 1;
  for (let index = columns.length - 1; index > descriptionAt; index -= 1) {
    if (right < left) return undefined;
    const read = cellEndingAt(tokens, right);
    if (read === undefined) return undefined;
    cells[index] = read.cell.text;
    right = read.from - 1;
  }
  const from = tokens[left]?.start;
  const to = tokens[right]?.end;
  if (from === undefined || to === undefined || right < left) return undefined;
  const description = cleanDescription(line.slice(from, to));
  if (!/\p{L}/u.test(description)) return undefined;
  cells[descriptionAt] = description;
  return cells;
}

/** Drops list bullets and dot leaders (`- Maintenance ........`) around a description. */
export function cleanDescription(text: string): string {
  return text
    .replace(/^\s*[-–—*•·]\s+/u, '')
    .replace(/\s*(?:\.{3,}|…+)\s*$/u, '')
    .replace(/\s+(?:\.{3,}|…+)\s+/gu, ' ')
    .trim();
}

/** Labels that open a summary line (subtotal, tax, total): where the items end. */
export const SUMMARY_LABELS: ReadonlySet<string> = new Set([
  ...conceptLabels('subtotal'),
  ...conceptLabels('tax'),
  ...conceptLabels('total'),
]);

const ALL_LABEL_SET: ReadonlySet<string> = new Set(ALL_LABELS);

const AMOUNT_START = /^(?:(?:[A-Z]{3}|[A-Z]{1,2}\$|\p{Sc})\s*)?[-−(]?\s?(?:\p{Sc}\s?)?\d/u;

/**
 * Whether a line is a subtotal, tax or total line: it opens with such a label and an amount
 * follows (`VAT No. IE 3456789KH` is a registration line, not a tax line).
 */
export function isSummaryLine(line: string, normalize: Normalize): boolean {
  const prefix = linePrefix(line, ALL_LABEL_SET, normalize);
  if (prefix === undefined || !SUMMARY_LABELS.has(prefix.label)) return false;
  return AMOUNT_START.test(valueAfter(line, prefix).replace(/^:\s*/, ''));
}

const MONEY_AT_END =
  /(?:(?:[A-Z]{3}|[A-Z]{1,2}\$|\p{Sc})\s?)?[-−]?\d{1,3}(?:[.,'’\u00a0 ]?\d{3})*[.,]\d{2}(?:\s?(?:[A-Z]{3}|\p{Sc}))?\s*$/u;

const MONEY = String.raw`(?:(?:[A-Z]{3}|[A-Z]{1,2}\$|\p{Sc})\s?)?\d[\d.,'’]*(?:\s?\p{Sc})?`;

// A till line `2 x Croissant @ 1.80   3.60`: quantity, description, unit price, amount.
const TIMES_ROW = new RegExp(
  String.raw`^\s*(\d+(?:[.,]\d+)?)\s*[x×]\s+(.+?)(?:\s+(?:@|at)\s*(${MONEY}))?\s+(${MONEY})\s*$`,
  'u',
);

/** The columns of the rows `headerlessItems` reads. */
export const HEADERLESS_COLUMNS = ['description', 'quantity', 'unit price', 'amount'] as const;

/**
 * Item lines of a document whose items have no table header: lines before the first summary
 * line that end with a money amount (two decimals) after a description, with no label of their
 * own; `2 x Croissant @ 1.80  3.60` also gives the quantity and unit price. Each row holds the
 * cells of `HEADERLESS_COLUMNS`, empty where the line has none.
 */
export function headerlessItems(lines: readonly string[], normalize: Normalize): string[][] {
  const rows: string[][] = [];
  const tender = new Set(TENDER_WORDS);
  for (const line of lines) {
    if (isSummaryLine(line, normalize)) break;
    if (line.includes(':') || line.includes('|')) continue;
    const money = MONEY_AT_END.exec(line);
    if (money === null) continue;
    const times = TIMES_ROW.exec(line);
    if (times !== null) {
      const [, quantity = '', description = '', unitPrice = '', amount = ''] = times;
      rows.push([cleanDescription(description), quantity, unitPrice, amount]);
      continue;
    }
    const description = cleanDescription(line.slice(0, money.index));
    const words = normalize(description);
    if (!/\p{L}{2,}/u.test(description) || tender.has(words) || words === 'change') continue;
    rows.push([description, '', '', money[0].trim()]);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Letterhead

const LETTERHEAD_LINES = 5;

/**
 * The name a document opens with: among its first lines, the first that is neither a title
 * (`TAX INVOICE`), a labelled line, an address line starting with a number, a contact line,
 * nor a sentence. Undefined when the document opens with none.
 */
export function letterhead(lines: readonly string[], normalize: Normalize): string | undefined {
  let seen = 0;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line === '\f') continue;
    seen += 1;
    if (seen > LETTERHEAD_LINES) return undefined;
    const words = normalize(line)
      .split(' ')
      .filter((word) => word !== '');
    if (words.length === 0 || words.length > 8 || line.length > 60) continue;
    if (words.every((word) => TITLE_WORDS.has(word))) continue;
    // `Invoice INV-2026-0311`, `Sale #88214 ...`: a title with a number, not a name.
    if (TITLE_WORDS.has(words[0] ?? '') && /\d/.test(line)) continue;
    if (/[:|@]/.test(line) || /^\d/.test(line) || /\bwww\.|https?:/i.test(line)) continue;
    if (/[!?]$/.test(line) || /\s\p{Ll}{4,}\.$/u.test(line)) continue;
    if (linePrefix(line, ALL_LABEL_SET, normalize) !== undefined && /\d/.test(line)) continue;
    if (!/\p{L}{2,}/u.test(line)) continue;
    return line;
  }
  return undefined;
}

// Words that say a line is about paying, so a tender named inside it is how the bill was paid.
const PAYMENT_CUES = new Set(['paid', 'payment', 'card', 'tender', 'charged']);

/**
 * The tender a receipt names: a line that opens with it (`VISA ****1234`, `CASH  $50.00`), or a
 * payment line that names it (`Paid by Visa: £352.50`). The tender's words as printed.
 */
export function tenderLine(lines: readonly string[], normalize: Normalize): string | undefined {
  const tenders = [...TENDER_WORDS].sort((a, b) => b.length - a.length);
  for (const raw of lines) {
    const tokens = [...raw.matchAll(/[\p{L}\p{N}]+/gu)];
    const words = tokens.map((token) => normalize(token[0]));
    const cued = words.some((word) => PAYMENT_CUES.has(word));
    for (let at = 0; at < words.length; at += 1) {
      if (at > 0 && !cued) break;
      const tender = tenders.find((candidate) => {
        const parts = candidate.split(' ');
        return parts.every((part, offset) => words[at + offset] === part);
      });
      if (tender === undefined) continue;
      const first = tokens[at];
      const last = tokens[at + tender.split(' ').length - 1];
      if (first === undefined || last === undefined) continue;
      return raw.slice(first.index, last.index + last[0].length);
    }
  }
  return undefined;
}
