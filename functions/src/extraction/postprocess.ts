/**
 * Post-processing: an ordered list of named, versioned, pure steps. A step never changes
 * behaviour under the same version: a change is a new version, and evidence records name the
 * versions that ran, so replaying them on the stored raw response reproduces the output byte
 * for byte.
 */
import { unprocessable } from '../errors';
import { canonicalJson } from '../evidence/canonical';
import type { ExtractionSchema } from './schemas/types';

export interface SourceSpan {
  text: string;
  start: number;
  end: number;
  /** 1-based page of a PDF (its pages are separated by form feeds); absent for one-page text. */
  page?: number;
}

export interface Field {
  value: string | number | null;
  source: SourceSpan | null;
  /** False when the model gave a value it could not point to in the document. */
  grounded: boolean;
}

export interface Issue {
  code: string;
  field: string;
  message: string;
}

export interface ExtractionResult {
  fields: Record<string, Field>;
  lineItems: Record<string, Field>[];
  issues: Issue[];
}

export interface StepContext {
  documentText: string;
  schema: ExtractionSchema;
}

export interface Step {
  name: string;
  version: number;
  run(input: unknown, context: StepContext): unknown;
}

export class InvalidModelOutputError extends Error {
  override readonly name = 'InvalidModelOutputError';
}

type Grounded = { value: string | number | null; quote: string | null };

const parseOutput: Step = {
  name: 'parse-output',
  version: 1,
  run(input, { schema }) {
    let json: unknown;
    try {
      json = JSON.parse(String(input));
    } catch {
      throw new InvalidModelOutputError('model output is not valid JSON');
    }
    const parsed = schema.modelOutput.safeParse(json);
    if (!parsed.success) {
      throw new InvalidModelOutputError(
        `model output does not match schema ${schema.name}: ${parsed.error.issues.length} issue(s)`,
      );
    }
    return parsed.data;
  },
};

/** 1 + the form feeds before `offset`: the page of a PDF's text layer. */
function pageAt(documentText: string, offset: number): number {
  let page = 1;
  for (
    let i = documentText.indexOf('\f');
    i !== -1 && i < offset;
    i = documentText.indexOf('\f', i + 1)
  ) {
    page++;
  }
  return page;
}

function ground(raw: Grounded, documentText: string, used: Set<number>, withPages: boolean): Field {
  if (raw.quote === null || raw.quote === '') {
    return { value: raw.value, source: null, grounded: raw.value === null };
  }
  // Prefer an occurrence not already claimed, so repeated values map to distinct places.
  let start = documentText.indexOf(raw.quote);
  while (start !== -1 && used.has(start)) start = documentText.indexOf(raw.quote, start + 1);
  if (start === -1) start = documentText.indexOf(raw.quote);
  if (start === -1) return { value: raw.value, source: null, grounded: false };
  used.add(start);
  const end = start + raw.quote.length;
  return {
    value: raw.value,
    source:
      withPages && documentText.includes('\f')
        ? { text: raw.quote, start, end, page: pageAt(documentText, start) }
        : { text: raw.quote, start, end },
    grounded: true,
  };
}

/**
 * ground-quotes@1 locates each quote; @2 also names the PDF page it lies on. @1 stays in the
 * registry so records made with it still replay byte for byte.
 */
const groundingStep = (version: 1 | 2): Step => ({
  name: 'ground-quotes',
  version,
  run(input, { documentText }) {
    const withPages = version >= 2;
    const output = input as Record<string, unknown>;
    const used = new Set<number>();
    const fields: Record<string, Field> = {};
    const lineItems: Record<string, Field>[] = [];
    const issues: Issue[] = [];
    for (const [name, value] of Object.entries(output)) {
      if (Array.isArray(value)) {
        value.forEach((item: Record<string, Grounded>, index) => {
          const row: Record<string, Field> = {};
          for (const [col, cell] of Object.entries(item)) {
            row[col] = ground(cell, documentText, used, withPages);
            if (!row[col].grounded) {
              issues.push({
                code: 'ungrounded',
                field: `${name}[${index}].${col}`,
                message: 'value not found in the document',
              });
            }
          }
          lineItems.push(row);
        });
      } else {
        const field = ground(value as Grounded, documentText, used, withPages);
        fields[name] = field;
        if (!field.grounded)
          issues.push({
            code: 'ungrounded',
            field: name,
            message: 'value not found in the document',
          });
      }
    }
    return { fields, lineItems, issues } satisfies ExtractionResult;
  },
});

