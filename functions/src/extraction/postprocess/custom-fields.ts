/**
 * The scalar values of a custom schema's result, each with what its schema says of it: the
 * JSON pointer it sits at, its labels, whether it may be null, and its `format` (`amount` or
 * `date`, which the normalizing steps read).
 */
import type { JsonSchema } from '../schemas/json-schema-subset';
import { fieldLabels, labelWords } from './locate';

export type ValueFormat = 'amount' | 'date';

export interface CustomLeaf {
  pointer: string;
  value: unknown;
  format?: ValueFormat;
  nullable: boolean;
  /** An `enum` member: written in the document in any case. */
  isEnum: boolean;
  labels: string[];
  /** The row of an array of objects it is a cell of. */
  row?: { group: string; index: number };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function types(schema: JsonSchema): string[] {
  const type = schema.type;
  return typeof type === 'string' ? [type] : Array.isArray(type) ? type.map(String) : [];
}

function labelsOf(name: string, schema: JsonSchema): string[] {
  const labels = fieldLabels(name, schema.description);
  if (typeof schema.title === 'string') labels.push(labelWords(schema.title));
  return [...new Set(labels.filter((l) => l !== ''))];
}

/** Every scalar of `data` (valid against `schema`) in schema order, with its schema's facts. */
export function customLeaves(data: unknown, schema: JsonSchema): CustomLeaf[] {
  const leaves: CustomLeaf[] = [];
  const visit = (
    value: unknown,
    node: JsonSchema,
    pointer: string,
    name: string,
    row: CustomLeaf['row'],
  ): void => {
    if (isRecord(value)) {
      const props = isRecord(node.properties) ? node.properties : {};
      for (const [key, child] of Object.entries(props)) {
        if (Object.hasOwn(value, key) && isRecord(child)) {
          visit(value[key], child, `${pointer}/${key}`, key, row);
        }
      }
      return;
    }
    if (Array.isArray(value)) {
      const items = isRecord(node.items) ? node.items : {};
      value.forEach((item, i) => {
        const itemPointer = `${pointer}/${String(i)}`;
        // The objects of an array are the rows of a table; its scalars are a list of values.
        visit(item, items, itemPointer, name, isRecord(item) ? { group: pointer, index: i } : row);
      });
      return;
    }
    const format = node.format === 'amount' || node.format === 'date' ? node.format : undefined;
    leaves.push({
      pointer,
      value,
      ...(format === undefined ? {} : { format }),
      nullable: types(node).includes('null'),
      isEnum: Array.isArray(node.enum),
      labels: labelsOf(name, node),
      ...(row === undefined ? {} : { row }),
    });
  };
  visit(data, schema, '', '', undefined);
  return leaves;
}

/** A copy of `data` with the value at `pointer` (one `customLeaves` returned) replaced. */
export function withValueAt(data: unknown, pointer: string, value: unknown): unknown {
  const copy = structuredClone(data);
  const keys = pointer.split('/').slice(1);
  const last = keys.pop();
  if (last === undefined) return value;
  let node: unknown = copy;
  for (const key of keys) node = (node as Record<string, unknown>)[key];
  (node as Record<string, unknown>)[last] = value;
  return copy;
}
