import type { z } from 'zod';
import { randomBytes } from 'node:crypto';
import { commitment } from '../../functions/src/crypto/envelope';
import { sha256Hex } from '../../functions/src/evidence/canonical';
import { AppError } from '../../functions/src/errors';
import { isoDate } from '../../functions/src/extraction/postprocess/normalize-dates';
import { runSteps, STEPS, stepBytes } from '../../functions/src/extraction/postprocess/registry';
import {
  InvalidModelOutputError,
  type ExtractionResult,
  type StepContext,
} from '../../functions/src/extraction/postprocess/types';
import {
  BUILT_IN_SCHEMAS,
  getSchema,
  type InvoiceModelOutput,
} from '../../functions/src/extraction/schemas/built-in';

type ModelOutput = z.infer<typeof InvoiceModelOutput>;

const INVOICE = BUILT_IN_SCHEMAS.invoice;

const DOCUMENT = [
  'ACME Industrial Supplies GmbH',
  'Hauptstraße 12, 10115 Berlin',
  '',
  'INVOICE',
  'Invoice No: INV-2026-0042',
  'Invoice Date: 12.03.2026',
  'Due Date: April 11, 2026',
  'Currency: €',
  '',
  'Description            Qty   Unit Price   Amount',
  'Steel bolts M8         100         0.25    25.00',
  'Hex nuts M8            100         0.10    10.00',
  'Installation labour      2        45.00    90.00',
  '',
  'Subtotal: 125.00',
  'VAT 19%: 23.75',
  'Total Due: 148.75',
].join('\n');

const g = <T>(value: T, quote: string | null) => ({ value, quote });

function modelOutput(): ModelOutput {
  return {
    vendorName: g('ACME Industrial Supplies GmbH', 'ACME Industrial Supplies GmbH'),
    invoiceNumber: g('INV-2026-0042', 'INV-2026-0042'),
    invoiceDate: g('12.03.2026', '12.03.2026'),
    dueDate: g('April 11, 2026', 'April 11, 2026'),
    currency: g('€', '€'),
    subtotal: g(125, '125.00'),
    tax: g(23.75, '23.75'),
    total: g(148.75, '148.75'),
    lineItems: [
      {
        description: g('Steel bolts M8', 'Steel bolts M8'),
        quantity: g(100, '100'),
        unitPrice: g(0.25, '0.25'),
        amount: g(25, '25.00'),
      },
      {
        description: g('Hex nuts M8', 'Hex nuts M8'),
        quantity: g(100, '100'),
        unitPrice: g(0.1, '0.10'),
        amount: g(10, '10.00'),
      },
      {
        description: g('Installation labour', 'Installation labour'),
        quantity: g(2, '2'),
        unitPrice: g(45, '45.00'),
        amount: g(90, '90.00'),
      },
    ],
  };
}

const context: StepContext = { documentText: DOCUMENT, schema: INVOICE };
const hash = (bytes: string) => sha256Hex(bytes);

