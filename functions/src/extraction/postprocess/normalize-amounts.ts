/**
 * normalize-amounts@1: money amounts as decimal strings with cents, the currency as its
 * ISO 4217 code (an `invalid_currency` issue when it is none).
 */
import type { ExtractionResult, Step } from './types';

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

export const normalizeAmounts: Step = {
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
