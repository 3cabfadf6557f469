/**
 * The subset of JSON Schema that structured-output requests use (OpenAI strict `json_schema`,
 * Anthropic tool `input_schema`), with helpers shared by the extractor, the fault injector and the
 * tests.
 */

/** A JSON Schema node. Only the keywords the emulator understands are typed; others pass through. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  description?: string;
  nullable?: boolean;
  [keyword: string]: unknown;
}

/** A schema with its `$ref`s and nullable unions resolved to one concrete variant. */
export interface ResolvedSchema {
  /** The first non-null variant, with `$ref` followed. */
  readonly schema: JsonSchema;
  /** The concrete type of `schema` (`object`, `array`, `string`, ...), inferred when not stated. */
  readonly type: string;
  /** Whether `null` is an allowed value. */
  readonly nullable: boolean;
  /** The nearest `description`, outer schema first (property descriptions sit on the outer node). */
  readonly description: string | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows a local `#/...` JSON pointer; unknown or remote refs resolve to an empty schema. */
export function followRef(ref: string, root: JsonSchema): JsonSchema {
  if (!ref.startsWith('#')) return {};
  const parts = ref
    .slice(1)
    .split('/')
    .filter((part) => part !== '')
    .map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = root;
  for (const part of parts) {
    if (!isRecord(node)) return {};
    node = node[part];
  }
  return isRecord(node) ? node : {};
}

function typesOf(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  if (typeof schema.type === 'string') return [schema.type];
  return [];
}

function inferType(schema: JsonSchema): string {
  const declared = typesOf(schema).find((type) => type !== 'null');
  if (declared !== undefined) return declared;
  if (schema.properties !== undefined) return 'object';
  if (schema.items !== undefined) return 'array';
  const sample = schema.enum?.find((member) => member !== null) ?? schema.const;
  if (typeof sample === 'string') return 'string';
  if (typeof sample === 'number') return Number.isInteger(sample) ? 'integer' : 'number';
  if (typeof sample === 'boolean') return 'boolean';
  if (typesOf(schema).includes('null')) return 'null';
  return 'string';
}

/**
 * Resolves `$ref`, single-member `allOf`, and `anyOf`/`oneOf` unions to the first non-null
 * variant, remembering whether `null` was allowed anywhere along the way.
 */
export function resolveSchema(schema: JsonSchema, root: JsonSchema): ResolvedSchema {
  let node = schema;
  let nullable = false;
  let description: string | undefined;
  // Bounded so a self-referencing `$ref` cannot loop forever.
  for (let depth = 0; depth < 32; depth += 1) {
    description ??= typeof node.description === 'string' ? node.description : undefined;
    if (node.nullable === true || typesOf(node).includes('null')) nullable = true;
    if (Array.isArray(node.enum) && node.enum.includes(null)) nullable = true;
    if (typeof node.$ref === 'string') {
      node = followRef(node.$ref, root);
      continue;
    }
    const union = node.anyOf ?? node.oneOf;
    if (Array.isArray(union) && union.length > 0) {
      const concrete: JsonSchema[] = [];
      for (const variant of union) {
        const resolved = resolveSchema(variant, root);
        if (resolved.type === 'null') nullable = true;
        else concrete.push(variant);
      }
      if (concrete[0] === undefined)
        return { schema: node, type: 'null', nullable: true, description };
      node = concrete[0];
      continue;
    }
    if (Array.isArray(node.allOf) && node.allOf.length === 1 && node.allOf[0] !== undefined) {
      node = node.allOf[0];
      continue;
    }
    break;
  }
  return { schema: node, type: inferType(node), nullable, description };
}

function typeMatches(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isRecord(value);
    default:
      return true;
  }
}

/**
 * Checks `value` against `schema` and returns the problems found (empty when valid). Covers the
 * keywords structured outputs use: type, enum, const, properties, required, additionalProperties,
 * items, anyOf/oneOf/allOf and local `$ref`.
 */
export function validateBySchema(
  value: unknown,
  schema: JsonSchema,
  root: JsonSchema = schema,
  path = '$',
): string[] {
  if (typeof schema.$ref === 'string') {
    return validateBySchema(value, followRef(schema.$ref, root), root, path);
  }
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union)) {
    const fits = union.some((variant) => validateBySchema(value, variant, root, path).length === 0);
    if (!fits) return [`${path}: matches no variant`];
  }
  const problems: string[] = [];
  for (const part of schema.allOf ?? [])
    problems.push(...validateBySchema(value, part, root, path));
  const types = typesOf(schema);
  if (schema.nullable === true && value === null) return problems;
  if (types.length > 0 && !types.some((type) => typeMatches(value, type))) {
    return [...problems, `${path}: expected ${types.join('|')}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((member) => member === value)) {
    problems.push(`${path}: not one of the enum members`);
  }
  if ('const' in schema && schema.const !== value) problems.push(`${path}: not the const value`);
  if (isRecord(value)) {
    const properties = schema.properties ?? {};
    for (const key of schema.required ?? []) {
      if (!(key in value)) problems.push(`${path}.${key}: required`);
    }
    for (const [key, item] of Object.entries(value)) {
      const propertySchema = properties[key];
      if (propertySchema !== undefined) {
        problems.push(...validateBySchema(item, propertySchema, root, `${path}.${key}`));
      } else if (schema.additionalProperties === false) {
        problems.push(`${path}.${key}: not allowed`);
      } else if (isRecord(schema.additionalProperties)) {
        problems.push(
          ...validateBySchema(item, schema.additionalProperties, root, `${path}.${key}`),
        );
      }
    }
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    const items = schema.items;
    value.forEach((item, index) => {
      problems.push(...validateBySchema(item, items, root, `${path}[${index}]`));
    });
  }
  return problems;
}
