/**
 * Deterministic "model": fills a JSON Schema from labelled lines and tables in a document's
 * text. Pure — no I/O, no randomness, no clock — so the same document and schema always give the
 * same answer, which is what lets tests compare providers and repeat runs byte for byte.
 */
import { currencyCode, currencyMarks } from './currency';
import { documentDayOrder, type DayOrder, findDate } from './dates';
import {
  HEADERLESS_COLUMNS,
  headerColumns,
  headerlessItems,
  isSummaryLine,
  letterhead,
  type LinePrefix,
  linePrefix,
  readRow,
  tenderLine,
  valueAfter,
} from './layout';
import { type JsonSchema, type ResolvedSchema, resolveSchema } from './schema';
import { ALL_LABELS, type Concept, conceptLabels, conceptOf, LABEL_FILLER } from './vocabulary';

export type { JsonSchema } from './schema';

/** A `Label: value` line as read from the document. */
export interface LabelledLine {
  /** The label as written, trimmed. */
  readonly label: string;
  /** The value as written, trimmed; always a verbatim substring of the document. */
  readonly value: string;
}

interface IndexedLabel {
  /** Normalized label with parenthetical text kept: `VAT (19%)` → `vat 19`. */
  readonly full: string;
  /** Normalized label without parenthetical text: `VAT (19%)` → `vat`. */
  readonly stripped: string;
  /**
   * What the label names once rates, currencies and words like `incl.` are dropped, one per
   * wording it gives: `incl. VAT 7%` → `vat`; `Datum/Date` → `datum`, `date`.
   */
  readonly keys: readonly string[];
}

interface IndexedLine extends IndexedLabel {
  readonly value: string;
}

interface Table {
  readonly headers: readonly IndexedLabel[];
  readonly rows: readonly (readonly string[])[];
  /** Normalized label of the line right above the header, e.g. `line items` for `Line items:`. */
  readonly title: string | undefined;
}

interface ParsedDocument {
  readonly lines: readonly IndexedLine[];
  readonly tables: readonly Table[];
  /** Every line as written, for labels without a colon and for what no label names. */
  readonly rawLines: readonly string[];
  /** How the document writes numeric dates, when it says. */
  readonly dayOrder: DayOrder | undefined;
}

/** What a value must look like to be taken from a line. */
type ValueKind = 'string' | 'number' | 'date' | 'currency';

/** Where a property's raw text is looked up: the document's labelled lines, or one table row. */
interface Source {
  find(candidates: readonly string[], kind?: ValueKind): string | undefined;
  /** What a reader takes when no label names the property (the letterhead for the vendor...). */
  unlabelled(concept: Concept | undefined): string | undefined;
  readonly document: ParsedDocument | undefined;
}

interface Filled {
  readonly value: unknown;
  readonly found: boolean;
}

interface Field {
  /** The property name, absent for the root and for table rows. */
  readonly name?: string;
  /** Normalized name of the enclosing property, tried as a prefix (`vendor` + `name`). */
  readonly parent?: string;
}

// Abbreviations of "number" that invoices use in labels, so `invoiceNumber` matches `Invoice No.`.
const NUMBER_WORDS = new Set(['no', 'nr', 'num', 'nbr', 'number']);

/**
 * Normalizes a label or property name to lowercase words: camelCase and snake_case are split,
 * punctuation dropped, `#`/`No.`/`Nr.` read as `number`. With `stripParentheticals`, text in
 * brackets is dropped first (`Unit Price (EUR)` → `unit price`).
 */
export function normalizeLabel(text: string, stripParentheticals = false): string {
  let spaced = stripParentheticals ? text.replace(/\([^)]*\)|\[[^\]]*\]/g, ' ') : text;
  spaced = spaced
    .replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu}+)(\p{Lu}\p{Ll})/gu, '$1 $2')
    .replace(/[nN][°º]/g, ' number ')
    .replace(/#/g, ' number ');
  return spaced
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '')
    .map((word) => (NUMBER_WORDS.has(word) ? 'number' : word))
    .join(' ');
}

/**
 * Reads the synonyms a schema author listed in a description as `Labels: Invoice No, Bill number.`
 * (case-insensitive, comma separated, ending at a period followed by space or the end).
 */
