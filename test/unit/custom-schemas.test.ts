import { runSteps } from '../../functions/src/extraction/postprocess/registry';
import { customExtractionSchema } from '../../functions/src/extraction/schemas/custom-store';
import {
  checkSchemaSubset,
  providerSchema,
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
        d: { type: 'string', format: 'email' },
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

  it('accepts format amount or date on a string, and nothing else', () => {
    const withFormats = (props: Record<string, unknown>) => ({
      type: 'object',
      properties: props,
      required: Object.keys(props),
      additionalProperties: false,
    });
    expect(
      checkSchemaSubset(
        withFormats({
          total: { type: 'string', format: 'amount' },
          due: { type: ['string', 'null'], format: 'date' },
        }),
      ),
    ).toEqual([]);
    expect(
      checkSchemaSubset(
        withFormats({
          a: { type: 'number', format: 'amount' },
          b: { type: 'string', format: 'date-time' },
          c: { type: 'string', format: 'date', enum: ['2026-01-01'] },
          d: { type: 'string', format: 7 },
        }),
      ).map((p) => p.path),
    ).toEqual([
      '/properties/a/format',
      '/properties/b/format',
      '/properties/c/format',
      '/properties/d/format',
    ]);
  });

  it('sends providers the schema without format, its meaning told in the description', () => {
    const schema = {
      type: 'object',
      properties: {
        total: { type: 'string', format: 'amount', description: 'Labels: Total' },
        due: { type: 'string', format: 'date' },
        lines: {
          type: 'array',
          items: {
            type: 'object',
            properties: { price: { type: 'string', format: 'amount', description: 'Net.' } },
            required: ['price'],
            additionalProperties: false,
          },
        },
      },
      required: ['total', 'due', 'lines'],
      additionalProperties: false,
    };
    const sent = providerSchema(schema);
    expect(JSON.stringify(sent)).not.toContain('format');
    expect(sent.properties).toMatchObject({
      total: {
        type: 'string',
        description:
          'Labels: Total. An amount of money: copy it exactly as written, with its currency if one is written.',
      },
      due: { description: 'A date: copy it exactly as written, without reordering day and month.' },
    });
    const lines = (sent.properties as { lines: { items: { properties: { price: JsonSchema } } } })
      .lines;
    expect(lines.items.properties.price.description).toMatch(/^Net\. An amount of money/);
    // A schema without format is sent as registered.
    expect(providerSchema(contract)).toEqual(contract);
    expect(customExtractionSchema('c', schema).jsonSchema).toEqual(sent);
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

  it('grounds and answers the object as given, with its fields by JSON pointer', () => {
    const raw = JSON.stringify({
      party: 'Acme',
      value: 10.5,
      term: 12,
      renewal: 'manual',
      signed: false,
      clauses: [],
    });
    const documentText = 'Party: Acme\nValue: 10.50\nTerm: 12 months\nRenewal: manual';
    const { result, records } = runSteps(raw, { documentText, schema }, hash, schema.steps);
    expect(records.map((r) => r.step)).toEqual([
      'parse-output',
      'ground-quotes',
      'normalize-amounts',
      'normalize-dates',
    ]);
    expect(result).toEqual({
      data: JSON.parse(raw) as unknown,
      fields: {
        '/party': { value: 'Acme', source: { text: 'Acme', start: 7, end: 11 }, grounded: true },
        '/value': { value: 10.5, source: { text: '10.50', start: 19, end: 24 }, grounded: true },
        '/term': { value: 12, source: { text: '12', start: 31, end: 33 }, grounded: true },
        '/renewal': {
          value: 'manual',
          source: { text: 'manual', start: 50, end: 56 },
          grounded: true,
        },
      },
      issues: [],
    });
  });

  it('rejects output that breaks the stored schema', () => {
    expect(() =>
      runSteps('{"party":"Acme"}', { documentText: '', schema }, hash, schema.steps),
    ).toThrow(/does not match schema contract/);
  });
});