function run(output: unknown, documentText = DOCUMENT): ExtractionResult {
  return runSteps(JSON.stringify(output), { documentText, schema: INVOICE }, hash).result;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('isoDate', () => {
  it.each<[string, string | null]>([
    ['2026-03-12', '2026-03-12'],
    ['  2026-03-12  ', '2026-03-12'],
    ['2024-02-29', '2024-02-29'],
    ['12.03.2026', '2026-03-12'],
    ['1.3.2026', '2026-03-01'],
    ['31.12.2025', '2025-12-31'],
    ['03/12/2026', '2026-03-12'],
    ['3/1/2026', '2026-03-01'],
    ['12/31/2025', '2025-12-31'],
    ['12 March 2026', '2026-03-12'],
    ['1 Jan 2026', '2026-01-01'],
    ['12 Sept. 2026', '2026-09-12'],
    ['March 12, 2026', '2026-03-12'],
    ['march 12 2026', '2026-03-12'],
    ['Dec. 1, 2025', '2025-12-01'],
    // Impossible or unrecognized dates.
    ['2026-02-30', null],
    ['2025-02-29', null],
    ['2026-13-01', null],
    ['2026-00-10', null],
    ['2026-04-31', null],
    ['2026-3-12', null],
    ['31.04.2026', null],
    ['13/31/2026', null],
    ['32 March 2026', null],
    ['March 0, 2026', null],
    ['12 Smarch 2026', null],
    ['2026/03/12', null],
    ['12-03-2026', null],
    ['20260312', null],
    ['next Tuesday', null],
    ['', null],
  ])('%j → %p', (text, expected) => {
    expect(isoDate(text)).toBe(expected);
  });
});

describe('runSteps on an invoice', () => {
  it('grounds every value at the offsets of its quote', () => {
    const { fields, lineItems, issues } = run(modelOutput());
    expect(issues).toEqual([]);
    const all = [...Object.values(fields), ...lineItems.flatMap((row) => Object.values(row))];
    expect(all).toHaveLength(8 + 3 * 4);
    for (const field of all) {
      expect(field.grounded).toBe(true);
      expect(field.source).not.toBeNull();
      const source = field.source ?? { text: '', start: 0, end: 0 };
      expect(DOCUMENT.slice(source.start, source.end)).toBe(source.text);
      expect(source.end - source.start).toBe(source.text.length);
    }
    expect(fields.vendorName?.source).toEqual({
      text: 'ACME Industrial Supplies GmbH',
      start: 0,
      end: 29,
    });
    expect(fields.invoiceNumber?.source?.start).toBe(DOCUMENT.indexOf('INV-2026-0042'));
  });

  it('maps a repeated quote to distinct places in the document', () => {
    const { lineItems } = run(modelOutput());
    const first = lineItems[0]?.quantity?.source;
    const second = lineItems[1]?.quantity?.source;
    expect(first?.text).toBe('100');
    expect(second?.text).toBe('100');
    expect(first?.start).toBe(DOCUMENT.indexOf('100'));
    expect(second?.start).toBe(DOCUMENT.indexOf('100', (first?.start ?? 0) + 1));
    expect(second?.start).toBeGreaterThan(first?.start ?? Infinity);
  });

  it('marks a value whose quote is not in the document as ungrounded', () => {
    const output = modelOutput();
    output.vendorName = g('ACME Corp', 'ACME Corporation Ltd');
    const row = output.lineItems[1];
    if (row) row.description = g('Hex nuts M10', 'Hex nuts M10');
    const { fields, lineItems, issues } = run(output);

    expect(fields.vendorName).toEqual({ value: 'ACME Corp', source: null, grounded: false });
    expect(lineItems[1]?.description).toEqual({
      value: 'Hex nuts M10',
      source: null,
      grounded: false,
    });
    expect(issues).toEqual([
      { code: 'ungrounded', field: 'vendorName', message: 'value not found in the document' },
      {
        code: 'ungrounded',
        field: 'lineItems[1].description',
        message: 'value not found in the document',
      },
    ]);
  });

  it('treats a value with no quote as ungrounded and an absent value as grounded', () => {
    const output = modelOutput();
    output.invoiceNumber = g('INV-2026-0042', null);
    output.dueDate = g(null, null);
    const { fields, issues } = run(output);
    expect(fields.invoiceNumber).toEqual({ value: 'INV-2026-0042', source: null, grounded: false });
    expect(fields.dueDate).toEqual({ value: null, source: null, grounded: true });
    expect(issues.map((i) => i.field)).toEqual(['invoiceNumber']);
  });

  it('turns amounts into 2-decimal strings and leaves quantities alone', () => {
    const { fields, lineItems } = run(modelOutput());
    expect(fields.subtotal?.value).toBe('125.00');
    expect(fields.tax?.value).toBe('23.75');
    expect(fields.total?.value).toBe('148.75');
    expect(
      lineItems.map((row) => [row.quantity?.value, row.unitPrice?.value, row.amount?.value]),
    ).toEqual([
      [100, '0.25', '25.00'],
      [100, '0.10', '10.00'],
      [2, '45.00', '90.00'],
    ]);
  });

  it.each<[string, string | null]>([
    ['€', 'EUR'],
    [' € ', 'EUR'],
    ['$', 'USD'],
    ['£', 'GBP'],
    ['eur', 'EUR'],
    ['CHF', 'CHF'],
    ['Euro', null],
    ['US$', 'USD'],
  ])('normalizes currency %j to %p', (raw, expected) => {
    const output = modelOutput();
    output.currency = g(raw, null);
    const { fields, issues } = run(output);
    expect(fields.currency?.value).toBe(expected);
    const invalid = issues.filter((i) => i.code === 'invalid_currency');
    expect(invalid).toEqual(
      expected === null
        ? [{ code: 'invalid_currency', field: 'currency', message: 'not an ISO 4217 code' }]
        : [],
    );
  });

  it('normalizes dates to ISO 8601', () => {
    const { fields } = run(modelOutput());
    expect(fields.invoiceDate?.value).toBe('2026-03-12');
    expect(fields.dueDate?.value).toBe('2026-04-11');
    // The source still points at the text as printed.
    expect(fields.invoiceDate?.source?.text).toBe('12.03.2026');
  });

  it('nulls an impossible date and reports it', () => {
    const output = modelOutput();
    output.dueDate = g('30.02.2026', null);
    const { fields, issues } = run(output);
    expect(fields.dueDate?.value).toBeNull();
    expect(issues).toContainEqual({
      code: 'invalid_date',
      field: 'dueDate',
      message: 'not a recognizable date',
    });
  });

  it('flags line items that do not sum to the subtotal', () => {
    const output = modelOutput();
    const row = output.lineItems[2];
    if (row) row.amount = g(95, '90.00');
    const { issues } = run(output);
    expect(issues).toEqual([
      {
        code: 'line_items_mismatch',
        field: 'subtotal',
        message: 'line items sum to 130.00, expected 125.00',
      },
    ]);
  });

  it('checks line items against total minus tax when there is no subtotal', () => {
    const output = modelOutput();
    output.subtotal = g(null, null);
    output.total = g(150, null);
    const { issues } = run(output);
    expect(issues).toContainEqual({
      code: 'line_items_mismatch',
      field: 'total',
      message: 'line items sum to 125.00, expected 126.25',
    });
  });

  it('flags a subtotal plus tax that differs from the total', () => {
    const output = modelOutput();
    output.total = g(148.76, null);
    const { issues } = run(output);
    expect(issues).toContainEqual({
      code: 'total_mismatch',
      field: 'total',
      message: 'subtotal plus tax differs from total',
    });
    expect(issues.some((i) => i.code === 'line_items_mismatch')).toBe(false);
  });

  it.each<[string, string]>([
    ['not JSON', 'Sure! Here is the invoice: {"vendorName": ...'],
    ['truncated JSON', JSON.stringify(modelOutput()).slice(0, -1)],
    ['empty output', ''],
  ])('rejects %s with InvalidModelOutputError', (_label, raw) => {
    const err = thrown(() => runSteps(raw, context, hash));
    expect(err).toBeInstanceOf(InvalidModelOutputError);
    expect((err as Error).message).toBe('model output is not valid JSON');
  });

  it.each<[string, (o: Record<string, unknown>) => void]>([
    ['a missing field', (o) => delete o.total],
    ['an extra field', (o) => (o.notes = g('x', null))],
    ['a string amount', (o) => (o.total = g('148.75', '148.75'))],
    ['a bare value', (o) => (o.vendorName = 'ACME')],
    ['an extra key inside a field', (o) => (o.tax = { value: 1, quote: null, page: 1 })],
    ['line items not an array', (o) => (o.lineItems = {})],
  ])('rejects output with %s against the schema', (_label, mutate) => {
    const output = modelOutput() as unknown as Record<string, unknown>;
    mutate(output);
    const err = thrown(() => runSteps(JSON.stringify(output), context, hash));
    expect(err).toBeInstanceOf(InvalidModelOutputError);
    expect((err as Error).message).toMatch(
      /^model output does not match schema invoice: \d+ issue/,
    );
  });

  it('rejects the JSON literal null and an array', () => {
    expect(thrown(() => runSteps('null', context, hash))).toBeInstanceOf(InvalidModelOutputError);
    expect(thrown(() => runSteps('[]', context, hash))).toBeInstanceOf(InvalidModelOutputError);
  });
});

describe('runSteps records and replay', () => {
  const raw = JSON.stringify(modelOutput());

  it('records each step with chained input and output hashes', () => {
    const { result, records } = runSteps(raw, context, hash);
    expect(records.map((r) => `${r.step}@${r.version}`)).toEqual([
      'parse-output@1',
      'ground-quotes@3',
      'normalize-amounts@2',
      'normalize-dates@2',
      'reconcile-totals@1',
    ]);
    // No tenant setting was given, so none is recorded.
    expect(records.some((r) => 'settings' in r)).toBe(false);
    expect(records[0]?.inputSha256).toBe(sha256Hex(raw));
    for (let i = 1; i < records.length; i++) {
      expect(records[i]?.inputSha256).toBe(records[i - 1]?.outputSha256);
    }
    expect(records.at(-1)?.outputSha256).toBe(sha256Hex(stepBytes(result)));
    // Every step but the last changes something in this invoice.
    for (const record of records.slice(0, -1)) {
      expect(record.outputSha256).not.toBe(record.inputSha256);
    }
  });

  it('replays byte for byte with the same inputs', () => {
    const secret = randomBytes(32);
    const salted = (bytes: string) => commitment(secret, bytes);
    const first = runSteps(raw, context, salted);
    const second = runSteps(raw, context, salted);
    expect(JSON.stringify(second.result)).toBe(JSON.stringify(first.result));
    expect(second.records).toEqual(first.records);

    // Naming the recorded step versions explicitly replays to the same result.
    const replay = runSteps(
      raw,
      context,
      salted,
      first.records.map(({ step, version }) => ({ step, version })),
    );
    expect(JSON.stringify(replay.result)).toBe(JSON.stringify(first.result));
    expect(replay.records).toEqual(first.records);
  });

  it('does not modify the input of a step', () => {
    const before = structuredClone(modelOutput());
    const parsed = STEPS[0]?.run(raw, context);
    const grounded = STEPS[1]?.run(parsed, context);
    const snapshot = JSON.stringify(grounded);
    STEPS[2]?.run(grounded, context);
    STEPS[3]?.run(grounded, context);
    STEPS[4]?.run(grounded, context);
    expect(JSON.stringify(grounded)).toBe(snapshot);
    expect(parsed).toEqual(before);
  });

  it('salts the recorded hashes with the commitment secret', () => {
    const a = runSteps(raw, context, (b) => commitment(randomBytes(32), b));
    const b = runSteps(raw, context, hash);
    expect(JSON.stringify(a.result)).toBe(JSON.stringify(b.result));
    expect(a.records[0]?.inputSha256).not.toBe(b.records[0]?.inputSha256);
  });

  it.each<[string, number]>([
    ['parse-output', 2],
    ['parse-output', 0],
    ['normalize-currency', 1],
    ['', 1],
  ])('refuses the unknown step %s@%d', (step, version) => {
    const err = thrown(() => runSteps(raw, context, hash, [{ step, version }]));
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('unknown_step');
    expect((err as AppError).status).toBe(422);
    expect((err as AppError).message).toBe(
      `post-processing step ${step}@${version} is not available`,
    );
  });

  it('refuses an unknown step before running any later one', () => {
    const seen: string[] = [];
    const err = thrown(() =>
      runSteps(
        raw,
        context,
        (b) => {
          seen.push(b);
          return hash(b);
        },
        [
          { step: 'parse-output', version: 1 },
          { step: 'ground-quotes', version: 9 },
        ],
      ),
    );
    expect((err as AppError).code).toBe('unknown_step');
    expect(seen).toHaveLength(2); // input and output of parse-output only
  });
});

describe('built-in JSON Schemas are strict-mode friendly', () => {
  type JsonSchema = Record<string, unknown>;

  /** Every object schema reachable from `root`, following $ref into $defs/definitions. */
  function objectSchemas(root: JsonSchema): { path: string; schema: JsonSchema }[] {
    const found: { path: string; schema: JsonSchema }[] = [];
    const seen = new Set<unknown>();
    const resolve = (ref: string): JsonSchema => {
      if (!ref.startsWith('#')) throw new Error(`external $ref ${ref}`);
      let node: unknown = root;
      for (const part of ref.slice(1).split('/').filter(Boolean)) {
        node = (node as JsonSchema)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      }
      if (typeof node !== 'object' || node === null) throw new Error(`dangling $ref ${ref}`);
      return node as JsonSchema;
    };
    const visit = (node: unknown, path: string): void => {
      if (typeof node !== 'object' || node === null || seen.has(node)) return;
      seen.add(node);
      if (Array.isArray(node)) {
        node.forEach((child, i) => {
          visit(child, `${path}[${i}]`);
        });
        return;
      }
      const schema = node as JsonSchema;
      if (typeof schema.$ref === 'string') visit(resolve(schema.$ref), schema.$ref);
      const type = schema.type;
      if (type === 'object' || (Array.isArray(type) && type.includes('object'))) {
        found.push({ path, schema });
      }
      const props = schema.properties as Record<string, unknown> | undefined;
      for (const [key, child] of Object.entries(props ?? {})) visit(child, `${path}.${key}`);
      for (const key of ['items', 'anyOf', 'oneOf', 'allOf', 'prefixItems', 'not']) {
        visit(schema[key], `${path}/${key}`);
      }
      for (const key of ['$defs', 'definitions']) {
        for (const [name, child] of Object.entries((schema[key] as JsonSchema | undefined) ?? {})) {
          visit(child, `#/${key}/${name}`);
        }
      }
    };
    visit(root, '#');
    return found;
  }

  it.each(Object.entries(BUILT_IN_SCHEMAS))(
    '%s: every object forbids extra properties and requires all',
    (_name, { jsonSchema }) => {
      const objects = objectSchemas(jsonSchema);
      // Root + each grounded field + the line item and its four grounded cells, at least.
      expect(objects.length).toBeGreaterThanOrEqual(1 + 6 + 1 + 4);
      for (const { path, schema } of objects) {
        const keys = Object.keys((schema.properties as JsonSchema | undefined) ?? {});
        expect({ path, additionalProperties: schema.additionalProperties }).toEqual({
          path,
          additionalProperties: false,
        });
        expect({
          path,
          required: [...((schema.required as string[] | undefined) ?? [])].sort(),
        }).toEqual({ path, required: [...keys].sort() });
      }
    },
  );

  it('describes the invoice fields the post-processing expects', () => {
    const props = INVOICE.jsonSchema.properties as Record<string, unknown>;
    expect(Object.keys(props).sort()).toEqual(
      [
        'currency',
        'dueDate',
        'invoiceDate',
        'invoiceNumber',
        'lineItems',
        'subtotal',
        'tax',
        'total',
        'vendorName',
      ].sort(),
    );
    expect(INVOICE.jsonSchema.$schema).toBeUndefined();
    for (const name of [...INVOICE.amountFields, ...INVOICE.dateFields]) {
      expect(props).toHaveProperty(name);
    }
  });

  it('looks up only built-in schema names', () => {
    expect(getSchema('invoice')?.name).toBe('invoice');
    expect(getSchema('receipt')?.version).toBe(1);
    expect(getSchema('toString')).toBeUndefined();
    expect(getSchema('__proto__')).toBeUndefined();
    expect(getSchema('contract')).toBeUndefined();
  });
});

describe('ground-quotes versions', () => {
  const schema = BUILT_IN_SCHEMAS.invoice;
  const pdfText = 'Vendor: Page One Ltd\n\f\nInvoice No: P-2\n\f\nTotal: 3.00';
  const empty = { value: null, quote: null };
  const output = JSON.stringify({
    vendorName: { value: 'Page One Ltd', quote: 'Page One Ltd' },
    invoiceNumber: { value: 'P-2', quote: 'P-2' },
    invoiceDate: empty,
    dueDate: empty,
    currency: empty,
    subtotal: empty,
    tax: empty,
    total: { value: 3, quote: '3.00' },
    lineItems: [],
  });
  const hash = (s: string) => s.length.toString();

  it('@2 names the PDF page of each quote', () => {
    const { result } = runSteps(output, { documentText: pdfText, schema }, hash);
    expect(result.fields.vendorName?.source?.page).toBe(1);
    expect(result.fields.invoiceNumber?.source?.page).toBe(2);
    expect(result.fields.total?.source?.page).toBe(3);
  });

  it('@2 adds no page to single-page text', () => {
    const { result } = runSteps(
      output,
      { documentText: pdfText.replace(/\f/g, ' '), schema },
      hash,
    );
    expect(result.fields.total?.source).not.toHaveProperty('page');
  });

  it('@1 still replays exactly as it ran: no pages', () => {
    const steps = [
      { step: 'parse-output', version: 1 },
      { step: 'ground-quotes', version: 1 },
    ];
    const { result } = runSteps(output, { documentText: pdfText, schema }, hash, steps);
    expect(result.fields.invoiceNumber?.source).toEqual({ text: 'P-2', start: 35, end: 38 });
  });
});