const CURRENCY_SYMBOLS: Record<string, string> = {
  $: 'USD',
  '€': 'EUR',
  '£': 'GBP',
  '¥': 'JPY',
  '₹': 'INR',
};
const AMOUNT_COLUMNS = ['unitPrice', 'amount'];

function decimal(value: string | number | null): string | null {
  if (value === null) return null;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) return null;
  // Cents precision; amounts arrive as JSON numbers, which hold them exactly to this scale.
  return n.toFixed(2);
}

const normalizeAmounts: Step = {
  name: 'normalize-amounts',
  version: 1,
  run(input, { schema }) {
    const result = structuredClone(input) as ExtractionResult;
    for (const name of schema.amountFields) {
      const field = result.fields[name];
      if (field) field.value = decimal(field.value);
    }
    for (const row of result.lineItems) {
      for (const col of AMOUNT_COLUMNS) {
        const cell = row[col];
        if (cell) cell.value = decimal(cell.value);
      }
    }
    const currency = result.fields.currency;
    if (currency && typeof currency.value === 'string') {
      const raw = currency.value.trim();
      const code = CURRENCY_SYMBOLS[raw] ?? raw.toUpperCase();
      if (/^[A-Z]{3}$/.test(code)) currency.value = code;
      else {
        currency.value = null;
        result.issues.push({
          code: 'invalid_currency',
          field: 'currency',
          message: 'not an ISO 4217 code',
        });
      }
    }
    return result;
  },
};

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

const normalizeDates: Step = {
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

const cents = (v: string | number | null | undefined) =>
  v === null || v === undefined ? null : Math.round(Number(v) * 100);

const reconcileTotals: Step = {
  name: 'reconcile-totals',
  version: 1,
  run(input) {
    const result = structuredClone(input) as ExtractionResult;
    const amounts = result.lineItems.map((row) => cents(row.amount?.value));
    const subtotal = cents(result.fields.subtotal?.value);
    const tax = cents(result.fields.tax?.value) ?? 0;
    const total = cents(result.fields.total?.value);
    if (amounts.length > 0 && amounts.every((a) => a !== null)) {
      const sum = amounts.reduce<number>((s, a) => s + a, 0);
      const expected = subtotal ?? (total === null ? null : total - tax);
      if (expected !== null && sum !== expected) {
        result.issues.push({
          code: 'line_items_mismatch',
          field: subtotal === null ? 'total' : 'subtotal',
          message: `line items sum to ${(sum / 100).toFixed(2)}, expected ${(expected / 100).toFixed(2)}`,
        });
      }
    }
    if (subtotal !== null && total !== null && subtotal + tax !== total) {
      result.issues.push({
        code: 'total_mismatch',
        field: 'total',
        message: 'subtotal plus tax differs from total',
      });
    }
    return result;
  },
};

/** The steps new extractions run, in order. */
export const STEPS: readonly Step[] = [
  parseOutput,
  groundingStep(2),
  normalizeAmounts,
  normalizeDates,
  reconcileTotals,
];

/** Every step version that ever ran, so any recorded evidence can be replayed. */
const REGISTRY = new Map(
  [...STEPS, groundingStep(1)].map((s) => [`${s.name}@${String(s.version)}`, s]),
);

export interface StepRecord {
  step: string;
  version: number;
  inputSha256: string;
  outputSha256: string;
}

/** Serialized form hashed before and after each step: strings as-is, JSON canonically. */
export function stepBytes(value: unknown): string {
  return typeof value === 'string' ? value : canonicalJson(value);
}

/**
 * Runs the named step versions in order. `hash` is the salted commitment of the result's data
 * key, so the recorded hashes cannot confirm a guessed output once the result is erased.
 */
export function runSteps(
  rawOutput: string,
  context: StepContext,
  hash: (bytes: string) => string,
  steps: readonly { step: string; version: number }[] = STEPS.map((s) => ({
    step: s.name,
    version: s.version,
  })),
): { result: ExtractionResult; records: StepRecord[] } {
  let current: unknown = rawOutput;
  const records: StepRecord[] = [];
  for (const { step, version } of steps) {
    const impl = REGISTRY.get(`${step}@${version}`);
    if (!impl)
      throw unprocessable(
        'unknown_step',
        `post-processing step ${step}@${version} is not available`,
      );
    const inputSha256 = hash(stepBytes(current));
    current = impl.run(current, context);
    records.push({ step, version, inputSha256, outputSha256: hash(stepBytes(current)) });
  }
  return { result: current as ExtractionResult, records };
}