export function labelsFromDescription(description: string | undefined): string[] {
  if (description === undefined) return [];
  const match = /\blabels?\s*:\s*([\s\S]*?)(?:\.(?=\s|$)|$)/i.exec(description);
  const list = match?.[1];
  if (list === undefined) return [];
  return list
    .split(',')
    .map((label) => normalizeLabel(label))
    .filter((label) => label !== '');
}

function parseLabelledLine(line: string): LabelledLine | undefined {
  // Table rows are read as tables; their cells would otherwise look like labels.
  if (line.includes('|')) return undefined;
  const body = line.replace(/^\s*(?:[-*•]\s+)?/u, '');
  const colon = body.indexOf(':');
  const dash = /\s[-–—]\s/u.exec(body);
  let cut: { at: number; length: number } | undefined;
  if (colon > 0) cut = { at: colon, length: 1 };
  if (dash !== null && dash.index > 0 && (cut === undefined || dash.index < cut.at)) {
    cut = { at: dash.index, length: dash[0].length };
  }
  if (cut === undefined) return undefined;
  const label = body.slice(0, cut.at).trim();
  const value = body.slice(cut.at + cut.length).trim();
  if (label === '' || value === '' || label.length > 80) return undefined;
  return { label, value };
}

/** Every `Label: value` (or `Label - value`) line of `text`, in document order. */
export function readLabelledLines(text: string): LabelledLine[] {
  const found: LabelledLine[] = [];
  for (const line of text.split(/\r?\n/)) {
    const parsed = parseLabelledLine(line);
    if (parsed !== undefined) found.push(parsed);
  }
  return found;
}

function labelKey(label: string): string {
  return normalizeLabel(
    label.replace(/\b[A-Z]{3}\b/g, (code) => (currencyCode(code) ? ' ' : code)),
    true,
  )
    .split(' ')
    .filter((word) => word !== '' && !/^\d+$/.test(word) && !LABEL_FILLER.has(word))
    .join(' ');
}

function indexLabel(label: string): IndexedLabel {
  const full = normalizeLabel(label);
  const stripped = normalizeLabel(label, true);
  const keys = [label, ...(label.includes('/') ? label.split('/') : [])]
    .map(labelKey)
    .filter((key) => key !== '');
  return { full, stripped: stripped === '' ? full : stripped, keys: [...new Set(keys)] };
}

function splitCells(line: string): string[] {
  const cells = line.split('|').map((cell) => cell.trim());
  if (cells[0] === '') cells.shift();
  if (cells[cells.length - 1] === '') cells.pop();
  return cells;
}

function isSeparatorRow(line: string): boolean {
  return /^[\s|:=+-]+$/.test(line) && line.includes('-');
}

function parseDocument(text: string): ParsedDocument {
  const rawLines = text.split(/\r?\n/);
  const lines: IndexedLine[] = [];
  const tables: Table[] = [];
  const spacedTables = new Map<
    string,
    { headers: IndexedLabel[]; rows: string[][]; title: undefined }
  >();
  let previous: string | undefined;
  for (let index = 0; index < rawLines.length; index += 1) {
    const line = rawLines[index] ?? '';
    if (line.includes('|') && splitCells(line).length >= 2) {
      const headers = splitCells(line).map(indexLabel);
      const rows: string[][] = [];
      let next = index + 1;
      for (; next < rawLines.length; next += 1) {
        const rowLine = rawLines[next] ?? '';
        if (rowLine.trim() === '' || !rowLine.includes('|')) break;
        if (isSeparatorRow(rowLine)) continue;
        const cells = splitCells(rowLine);
        if (cells.some((cell) => cell !== '')) rows.push(cells);
      }
      const title = previous === undefined ? undefined : indexLabel(previous.replace(/:\s*$/, ''));
      tables.push({ headers, rows, title: title?.stripped });
      index = next - 1;
      previous = undefined;
      continue;
    }
    const columns = headerColumns(line, normalizeLabel);
    if (columns !== undefined) {
      const rows: string[][] = [];
      let next = index + 1;
      for (; next < rawLines.length; next += 1) {
        const rowLine = rawLines[next] ?? '';
        if (isSummaryLine(rowLine, normalizeLabel)) break;
        const cells = readRow(rowLine, columns);
        if (cells === undefined) break;
        rows.push(cells);
      }
      // A table continued on the next page repeats its header: its rows join the first part.
      const signature = columns.map((column) => column.concept).join(',');
      const earlier = spacedTables.get(signature);
      if (earlier !== undefined) earlier.rows.push(...rows);
      else {
        const table = {
          headers: columns.map((column) => indexLabel(column.label)),
          rows,
          title: undefined,
        };
        spacedTables.set(signature, table);
        tables.push(table);
      }
      index = next - 1;
      previous = undefined;
      continue;
    }
    const parsed = parseLabelledLine(line);
    if (parsed !== undefined) lines.push({ ...indexLabel(parsed.label), value: parsed.value });
    previous = line.trim() === '' ? undefined : line.trim();
  }
  if (tables.length === 0) {
    const rows = headerlessItems(rawLines, normalizeLabel);
    if (rows.length > 0) {
      tables.push({
        headers: HEADERLESS_COLUMNS.map((label) => indexLabel(label)),
        rows,
        title: undefined,
      });
    }
  }
  return { lines, tables, rawLines, dayOrder: documentDayOrder(text) };
}

