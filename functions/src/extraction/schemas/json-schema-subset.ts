/**
 * The JSON Schema subset a tenant-defined extraction schema may use: the one that both OpenAI
 * strict structured outputs and Anthropic tool input accept, that is object roots, every property
 * required, no additional properties, plain types (nullable through type unions), enums and
 * descriptions. Everything else is refused with the path of each offending keyword, so a
 * schema that registers is a schema both providers will enforce. The same subset is small
 * enough to validate model output with the few lines of `validateValue` below.
 *
 * One keyword is ours: `format` on a string, `amount` or `date`, tells post-processing to
 * normalize that field (normalize-amounts@2, normalize-dates@2). It is not sent to the
 * providers (`providerSchema`): a provider enforcing `date` would make the model pick the day
 * and month order of `04/02/2026` unseen, which is the question post-processing must answer.
 */
export const MAX_SCHEMA_DEPTH = 5;
export const MAX_SCHEMA_PROPERTIES = 100;
const MAX_ENUM_VALUES = 500;

const PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object', 'null'] as const;
type JsonType = (typeof TYPES)[number];
const ALLOWED_KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'description',
  'title',
  'format',
]);
/** The `format` values post-processing understands. */
export const VALUE_FORMATS = ['amount', 'date'] as const;

export type JsonSchema = Record<string, unknown>;

export interface SchemaProblem {
  path: string;
  message: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typesOf(schema: JsonSchema): JsonType[] | undefined {
  const type = schema.type;
  const list = typeof type === 'string' ? [type] : Array.isArray(type) ? type : undefined;
  if (!list || list.length === 0) return undefined;
  if (!list.every((t) => typeof t === 'string' && (TYPES as readonly string[]).includes(t)))
    return undefined;
  if (new Set(list).size !== list.length) return undefined;
  return list as JsonType[];
}

/**
 * Every way `schema` leaves the accepted subset, each with a JSON-pointer-like path
 * (`/properties/total/pattern`). Empty when the schema is accepted.
 */
export function checkSchemaSubset(schema: unknown): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  let properties = 0;
  const add = (path: string, message: string) => problems.push({ path: path || '/', message });

