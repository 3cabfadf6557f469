/**
 * normalize-dates@2: dates as ISO dates, read from the text the document prints (the grounded
 * source) rather than from the model's typed value, which may already have picked an order.
 * The common written forms parse (`March 3rd, 2026`, `3rd of March 2026`, `Tue 3 Mar 2026`,
 * `2026/03/03`; see written-dates.ts). A numeric date that reads either way (`04/02/2026`) is
 * decided by the tenant's `dateOrder` setting; without one it is an `ambiguous_date` issue
 * naming both readings, never a guess. Anything else that is no date is `invalid_date`.
 *
 * A built-in field that is no date becomes null. A custom string whose schema says
 * `"format": "date"` becomes null only where its schema allows null, and stays as written
 * otherwise.
 *
 * @1 (normalize-dates.ts) stays as it was, so records made with it replay.
 */
import type { DateOrder } from '../../tenancy/platform';
import type { ExtractionSchema } from '../schemas/types';
import { customLeaves, withValueAt } from './custom-fields';
import type { CustomResult, ExtractionResult, Field, Issue, Step } from './types';
import { readDate, type DateReading } from './written-dates';

/** The printed text when it reads as a date, else the model's value. */
function reading(field: Field, order: DateOrder | undefined): DateReading {
  const printed = field.source ? readDate(field.source.text, order) : undefined;
  if (printed && printed.kind !== 'invalid') return printed;
  return readDate(String(field.value), order);
}

/** The ISO date, or the issue that explains why there is none. */
function normalized(
  name: string,
  field: Field,
  order: DateOrder | undefined,
): { iso: string } | { issue: Issue } {
  const read = reading(field, order);
  if (read.kind === 'date') return { iso: read.iso };
  if (read.kind === 'ambiguous') {
    return {
      issue: {
        code: 'ambiguous_date',
        field: name,
        message: `day and month can be read either way: ${read.dayFirst} (day first) or ${read.monthFirst} (month first); the tenant's dateOrder setting decides`,
      },
    };
  }
  return { issue: { code: 'invalid_date', field: name, message: 'not a recognizable date' } };
}

function normalizeBuiltIn(
  input: ExtractionResult,
  schema: ExtractionSchema,
  order: DateOrder | undefined,
): ExtractionResult {
  const result = structuredClone(input);
  for (const name of schema.dateFields) {
    const field = result.fields[name];
    if (!field || field.value === null) continue;
    const outcome = normalized(name, field, order);
    if ('iso' in outcome) field.value = outcome.iso;
    else {
      result.issues.push(outcome.issue);
      field.value = null;
    }
  }
  return result;
}

function normalizeCustom(
  input: CustomResult,
  schema: ExtractionSchema,
  order: DateOrder | undefined,
): CustomResult {
  let data = input.data;
  const fields = structuredClone(input.fields);
  const issues: Issue[] = [...input.issues];
  for (const leaf of customLeaves(input.data, schema.tenantSchema ?? schema.jsonSchema)) {
    if (leaf.format !== 'date' || typeof leaf.value !== 'string') continue;
    const field = fields[leaf.pointer] ?? { value: leaf.value, source: null, grounded: false };
    const outcome = normalized(leaf.pointer, field, order);
    let value: string | null;
    if ('iso' in outcome) value = outcome.iso;
    else {
      issues.push(outcome.issue);
      value = leaf.nullable ? null : leaf.value;
    }
    if (value === leaf.value) continue;
    data = withValueAt(data, leaf.pointer, value);
    const grounded = fields[leaf.pointer];
    if (grounded) grounded.value = value;
  }
  return { data, fields, issues };
}

export const normalizeDatesV2: Step = {
  name: 'normalize-dates',
  version: 2,
  reads: ['dateOrder'],
  run(input, { schema, settings }) {
    const order = settings?.dateOrder;
    return schema.kind === 'custom'
      ? normalizeCustom(input as CustomResult, schema, order)
      : normalizeBuiltIn(input as ExtractionResult, schema, order);
  },
};
