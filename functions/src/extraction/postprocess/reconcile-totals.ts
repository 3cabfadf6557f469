/**
 * reconcile-totals@1: issues when the line items do not sum to the subtotal (or the total
 * less tax), or the subtotal plus tax is not the total. Values are left as they are.
 */
import type { ExtractionResult, Step } from './types';

const cents = (v: string | number | null | undefined) =>
  v === null || v === undefined ? null : Math.round(Number(v) * 100);

export const reconcileTotals: Step = {
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
