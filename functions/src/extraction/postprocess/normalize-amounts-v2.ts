/**
 * normalize-amounts@2: as @1 (amounts as 2-decimal strings, the currency as its ISO 4217 code),
 * and the currency printed with the amounts counts: `Total: 10.86 USD` with no currency line
 * gives `currency` USD, grounded at the code; amounts marked with another currency than the
 * currency field names raise `currency_mismatch`.
 *
 * Custom schemas: a string whose schema says `"format": "amount"` becomes a plain decimal
 * (`5,400.00` → `5400.00`), followed by the ISO code when one was written with it (`10.86 USD`,
 * `$3.50` → `3.50 USD`). A string that is no amount raises `invalid_amount` and becomes null
 * where the schema allows null, or stays as written. Numbers are left as the schema typed them.
 *
 * @1 (normalize-amounts.ts) stays as it was, so records made with it replay.
 */
import type { ExtractionSchema } from '../schemas/types';
import { customLeaves, withValueAt } from './custom-fields';
import { sourceAt } from './locate';
import { CURRENCY_SIGNS, currencyMarks, readAmount, type CurrencyMark } from './money';
import type { CustomResult, ExtractionResult, Field, Issue, Step } from './types';

const AMOUNT_COLUMNS = ['unitPrice', 'amount'];

function decimal(value: string | number | null): string | null {
  if (value === null) return null;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) return null;
  return n.toFixed(2);
}

/** The currency code or sign printed on or right next to a grounded amount, with its place. */
function markedCurrency(documentText: string, field: Field | undefined): CurrencyMark | undefined {
  const source = field?.source;
  if (!source) return undefined;
  // The amount's own text and one word either side of it on its line.
  const from = Math.max(source.start - 5, documentText.lastIndexOf('\n', source.start - 1) + 1);
  const lineEnd = documentText.indexOf('\n', source.end);
  const to = Math.min(source.end + 5, lineEnd === -1 ? documentText.length : lineEnd);
  const window = documentText.slice(from, to);
  const marks = currencyMarks(window)
    .map((m) => ({ ...m, start: from + m.start, end: from + m.end }))
    .filter((m) => m.end >= source.start - 1 && m.start <= source.end + 1);
  const codes = new Set(marks.map((m) => m.code));
  return codes.size === 1 ? marks[0] : undefined;
}

function normalizeBuiltIn(
  input: ExtractionResult,
  documentText: string,
  schema: ExtractionSchema,
): ExtractionResult {
  const result = structuredClone(input);
  const amounts: (Field | undefined)[] = [];
  for (const name of schema.amountFields) amounts.push(result.fields[name]);
  for (const row of result.lineItems) for (const col of AMOUNT_COLUMNS) amounts.push(row[col]);
  const marked = amounts.flatMap((field) => {
    const mark = markedCurrency(documentText, field);
    return mark ? [mark] : [];
  });
  const printed = [...new Set(marked.map((m) => m.code))];

  for (const field of amounts) if (field) field.value = decimal(field.value);

  const currency = result.fields.currency;
  if (currency && typeof currency.value === 'string') {
    const raw = currency.value.trim();
    const code = CURRENCY_SIGNS[raw] ?? raw.toUpperCase();
    if (/^[A-Z]{3}$/.test(code)) {
      currency.value = code;
      // Signs are shared ($ is also CAD, AUD, ...): only a printed code can contradict the field.
      const codes = [...new Set(marked.filter((m) => !m.sign).map((m) => m.code))];
      if (codes.some((c) => c !== code)) {
        result.issues.push({
          code: 'currency_mismatch',
          field: 'currency',
          message: `amounts are printed in ${codes.join(', ')}, the currency field says ${code}`,
        });
      }
    } else {
      currency.value = null;
      result.issues.push({
        code: 'invalid_currency',
        field: 'currency',
        message: 'not an ISO 4217 code',
      });
    }
  } else if (currency && currency.value === null && printed.length > 0) {
    const [first] = marked;
    if (printed.length === 1 && first) {
      result.fields.currency = {
        value: first.code,
        source: sourceAt(documentText, first),
        grounded: true,
      };
    } else {
      result.issues.push({
        code: 'currency_mismatch',
        field: 'currency',
        message: `amounts are printed in ${printed.join(', ')}`,
      });
    }
  }
  return result;
}

function normalizeCustom(input: CustomResult, schema: ExtractionSchema): CustomResult {
  let data = input.data;
  const fields = structuredClone(input.fields);
  const issues: Issue[] = [...input.issues];
  for (const leaf of customLeaves(input.data, schema.tenantSchema ?? schema.jsonSchema)) {
    if (leaf.format !== 'amount' || typeof leaf.value !== 'string') continue;
    const amount = readAmount(leaf.value);
    let value: string | null;
    if (amount) {
      value = amount.currency ? `${amount.decimal} ${amount.currency.code}` : amount.decimal;
    } else {
      issues.push({ code: 'invalid_amount', field: leaf.pointer, message: 'not an amount' });
      value = leaf.nullable ? null : leaf.value;
    }
    if (value === leaf.value) continue;
    data = withValueAt(data, leaf.pointer, value);
    const field = fields[leaf.pointer];
    if (field) field.value = value;
  }
  return { data, fields, issues };
}

export const normalizeAmountsV2: Step = {
  name: 'normalize-amounts',
  version: 2,
  run(input, { documentText, schema }) {
    return schema.kind === 'custom'
      ? normalizeCustom(input as CustomResult, schema)
      : normalizeBuiltIn(input as ExtractionResult, documentText, schema);
  },
};