  const visit = (node: unknown, path: string, depth: number): void => {
    if (!isRecord(node)) {
      add(path, 'a schema must be an object');
      return;
    }
    for (const keyword of Object.keys(node)) {
      if (!ALLOWED_KEYWORDS.has(keyword))
        add(`${path}/${keyword}`, `"${keyword}" is not supported`);
    }
    for (const keyword of ['description', 'title']) {
      const text = node[keyword];
      if (text !== undefined && (typeof text !== 'string' || text.length > 1000))
        add(`${path}/${keyword}`, `"${keyword}" must be a string of at most 1000 characters`);
    }
    const types = typesOf(node);
    if (!types) {
      add(`${path}/type`, `"type" must be one of ${TYPES.join(', ')} or a list of distinct ones`);
      return;
    }
    if (
      node.format !== undefined &&
      (!(VALUE_FORMATS as readonly unknown[]).includes(node.format) ||
        !types.includes('string') ||
        types.some((t) => t !== 'string' && t !== 'null') ||
        node.enum !== undefined)
    ) {
      add(`${path}/format`, '"format" must be "amount" or "date", on a string without "enum"');
    }
    if (node.enum !== undefined) {
      const values = node.enum;
      if (
        !Array.isArray(values) ||
        values.length === 0 ||
        values.length > MAX_ENUM_VALUES ||
        !values.every(
          (v) =>
            v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean',
        )
      ) {
        add(`${path}/enum`, `"enum" must list 1-${String(MAX_ENUM_VALUES)} scalar values`);
      } else if (values.some((v) => !types.some((t) => matchesType(v, t)))) {
        add(`${path}/enum`, 'every "enum" value must match "type"');
      }
    }
    const isObject = types.includes('object');
    const isArray = types.includes('array');
    if (isObject && isArray) {
      add(`${path}/type`, 'a schema cannot be both an object and an array');
      return;
    }
    if (isObject) {
      if (depth > MAX_SCHEMA_DEPTH) {
        add(path, `objects nest at most ${String(MAX_SCHEMA_DEPTH)} deep`);
        return;
      }
      if (node.additionalProperties !== false)
        add(`${path}/additionalProperties`, '"additionalProperties" must be false');
      const props = node.properties;
      if (!isRecord(props)) {
        add(`${path}/properties`, '"properties" must be an object');
        return;
      }
      const names = Object.keys(props);
      const required = node.required;
      if (
        !Array.isArray(required) ||
        required.length !== names.length ||
        new Set(required).size !== required.length ||
        !required.every((r) => typeof r === 'string' && Object.hasOwn(props, r))
      ) {
        add(`${path}/required`, '"required" must list every property exactly once');
      }
      for (const name of names) {
        properties += 1;
        const childPath = `${path}/properties/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (!PROPERTY_NAME.test(name)) {
          add(childPath, 'property names are 1-64 letters, digits, _ or -, not starting with one');
          continue;
        }
        visit(props[name], childPath, depth + 1);
      }
    } else {
      for (const keyword of ['properties', 'required', 'additionalProperties']) {
        if (node[keyword] !== undefined)
          add(`${path}/${keyword}`, `"${keyword}" applies to objects only`);
      }
    }
    if (isArray) {
      if (node.items === undefined) add(`${path}/items`, 'arrays must declare "items"');
      else visit(node.items, `${path}/items`, depth + 1);
    } else if (node.items !== undefined) {
      add(`${path}/items`, '"items" applies to arrays only');
    }
  };

  if (!isRecord(schema)) return [{ path: '/', message: 'the schema must be a JSON object' }];
  const rootTypes = typesOf(schema);
  if (rootTypes?.length !== 1 || rootTypes[0] !== 'object') {
    add('/type', 'the root must be "type": "object"');
  }
  visit(schema, '', 1);
  if (properties > MAX_SCHEMA_PROPERTIES) {
    add(
      '/',
      `at most ${String(MAX_SCHEMA_PROPERTIES)} properties in all (found ${String(properties)})`,
    );
  }
  return problems;
}

function matchesType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isRecord(value);
  }
}

/** Validates a value against a schema of the accepted subset; empty when valid. */
export function validateValue(value: unknown, schema: JsonSchema, path = ''): SchemaProblem[] {
  const types = typesOf(schema) ?? [];
  const type = types.find((t) => matchesType(value, t));
  if (type === undefined) return [{ path: path || '/', message: `expected ${types.join(' or ')}` }];
  if (Array.isArray(schema.enum) && !schema.enum.some((v) => v === value)) {
    return [{ path: path || '/', message: 'not one of the enum values' }];
  }
  if (type === 'object') {
    const object = value as Record<string, unknown>;
    const props = isRecord(schema.properties) ? schema.properties : {};
    const problems: SchemaProblem[] = [];
    for (const key of Object.keys(object)) {
      if (!Object.hasOwn(props, key))
        problems.push({ path: `${path}/${key}`, message: 'unexpected property' });
    }
    for (const [key, sub] of Object.entries(props)) {
      if (!Object.hasOwn(object, key))
        problems.push({ path: `${path}/${key}`, message: 'missing property' });
      else problems.push(...validateValue(object[key], sub as JsonSchema, `${path}/${key}`));
    }
    return problems;
  }
  if (type === 'array' && isRecord(schema.items)) {
    const items = schema.items;
    return (value as unknown[]).flatMap((item, i) =>
      validateValue(item, items, `${path}/${String(i)}`),
    );
  }
  return [];
}

/**
 * Firestore keeps map keys sorted, so the property order the tenant wrote (which is the order
 * a model answers in) is restored from `required`, which lists every property.
 */
export function restoreOrder(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(restoreOrder);
  if (!isRecord(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) out[key] = restoreOrder(value);
  if (isRecord(out.properties) && Array.isArray(out.required)) {
    const props = out.properties;
    out.properties = Object.fromEntries(
      (out.required as string[]).filter((k) => Object.hasOwn(props, k)).map((k) => [k, props[k]]),
    );
  }
  return out;
}

const FORMAT_HINTS: Record<(typeof VALUE_FORMATS)[number], string> = {
  amount: 'An amount of money: copy it exactly as written, with its currency if one is written.',
  date: 'A date: copy it exactly as written, without reordering day and month.',
};

/**
 * The schema the providers are sent: `format` removed (neither provider knows `amount`, and
 * `date` would have the model reorder the date) and its meaning told in the description, so
 * the model copies such values as printed. A schema without `format` is sent unchanged.
 */
export function providerSchema(schema: JsonSchema): JsonSchema {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (!isRecord(node)) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'format') continue;
      out[key] =
        key === 'properties' && isRecord(value)
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]))
          : key === 'items'
            ? visit(value)
            : value;
    }
    const format = node.format;
    if (format === 'amount' || format === 'date') {
      const hint = FORMAT_HINTS[format];
      const text = typeof node.description === 'string' ? node.description.trim() : '';
      // A sentence of its own, so a `Labels: a, b` list before it still ends where it did.
      out.description = text === '' ? hint : `${text}${/[.!?]$/.test(text) ? '' : '.'} ${hint}`;
    }
    return out;
  };
  return visit(schema) as JsonSchema;
}
