/**
 * ground-quotes@3: each value is grounded where it was read, not at the first place its text
 * occurs. Quotes match whole tokens only; among their places, the one its label names (on its
 * line, above its table column, or alone on the line above) wins, and a line item's cells are
 * looked for on its own table row. Several places that fit equally make the value `ambiguous`
 * (not grounded, its `candidates` listed, an `ambiguous` issue), never a guess.
 *
 * Custom schemas get the same step: their model answers no quotes, so each string is looked
 * for as written and each number by its value (`5400` is found as `5,400.00`), labelled by its
 * property name, title and `Labels:` in its description. Booleans have no place to point at.
 *
 * @1 and @2 (ground-quotes.ts) stay as they were, so records made with them replay.
 */
import type { ExtractionSchema } from '../schemas/types';
import { customLeaves } from './custom-fields';
import { fieldLabels, locate, sourceAt, type Location, type Target } from './locate';
import type { CustomResult, ExtractionResult, Field, Issue, Step } from './types';

type Grounded = { value: string | number | null; quote: string | null };

/** The places an ambiguous field lists (the issue counts them all). */
const MAX_CANDIDATES = 10;

/** A value to ground, or one that claims no place (null, or no quote). */
interface Entry {
  /** The field's name in issues: `total`, `lineItems[0].quantity`, `/lines/0/price`. */
  field: string;
  value: string | number | null;
  target?: Target;
}

/** Grounds `entries` in one pass over the document, with the issues of those not grounded. */
function groundAll(
  documentText: string,
  entries: readonly Entry[],
): { fields: Field[]; issues: Issue[] } {
  const targets = entries.flatMap((e) => (e.target ? [e.target] : []));
  const located = locate(documentText, targets);
  const issues: Issue[] = [];
  let next = 0;
  const fields = entries.map(({ field, value, target }): Field => {
    if (!target) {
      if (value !== null) {
        issues.push({ code: 'ungrounded', field, message: 'value not found in the document' });
      }
      return { value, source: null, grounded: value === null };
    }
    const location: Location = located[next++] ?? { kind: 'missing' };
    if (location.kind === 'grounded') {
      return { value, source: sourceAt(documentText, location.span), grounded: true };
    }
    if (location.kind === 'ambiguous') {
      issues.push({
        code: 'ambiguous',
        field,
        message: `the value fits ${String(location.spans.length)} places in the document equally`,
      });
      return {
        value,
        source: null,
        grounded: false,
        candidates: location.spans.slice(0, MAX_CANDIDATES).map((s) => sourceAt(documentText, s)),
      };
    }
    issues.push({ code: 'ungrounded', field, message: 'value not found in the document' });
    return { value, source: null, grounded: false };
  });
  return { fields, issues };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON Schema of property `name` of an object schema (`{}` when it has none). */
function propertySchema(node: unknown, name: string): Record<string, unknown> {
  const props = isRecord(node) && isRecord(node.properties) ? node.properties : {};
  const prop = props[name];
  return isRecord(prop) ? prop : {};
}

function groundBuiltIn(
  output: Record<string, unknown>,
  documentText: string,
  schema: ExtractionSchema,
): ExtractionResult {
  const entries: Entry[] = [];
  const place: ({ name: string } | { row: number; col: string })[] = [];
  const entry = (field: string, raw: Grounded, labels: string[], row?: Target['row']): Entry => ({
    field,
    value: raw.value,
    ...(raw.quote === null || raw.quote.trim() === ''
      ? {}
      : { target: { find: { text: raw.quote }, labels, ...(row ? { row } : {}) } }),
  });
  let rows = 0;
  for (const [name, value] of Object.entries(output)) {
    const prop = propertySchema(schema.jsonSchema, name);
    if (Array.isArray(value)) {
      const items = prop.items;
      value.forEach((item: Record<string, Grounded>, index) => {
        for (const [col, cell] of Object.entries(item)) {
          const labels = fieldLabels(col, propertySchema(items, col).description);
          entries.push(
            entry(`${name}[${String(index)}].${col}`, cell, labels, { group: name, index }),
          );
          place.push({ row: rows + index, col });
        }
      });
      rows += value.length;
    } else {
      entries.push(entry(name, value as Grounded, fieldLabels(name, prop.description)));
      place.push({ name });
    }
  }
  const { fields: grounded, issues } = groundAll(documentText, entries);
  const fields: Record<string, Field> = {};
  const lineItems: Record<string, Field>[] = Array.from({ length: rows }, () => ({}));
  place.forEach((p, i) => {
    const field = grounded[i] as Field;
    if ('name' in p) fields[p.name] = field;
    else (lineItems[p.row] as Record<string, Field>)[p.col] = field;
  });
  return { fields, lineItems, issues };
}

function groundCustom(
  input: { data: unknown; issues: Issue[] },
  documentText: string,
  schema: ExtractionSchema,
): CustomResult {
  const leaves = customLeaves(input.data, schema.tenantSchema ?? schema.jsonSchema).filter(
    (leaf) =>
      leaf.value === null || typeof leaf.value === 'string' || typeof leaf.value === 'number',
  );
  const entries = leaves.map((leaf): Entry => {
    const value = leaf.value as string | number | null;
    const common = { labels: leaf.labels, ...(leaf.row ? { row: leaf.row } : {}) };
    if (typeof value === 'number')
      return { field: leaf.pointer, value, target: { find: { number: value }, ...common } };
    if (typeof value === 'string' && value.trim() !== '') {
      return {
        field: leaf.pointer,
        value,
        target: { find: { text: value, caseInsensitive: leaf.isEnum }, ...common },
      };
    }
    return { field: leaf.pointer, value };
  });
  const { fields, issues } = groundAll(documentText, entries);
  return {
    data: input.data,
    fields: Object.fromEntries(leaves.map((leaf, i) => [leaf.pointer, fields[i] as Field])),
    issues: [...input.issues, ...issues],
  };
}

export const groundQuotesV3: Step = {
  name: 'ground-quotes',
  version: 3,
  run(input, { documentText, schema }) {
    return schema.kind === 'custom'
      ? groundCustom(input as { data: unknown; issues: Issue[] }, documentText, schema)
      : groundBuiltIn(input as Record<string, unknown>, documentText, schema);
  },
};