// An amount a label introduces: a currency mark at most, then the number (`EUR -12,50`, `$3`).
const MONEY_START = /^(?:(?:[A-Z]{3}|[A-Z]{1,2}\$|\p{Sc})\s*)?[-−(]?\s?(?:\p{Sc}\s?)?\d/u;

/**
 * The part of a labelled value that `kind` takes, or undefined when it holds none: a date's own
 * text (`2026-02-14` of `2026-02-14 08:31`), an amount that starts the value, a currency.
 * `strict` is for labels found by their wording rather than written exactly as asked: their
 * value must start with the amount, so `VAT Reg. No. GB 123` is no tax amount.
 */
function valueOfKind(value: string, kind: ValueKind, strict: boolean): string | undefined {
  switch (kind) {
    case 'number':
      if (strict) return MONEY_START.test(value) ? value : undefined;
      return parseNumber(value) === undefined ? undefined : value;
    case 'date':
      // `Due: upon receipt` names no date; a model answers null there rather than the words.
      return findDate(value)?.text;
    case 'currency':
      return currencyCode(value) === undefined && strict ? undefined : value;
    case 'string':
      return value;
  }
}

const ALL_LABEL_SET: ReadonlySet<string> = new Set(ALL_LABELS);

function documentSource(document: ParsedDocument): Source {
  // Lines a label without a colon may open: not table rows, not `Label: value` lines.
  const unlabelledLines = document.rawLines
    .filter((raw) => !raw.includes('|') && parseLabelledLine(raw) === undefined)
    .map((raw) => ({ raw }));
  const source: Source = {
    document,
    find(candidates, kind = 'string') {
      let prefixed: { raw: string; prefix: LinePrefix | undefined }[] | undefined;
      // Each line's longest label among all known ones and these candidates, read once a call.
      const prefixes = () => {
        const vocabulary = new Set([...ALL_LABEL_SET, ...candidates]);
        prefixed ??= unlabelledLines.map(({ raw }) => ({
          raw,
          prefix: linePrefix(raw, vocabulary, normalizeLabel),
        }));
        return prefixed;
      };
      for (const candidate of candidates) {
        for (const strict of [false, true]) {
          for (const line of document.lines) {
            const named = strict
              ? line.keys.includes(candidate)
              : line.full === candidate || line.stripped === candidate;
            if (!named) continue;
            const value = valueOfKind(line.value, kind, strict);
            if (value !== undefined) return value;
          }
        }
        for (const { raw, prefix } of prefixes()) {
          if (prefix?.label !== candidate) continue;
          const value = valueOfKind(valueAfter(raw, prefix), kind, true);
          if (value !== undefined && value !== '') return value;
        }
      }
      return undefined;
    },
    unlabelled(concept) {
      switch (concept) {
        case 'vendor':
        case 'merchant':
          return looksLikeBusinessDocument(document)
            ? letterhead(document.rawLines, normalizeLabel)
            : undefined;
        case 'issueDate':
        case 'transactionDate':
          return firstDate(document);
        case 'currency':
          return printedCurrency(source);
        case 'paymentMethod':
          return tenderLine(document.rawLines, normalizeLabel);
        default:
          return undefined;
      }
    },
  };
  return source;
}

/** Whether the text has an amount or a summary line: a name at its top is then a letterhead. */
function looksLikeBusinessDocument(document: ParsedDocument): boolean {
  return document.rawLines.some(
    (line) => isSummaryLine(line, normalizeLabel) || /\d[.,]\d{2}(?!\d)/.test(line),
  );
}

/** The first date the document prints outside a due-date line. */
function firstDate(document: ParsedDocument): string | undefined {
  const due = new Set(conceptLabels('dueDate'));
  for (const raw of document.rawLines) {
    const label = parseLabelledLine(raw)?.label;
    const prefix =
      label === undefined ? linePrefix(raw, ALL_LABEL_SET, normalizeLabel)?.label : labelKey(label);
    if (prefix !== undefined && due.has(prefix)) continue;
    const date = findDate(raw);
    if (date !== undefined) return date.text;
  }
  return undefined;
}

/**
 * The currency printed with the total, else the first one printed next to a number. A bare `$`
 * is shared by many currencies: a dollar code the document prints anywhere (`Amount Due (CAD)`)
 * says which one it is.
 */
function printedCurrency(source: Source): string | undefined {
  const lines = source.document?.rawLines ?? [];
  const total = source.find([...conceptLabels('total')], 'number');
  let found = total === undefined ? undefined : currencyMarks(total)[0]?.text;
  if (found === undefined) {
    found = lines
      .flatMap((raw) =>
        currencyMarks(raw).filter((mark) =>
          /\d/.test(raw.slice(Math.max(0, mark.index - 2), mark.index + mark.text.length + 2)),
        ),
      )
      .at(0)?.text;
  }
  if (found !== '$') return found;
  const dollarCode = lines
    .flatMap((raw) => currencyMarks(raw))
    .find(
      (mark) => mark.text !== '$' && /^[A-Z]{3}$/.test(mark.text) && DOLLAR_CODES.has(mark.code),
    );
  return dollarCode?.text ?? found;
}

const DOLLAR_CODES: ReadonlySet<string> = new Set(['USD', 'CAD', 'AUD', 'NZD', 'SGD', 'HKD']);

function headerIndex(headers: readonly IndexedLabel[], candidates: readonly string[]): number {
  for (const candidate of candidates) {
    const exact = headers.findIndex((header) => header.full === candidate);
    if (exact >= 0) return exact;
    const loose = headers.findIndex((header) => header.stripped === candidate);
    if (loose >= 0) return loose;
  }
  for (const candidate of candidates) {
    const keyed = headers.findIndex((header) => header.keys.includes(candidate));
    if (keyed >= 0) return keyed;
  }
  return -1;
}

function rowSource(headers: readonly IndexedLabel[], cells: readonly string[]): Source {
  return {
    document: undefined,
    find(candidates) {
      const cell = cells[headerIndex(headers, candidates)];
      return cell === undefined || cell === '' ? undefined : cell;
    },
    unlabelled: () => undefined,
  };
}

/** The concept a property stands for, by its own name or with its parent's (`vendor` `name`). */
function fieldConcept(field: Field): Concept | undefined {
  if (field.name === undefined) return undefined;
  const own = normalizeLabel(field.name);
  const parent = field.parent === undefined || field.parent === '' ? undefined : field.parent;
  return conceptOf(own) ?? (parent === undefined ? undefined : conceptOf(`${parent} ${own}`));
}

/**
 * Labels to look for, best first: the schema's own `Labels:`, the parent-prefixed and plain
 * property name, then what documents commonly print for the property's concept.
 */
function candidatesFor(field: Field, description: string | undefined): string[] {
  if (field.name === undefined) return [];
  const own = normalizeLabel(field.name);
  const candidates = [...labelsFromDescription(description)];
  if (field.parent !== undefined && field.parent !== '') candidates.push(`${field.parent} ${own}`);
  candidates.push(own);
  candidates.push(...conceptLabels(fieldConcept(field)));
  return [...new Set(candidates.filter((candidate) => candidate !== ''))];
}

const DATE_CONCEPTS: ReadonlySet<Concept | undefined> = new Set([
  'issueDate',
  'dueDate',
  'transactionDate',
]);

/** What a property's value must look like in the document, from its type and concept. */
function kindOf(field: Field, resolved: ResolvedSchema): ValueKind {
  if (resolved.type === 'number' || resolved.type === 'integer') return 'number';
  const concept = fieldConcept(field);
  if (DATE_CONCEPTS.has(concept) || resolved.schema.format === 'date') return 'date';
  if (concept === 'currency') return 'currency';
  return 'string';
}

/** The raw text of a property: at its label, else where a reader finds it without one. */
function lookUp(
  field: Field,
  resolved: ResolvedSchema,
  description: string | undefined,
  source: Source,
): string | undefined {
  const kind = kindOf(field, resolved);
  return (
    source.find(candidatesFor(field, description), kind) ?? source.unlabelled(fieldConcept(field))
  );
}

/**
 * The typed form a model gives a grounded value beside its verbatim quote: an ISO date where
 * the date reads one way only, an ISO 4217 code for a currency sign.
 */
function typedForm(
  text: string,
  field: Field,
  valueSchema: ResolvedSchema,
  source: Source,
): string {
  const kind = kindOf(field, valueSchema);
  if (kind === 'date') return findDate(text, source.document?.dayOrder)?.iso ?? text;
  if (kind === 'currency') return currencyCode(text) ?? text;
  return text;
}

// A number: either digit groups split by spaces/apostrophes (`1 234,56`, `1'234.56`), or digits
// with `.`/`,` separators (`1.234,56`, `1,234.56`, `3,5`).
const NUMBER_PATTERN = /\d{1,3}(?:[ \u00a0\u202f']\d{3})+(?:[.,]\d+)?(?!\d)|\d(?:[\d.,]*\d)?/u;

/**
 * Reads the first number in `text`, ignoring currency symbols and thousands separators and
 * accepting European `1.234,56`. A minus sign or accounting parentheses make it negative.
 */
export function parseNumber(text: string): number | undefined {
  const match = NUMBER_PATTERN.exec(text);
  if (match === null) return undefined;
  let digits = match[0].replace(/[ \u00a0\u202f']/g, '');
  const lastDot = digits.lastIndexOf('.');
  const lastComma = digits.lastIndexOf(',');
  if (lastDot >= 0 && lastComma >= 0) {
    const decimal = lastDot > lastComma ? '.' : ',';
    const thousands = decimal === '.' ? ',' : '.';
    digits = digits.split(thousands).join('').replace(decimal, '.');
  } else if (lastComma >= 0) {
    const commas = digits.split(',').length - 1;
    // `1,234` and `1,234,567` are English thousands; `12,5` and `1234,56` are European decimals.
    digits =
      /^\d{1,3}(?:,\d{3})+$/.test(digits) || commas > 1
        ? digits.replace(/,/g, '')
        : digits.replace(',', '.');
  } else if (/^\d{1,3}(?:\.\d{3}){2,}$/.test(digits)) {
    digits = digits.replace(/\./g, '');
  }
  const magnitude = Number.parseFloat(digits);
  if (!Number.isFinite(magnitude)) return undefined;
  const before = text.slice(0, match.index);
  const after = text.slice(match.index + match[0].length);
  const minus = /(?:^|[\s(\p{Sc}])[-−]\s*(?:\p{Sc}|[A-Z]{3})?\s*$/u.test(before);
  const parenthesized = /\(\s*(?:\p{Sc}|[A-Z]{3})?\s*$/u.test(before) && /^\s*\)/.test(after);
  const value = minus || parenthesized ? -magnitude : magnitude;
  return Object.is(value, -0) ? 0 : value;
}

/** Reads yes/no style answers; anything else is not a boolean. */
export function parseBoolean(text: string): boolean | undefined {
  const word =
    text
      .trim()
      .toLowerCase()
      .split(/[\s,.;]+/)[0] ?? '';
  if (['yes', 'y', 'true', '1', 'on', 'x', '✓', '✔', 'ja', 'oui', 'si', 'sí'].includes(word)) {
    return true;
  }
  if (['no', 'n', 'false', '0', 'off', '✗', '✘', 'nein', 'non'].includes(word)) return false;
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function matchEnum(text: string, members: readonly unknown[]): { value: unknown } | undefined {
  const lower = text.trim().toLowerCase();
  const strings = members.filter((member): member is string => typeof member === 'string');
  const exact = strings.find((member) => member.toLowerCase() === lower);
  if (exact !== undefined) return { value: exact };
  const squashed = normalizeLabel(text).replace(/ /g, '');
  const loose = strings.find((member) => normalizeLabel(member).replace(/ /g, '') === squashed);
  if (loose !== undefined) return { value: loose };
  // `EUR (Euro)` or `Paid by card` still name a member; take the earliest mention, longest first.
  let best: { value: string; at: number } | undefined;
  for (const member of strings) {
    if (member.trim() === '') continue;
    const at = new RegExp(
      `(?<![\\p{L}\\p{N}])${escapeRegExp(member)}(?![\\p{L}\\p{N}])`,
      'iu',
    ).exec(text)?.index;
    if (at === undefined) continue;
    if (
      best === undefined ||
      at < best.at ||
      (at === best.at && member.length > best.value.length)
    ) {
      best = { value: member, at };
    }
  }
  if (best !== undefined) return { value: best.value };
  const number = parseNumber(text);
  const numeric = members.find((member) => typeof member === 'number' && member === number);
  if (numeric !== undefined) return { value: numeric };
  const flag = parseBoolean(text);
  const boolean = members.find((member) => typeof member === 'boolean' && member === flag);
  return boolean === undefined ? undefined : { value: boolean };
}

function convertScalar(text: string, resolved: ResolvedSchema): { value: unknown } | undefined {
  const { schema, type } = resolved;
  if ('const' in schema) return { value: schema.const };
  const members = schema.enum?.filter((member) => member !== null);
  if (members !== undefined && members.length > 0) return matchEnum(text, members);
  switch (type) {
    case 'number': {
      const number = parseNumber(text);
      return number === undefined ? undefined : { value: number };
    }
    case 'integer': {
      const number = parseNumber(text);
      return number === undefined ? undefined : { value: Math.round(number) };
    }
    case 'boolean': {
      const flag = parseBoolean(text);
      return flag === undefined ? undefined : { value: flag };
    }
    case 'null':
      return { value: null };
    default:
      return { value: text };
  }
}

function splitList(text: string): string[] {
  const separator = text.includes(';') ? /\s*;\s*/ : text.includes(', ') ? /,\s+/ : /\s*,\s*/;
  return text
    .split(separator)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Converts a raw value to a scalar, or a list of scalars when the schema is an array. */
function convertRaw(
  text: string,
  resolved: ResolvedSchema,
  root: JsonSchema,
): { value: unknown } | undefined {
  if (resolved.type !== 'array') return convertScalar(text, resolved);
  const items = resolveSchema(resolved.schema.items ?? {}, root);
  if (items.type === 'object' || items.type === 'array') return undefined;
  const values: unknown[] = [];
  for (const item of splitList(text)) {
    const converted = convertScalar(item, items);
    if (converted !== undefined) values.push(converted.value);
  }
  return { value: values };
}

function zeroValue(resolved: ResolvedSchema, root: JsonSchema): unknown {
  const { schema, type } = resolved;
  if ('const' in schema) return schema.const;
  const member = schema.enum?.find((candidate) => candidate !== null);
  if (member !== undefined) return member;
  switch (type) {
    case 'string':
      return '';
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return fill(schema, {}, emptySource, root).value;
    default:
      return null;
  }
}

function missing(resolved: ResolvedSchema, root: JsonSchema): Filled {
  return { value: resolved.nullable ? null : zeroValue(resolved, root), found: false };
}

const emptySource: Source = {
  document: undefined,
  find: () => undefined,
  unlabelled: () => undefined,
};

function isGrounded(schema: JsonSchema): boolean {
  const keys = Object.keys(schema.properties ?? {}).sort();
  return keys.length === 2 && keys[0] === 'quote' && keys[1] === 'value';
}

function fillGrounded(
  resolved: ResolvedSchema,
  field: Field,
  source: Source,
  root: JsonSchema,
): Filled {
  const properties = resolved.schema.properties ?? {};
  const valueSchema = resolveSchema(properties.value ?? {}, root);
  const quoteSchema = resolveSchema(properties.quote ?? {}, root);
  const raw = lookUp(field, valueSchema, resolved.description ?? valueSchema.description, source);
  const converted =
    raw === undefined
      ? undefined
      : valueSchema.type === 'string' && valueSchema.schema.enum === undefined
        ? { value: typedForm(raw, field, valueSchema, source) }
        : convertRaw(raw, valueSchema, root);
  const build = (value: unknown, quote: unknown): Record<string, unknown> => {
    // Keep the schema's key order so the JSON text matches what a model would emit.
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(properties)) out[key] = key === 'value' ? value : quote;
    return out;
  };
  if (raw !== undefined && converted !== undefined) {
    return { value: build(converted.value, raw), found: true };
  }
  if (resolved.nullable && !(valueSchema.nullable && quoteSchema.nullable)) {
    return { value: null, found: false };
  }
  return {
    value: build(missing(valueSchema, root).value, missing(quoteSchema, root).value),
    found: false,
  };
}

function chooseTable(
  document: ParsedDocument,
  candidates: readonly string[],
  items: ResolvedSchema,
  root: JsonSchema,
): Table | undefined {
  const properties = Object.entries(items.schema.properties ?? {});
  let best: { table: Table; score: number; titled: boolean } | undefined;
  for (const table of document.tables) {
    const score = properties.filter(([name, schema]) => {
      const description = resolveSchema(schema, root).description;
      return headerIndex(table.headers, candidatesFor({ name }, description)) >= 0;
    }).length;
    const titled = table.title !== undefined && candidates.includes(table.title);
    if (score === 0) continue;
    if (
      best === undefined ||
      score > best.score ||
      (score === best.score && titled && !best.titled)
    ) {
      best = { table, score, titled };
    }
  }
  return best?.table;
}

function fillArray(
  resolved: ResolvedSchema,
  field: Field,
  source: Source,
  root: JsonSchema,
): Filled {
  const items = resolveSchema(resolved.schema.items ?? {}, root);
  const candidates = candidatesFor(field, resolved.description);
  if (items.type === 'object') {
    const table =
      source.document === undefined
        ? undefined
        : chooseTable(source.document, candidates, items, root);
    if (table === undefined) return missing(resolved, root);
    const rows = table.rows.map(
      (cells) => fill(items.schema, {}, rowSource(table.headers, cells), root).value,
    );
    return { value: rows, found: true };
  }
  const raw = source.find(candidates);
  const converted = raw === undefined ? undefined : convertRaw(raw, resolved, root);
  return converted === undefined
    ? missing(resolved, root)
    : { value: converted.value, found: true };
}

function fill(schema: JsonSchema, field: Field, source: Source, root: JsonSchema): Filled {
  const resolved = resolveSchema(schema, root);
  if (resolved.type === 'object') {
    if (isGrounded(resolved.schema)) return fillGrounded(resolved, field, source, root);
    const required = new Set(resolved.schema.required ?? []);
    const parent = field.name === undefined ? undefined : normalizeLabel(field.name);
    const out: Record<string, unknown> = {};
    let anyFound = false;
    for (const [name, propertySchema] of Object.entries(resolved.schema.properties ?? {})) {
      const filled = fill(propertySchema, { name, parent }, source, root);
      anyFound ||= filled.found;
      // Optional properties the document does not mention are left out, as a model would.
      if (filled.found || required.has(name)) out[name] = filled.value;
    }
    if (!anyFound && resolved.nullable && field.name !== undefined) {
      return { value: null, found: false };
    }
    return { value: out, found: anyFound };
  }
  if (resolved.type === 'array') return fillArray(resolved, field, source, root);
  const raw = lookUp(field, resolved, resolved.description, source);
  const converted = raw === undefined ? undefined : convertScalar(raw, resolved);
  return converted === undefined
    ? missing(resolved, root)
    : { value: converted.value, found: true };
}

/**
 * Fills `schema` from `documentText` the way a careful model would, but deterministically:
 * scalar properties come from labelled lines — `Label: value`, or a known label opening a line
 * without a colon (`Total due  1.428,00 EUR`) — whose label matches a `Labels: a, b.` synonym in
 * the property's description, the property name, or a common wording of what the name stands
 * for (vocabulary.ts); arrays of objects come from `|` tables, tables whose header names their
 * columns (layout.ts), or item lines before the totals; what no label names is read as a
 * reader would (the letterhead as the vendor, the first date as the issue date, the currency
 * printed with the total). `{value, quote}` objects carry the verbatim text the value was read
 * from, and a typed value: an ISO date where it reads one way only, an ISO 4217 code. Values
 * not found become `null` where the schema allows it and the type's zero value otherwise, so
 * the result validates.
 */
export function extractBySchema(documentText: string, schema: JsonSchema): unknown {
  return fill(schema, {}, documentSource(parseDocument(documentText)), schema).value;
}

/**
 * What the emulator answers in JSON mode without a schema: every labelled line as a camelCase key
 * (first occurrence wins) with its verbatim value.
 */
export function extractLabelledObject(documentText: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { label, value } of readLabelledLines(documentText)) {
    const words = normalizeLabel(label).split(' ');
    const key = words
      .map((word, index) => (index === 0 ? word : word.charAt(0).toUpperCase() + word.slice(1)))
      .join('');
    if (key !== '' && !(key in out)) out[key] = value;
  }
  return out;
}
