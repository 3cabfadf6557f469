import { runSteps } from '../../functions/src/extraction/postprocess/registry';
import { customExtractionSchema } from '../../functions/src/extraction/schemas/custom-store';
import {
  checkSchemaSubset,
  validateValue,
  type JsonSchema,
} from '../../functions/src/extraction/schemas/json-schema-subset';

const contract: JsonSchema = {
  type: 'object',
  description: 'A supply contract',
  properties: {
    party: { type: 'string', description: 'Who signs' },
    value: { type: ['number', 'null'] },
    term: { type: 'integer' },
    renewal: { type: 'string', enum: ['auto', 'manual'] },
    signed: { type: 'boolean' },
    clauses: {
      type: 'array',
      items: {
        type: 'object',
        properties: { title: { type: 'string' } },
        required: ['title'],
        additionalProperties: false,
      },
    },
  },
  required: ['party', 'value', 'term', 'renewal', 'signed', 'clauses'],
  additionalProperties: false,
};

function nest(depth: number): JsonSchema {
  let schema: JsonSchema = { type: 'string' };
  for (let i = 0; i < depth; i++) {
    schema = {
      type: 'object',
      properties: { child: schema },
      required: ['child'],
      additionalProperties: false,
    };
  }
  return schema;
}

describe('checkSchemaSubset', () => {
  it('accepts the subset both providers enforce', () => {
    expect(checkSchemaSubset(contract)).toEqual([]);
    expect(checkSchemaSubset(nest(5))).toEqual([]);
  });

  it('names each offending path', () => {
    const schema = {
      type: 'object',
      properties: {
        a: { type: 'string', pattern: '^x' },
        b: { $ref: '#/$defs/b' },
        c: { oneOf: [{ type: 'string' }] },
        d: { type: 'string', format: 'date' },
        e: {
          type: 'object',
          properties: { f: { type: 'string' } },
          required: ['f'],
        },
      },
      required: ['a', 'b', 'c', 'd'],
      additionalProperties: false,
      $defs: {},
    };
    expect(checkSchemaSubset(schema).map((p) => p.path)).toEqual([
      '/$defs',
      '/required',
      '/properties/a/pattern',
      '/properties/b/$ref',
      '/properties/b/type',
      '/properties/c/oneOf',
      '/properties/c/type',
      '/properties/d/format',
      '/properties/e/additionalProperties',
    ]);
  });

  it.each([
    ['a non-object root', { type: 'array', items: { type: 'string' } }, '/type'],
    [
      'nesting deeper than 5',
      nest(6),
      '/properties/child/properties/child/properties/child/properties/child/properties/child',
    ],
    [
      'an enum value of the wrong type',
      {
        ...contract,
        properties: { ...(contract.properties as object), renewal: { type: 'string', enum: [1] } },
      },
      '/properties/renewal/enum',
    ],
    [
      'an unknown type',
      {
        type: 'object',
        properties: { a: { type: 'date' } },
        required: ['a'],
        additionalProperties: false,
      },
      '/properties/a/type',
    ],
    [
      'a missing additionalProperties',
      { type: 'object', properties: {}, required: [] },
      '/additionalProperties',
    ],
  ])('refuses %s', (_, schema, path) => {
    expect(checkSchemaSubset(schema).map((p) => p.path)).toContain(path);
  });

  it('refuses more than 100 properties', () => {
    const properties = Object.fromEntries(
      Array.from({ length: 101 }, (_, i) => [`p${String(i)}`, { type: 'string' }]),
    );
    const schema = {
      type: 'object',
      properties,
      required: Object.keys(properties),
      additionalProperties: false,
    };
    expect(checkSchemaSubset(schema)).toEqual([
      { path: '/', message: 'at most 100 properties in all (found 101)' },
    ]);
  });
});

describe('validateValue', () => {
  const valid = {
    party: 'Acme',
    value: null,
    term: 12,
    renewal: 'auto',
    signed: true,
    clauses: [{ title: 'Scope' }],
  };

  it('accepts a matching value', () => {
    expect(validateValue(valid, contract)).toEqual([]);
  });

  it.each([
    ['a missing property', { ...valid, party: undefined }, '/party'],
    ['an extra property', { ...valid, extra: 1 }, '/extra'],
    ['a fraction for an integer', { ...valid, term: 1.5 }, '/term'],
    ['a value outside the enum', { ...valid, renewal: 'never' }, '/renewal'],
    ['a wrong item', { ...valid, clauses: [{ title: 3 }] }, '/clauses/0/title'],
    ['null where not allowed', { ...valid, signed: null }, '/signed'],
  ])('finds %s', (_, value, path) => {
    const cleaned = JSON.parse(JSON.stringify(value)) as unknown;
    expect(validateValue(cleaned, contract).map((p) => p.path)).toEqual([path]);
  });
});

describe('a custom schema in post-processing', () => {
  const schema = customExtractionSchema('contract', contract);
  const hash = (s: string) => `h(${String(s.length)})`;

  it('runs parse-output only and answers the object as given', () => {
    const raw = JSON.stringify({
      party: 'Acme',
      value: 10.5,
      term: 12,
      renewal: 'manual',
      signed: false,
      clauses: [],
    });
    const { result, records } = runSteps(raw, { documentText: '', schema }, hash, schema.steps);
    expect(records.map((r) => r.step)).toEqual(['parse-output']);
    expect(result).toEqual({ data: JSON.parse(raw) as unknown, issues: [] });
  });

  it('rejects output that breaks the stored schema', () => {
    expect(() =>
      runSteps('{"party":"Acme"}', { documentText: '', schema }, hash, schema.steps),
    ).toThrow(/does not match schema contract/);
  });
});
