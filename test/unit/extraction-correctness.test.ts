/**
 * The step versions of issue 18's "extraction correctness": ground-quotes@3 (values grounded
 * where they were read, or `ambiguous`), normalize-amounts@2 (the currency printed with the
 * amounts; custom amount fields), normalize-dates@2 (written forms, ambiguous numeric dates,
 * the tenant's date order), and the older versions still replaying as they ran.
 */
import { sha256Hex } from '../../functions/src/evidence/canonical';
import { runSteps, type StepToRun } from '../../functions/src/extraction/postprocess/registry';
import type {
  CustomResult,
  ExtractionResult,
  StepSettings,
} from '../../functions/src/extraction/postprocess/types';
import { readAmount } from '../../functions/src/extraction/postprocess/money';
import { numberPlaces, wholeTokenPlaces } from '../../functions/src/extraction/postprocess/locate';
import { readDate } from '../../functions/src/extraction/postprocess/written-dates';
import { BUILT_IN_SCHEMAS } from '../../functions/src/extraction/schemas/built-in';
import { customExtractionSchema } from '../../functions/src/extraction/schemas/custom-store';
import type { JsonSchema } from '../../functions/src/extraction/schemas/json-schema-subset';

const hash = (bytes: string) => sha256Hex(bytes);
const g = <T>(value: T, quote: string | null) => ({ value, quote });
const empty = g(null, null);

type Cells = [string, number, number, number];

/** An invoice answer: every field null unless given, line items from [description, qty, price, amount]. */
function invoice(fields: Record<string, unknown>, rows: Cells[] = []): string {
  return JSON.stringify({
    vendorName: empty,
    invoiceNumber: empty,
    invoiceDate: empty,
    dueDate: empty,
    currency: empty,
    subtotal: empty,
    tax: empty,
    total: empty,
    ...fields,
    lineItems: rows.map(([description, quantity, unitPrice, amount]) => ({
      description: g(description, description),
      quantity: g(quantity, String(quantity)),
      unitPrice: g(unitPrice, unitPrice.toFixed(2)),
      amount: g(amount, amount.toFixed(2)),
    })),
  });
}

function runInvoice(
  raw: string,
  documentText: string,
  steps?: StepToRun[],
  settings?: StepSettings,
): ExtractionResult {
  return runSteps(raw, { documentText, schema: BUILT_IN_SCHEMAS.invoice, settings }, hash, steps)
    .result;
}

const GROUNDING_ONLY = (version: number): StepToRun[] => [
  { step: 'parse-output', version: 1 },
  { step: 'ground-quotes', version },
];

/** The line of the document a span starts on. */
const lineAt = (text: string, start: number | undefined) =>
  text.slice(0, start ?? 0).split('\n').length - 1;

describe('ground-quotes@3: each value is grounded where it was read', () => {
  const HARBOUR = [
    'Vendor: Harbour Tools Ltd',
    '10 Harbour St, Leith',
    'Invoice No: NW-2026-0457',
    '',
    'Description | Qty | Unit Price | Amount',
    '--- | --- | --- | ---',
    'Hammer | 10 | 1.00 | 10.00',
    'Chisel | 5 | 2.00 | 10.00',
    '',
    'Subtotal: 20.00',
    'Total: 20.00',
  ].join('\n');
  const raw = invoice(
    {
      vendorName: g('Harbour Tools Ltd', 'Harbour Tools Ltd'),
      invoiceNumber: g('NW-2026-0457', 'NW-2026-0457'),
      subtotal: g(20, '20.00'),
      total: g(20, '20.00'),
    },
    [
      ['Hammer', 10, 1, 10],
      ['Chisel', 5, 2, 10],
    ],
  );

  it('grounds a quantity in its table row, not in the address printed earlier with the same number', () => {
    const { lineItems, issues } = runInvoice(raw, HARBOUR, GROUNDING_ONLY(3));
    const hammerLine = HARBOUR.split('\n').indexOf('Hammer | 10 | 1.00 | 10.00');
    const quantity = lineItems[0]?.quantity;
    expect(quantity?.grounded).toBe(true);
    expect(quantity?.source?.text).toBe('10');
    expect(lineAt(HARBOUR, quantity?.source?.start)).toBe(hammerLine);
    expect(HARBOUR.indexOf('10')).toBeLessThan(quantity?.source?.start ?? 0);
    expect(issues).toEqual([]);
  });

  it('never grounds a number inside a longer token (5 in NW-2026-0457)', () => {
    const { lineItems } = runInvoice(raw, HARBOUR, GROUNDING_ONLY(3));
    const chiselLine = HARBOUR.split('\n').indexOf('Chisel | 5 | 2.00 | 10.00');
    expect(lineAt(HARBOUR, lineItems[1]?.quantity?.source?.start)).toBe(chiselLine);
    // Each row's cells lie on its own line, the repeated 10.00 included.
    for (const [index, row] of lineItems.entries()) {
      for (const cell of Object.values(row)) {
        expect(lineAt(HARBOUR, cell.source?.start)).toBe(index === 0 ? chiselLine - 1 : chiselLine);
      }
    }
  });

  it('grounds the total at its label when the subtotal prints the same number', () => {
    const { fields } = runInvoice(raw, HARBOUR, GROUNDING_ONLY(3));
    expect(fields.total?.source?.start).toBe(HARBOUR.indexOf('Total: 20.00') + 7);
    expect(fields.subtotal?.source?.start).toBe(HARBOUR.indexOf('Subtotal: 20.00') + 10);
  });

  it('@2 still replays as it ran: the first unused occurrence, inside the address and the invoice number', () => {
    const { lineItems } = runInvoice(raw, HARBOUR, GROUNDING_ONLY(2));
    expect(lineItems[0]?.quantity).toMatchObject({
      grounded: true,
      source: { start: HARBOUR.indexOf('10 Harbour') },
    });
    expect(lineItems[1]?.quantity?.source?.start).toBe(HARBOUR.indexOf('0457') + 2);
  });

  it('says ambiguous, with the candidates, when a value fits several places equally', () => {
    const doc = ['Total: 20.00', 'Hammer 20.00', 'Page 2', 'Total: 20.00'].join('\n');
    const { fields, issues } = runInvoice(
      invoice({ total: g(20, '20.00') }),
      doc,
      GROUNDING_ONLY(3),
    );
    expect(fields.total).toEqual({
      value: 20,
      source: null,
      grounded: false,
      candidates: [
        { text: '20.00', start: 7, end: 12 },
        { text: '20.00', start: doc.lastIndexOf('20.00'), end: doc.lastIndexOf('20.00') + 5 },
      ],
    });
    expect(issues).toEqual([
      {
        code: 'ambiguous',
        field: 'total',
        message: 'the value fits 2 places in the document equally',
      },
    ]);
  });

  it('grounds a quote found once even without a label, and not at all when only inside a token', () => {
    const doc = 'Harbour Tools Ltd\nRef NW-2026-0457';
    const { fields, issues } = runInvoice(
      invoice({ vendorName: g('Harbour Tools Ltd', 'Harbour Tools Ltd'), tax: g(5, '5') }),
      doc,
      GROUNDING_ONLY(3),
    );
    expect(fields.vendorName?.source).toEqual({ text: 'Harbour Tools Ltd', start: 0, end: 17 });
    expect(fields.tax).toEqual({ value: 5, source: null, grounded: false });
    expect(issues).toEqual([
      { code: 'ungrounded', field: 'tax', message: 'value not found in the document' },
    ]);
  });

  it('tells cells of one row with the same text apart by their column header', () => {
    const doc = ['Item | Qty | Price | Amount', 'Toner | 1 | 75.00 | 75.00'].join('\n');
    const { lineItems } = runInvoice(invoice({}, [['Toner', 1, 75, 75]]), doc, GROUNDING_ONLY(3));
    expect(lineItems[0]?.unitPrice?.source?.start).toBe(doc.indexOf('75.00'));
    expect(lineItems[0]?.amount?.source?.start).toBe(doc.lastIndexOf('75.00'));
  });

  it('maps identical rows to their own lines in order', () => {
    const doc = [
      'Item | Qty | Price | Amount',
      'Nail | 1 | 0.10 | 0.10',
      'Nail | 1 | 0.10 | 0.10',
    ].join('\n');
    const { lineItems, issues } = runInvoice(
      invoice({}, [
        ['Nail', 1, 0.1, 0.1],
        ['Nail', 1, 0.1, 0.1],
      ]),
      doc,
      GROUNDING_ONLY(3),
    );
    expect(issues).toEqual([]);
    expect(lineItems.map((row) => lineAt(doc, row.description?.source?.start))).toEqual([1, 2]);
  });

  it('finds a row on the line that holds its cells at distinct places, not one quote counted twice', () => {
    // A later row prints "Item 1" (whose "1" is no quantity) and 3.00 once; the row quoting
    // 3.00 twice is the line that prints it twice.
    const doc = [
      'Item | Qty | Price | Amount',
      'Item 1 | 1 | 3.00 | 3.00',
      'Item 1 | 7 | 3.00 | 21.00',
    ].join('\n');
    const { lineItems, issues } = runInvoice(
      invoice({}, [
        ['Item 1', 1, 3, 3],
        ['Item 1', 7, 3, 21],
      ]),
      doc,
      GROUNDING_ONLY(3),
    );
    expect(issues).toEqual([]);
    expect(
      lineItems.map((row) => Object.values(row).map((c) => lineAt(doc, c.source?.start))),
    ).toEqual([
      [1, 1, 1, 1],
      [2, 2, 2, 2],
    ]);
    expect(lineItems[0]?.quantity?.source?.start).toBe(doc.indexOf('| 1 |') + 2);
  });

  it('tells equal cells of a row apart by the header above them in columns aligned with spaces', () => {
    const doc = [
      'Description      Qty   Unit Price   Amount',
      'Toner              1        75.00    75.00',
    ].join('\n');
    const { lineItems, issues } = runInvoice(
      invoice({}, [['Toner', 1, 75, 75]]),
      doc,
      GROUNDING_ONLY(3),
    );
    expect(issues).toEqual([]);
    expect(lineItems[0]?.unitPrice?.source?.start).toBe(doc.indexOf('75.00'));
    expect(lineItems[0]?.amount?.source?.start).toBe(doc.lastIndexOf('75.00'));
  });

  it('says ambiguous for equal cells of a row when nothing tells their columns apart', () => {
    const doc = 'Toner 1 75.00 75.00';
    const { lineItems, issues } = runInvoice(
      invoice({}, [['Toner', 1, 75, 75]]),
      doc,
      GROUNDING_ONLY(3),
    );
    expect(lineItems[0]?.description?.grounded).toBe(true);
    expect(lineItems[0]?.unitPrice?.candidates?.map((c) => c.start)).toEqual([
      doc.indexOf('75.00'),
      doc.lastIndexOf('75.00'),
    ]);
    expect(issues.map((i) => `${i.code} ${i.field}`)).toEqual([
      'ambiguous lineItems[0].unitPrice',
      'ambiguous lineItems[0].amount',
    ]);
  });

  it('reads a label across a wide gap: `Total:      20.00` and `Date:  …   Due:  …` on one line', () => {
    const doc = [
      'Subtotal:      20.00',
      'Total:         20.00',
      'Invoice Date:  2026-04-02      Due Date:  2026-04-02',
    ].join('\n');
    const { fields, issues } = runInvoice(
      invoice({
        subtotal: g(20, '20.00'),
        total: g(20, '20.00'),
        invoiceDate: g('2026-04-02', '2026-04-02'),
        dueDate: g('2026-04-02', '2026-04-02'),
      }),
      doc,
      GROUNDING_ONLY(3),
    );
    expect(issues).toEqual([]);
    expect(fields.subtotal?.source?.start).toBe(doc.indexOf('20.00'));
    expect(fields.total?.source?.start).toBe(doc.indexOf('20.00', doc.indexOf('Total:')));
    expect(fields.invoiceDate?.source?.start).toBe(doc.indexOf('2026-04-02'));
    expect(fields.dueDate?.source?.start).toBe(doc.lastIndexOf('2026-04-02'));
  });

  it('prefers the place its label names in a whitespace-aligned layout and a stacked one', () => {
    const doc = ['Due Date: 2026-04-02', 'Invoice Date', '2026-04-02'].join('\n');
    const { fields, issues } = runInvoice(
      invoice({
        invoiceDate: g('2026-04-02', '2026-04-02'),
        dueDate: g('2026-04-02', '2026-04-02'),
      }),
      doc,
      GROUNDING_ONLY(3),
    );
    expect(issues).toEqual([]);
    expect(fields.dueDate?.source?.start).toBe(10);
    expect(fields.invoiceDate?.source?.start).toBe(doc.lastIndexOf('2026-04-02'));
  });

  it('matches a quote across a line break of the text layer and names its page', () => {
    const doc = 'Page one\n\fVendor: Harbour\nTools Ltd';
    const { fields } = runInvoice(
      invoice({ vendorName: g('Harbour Tools Ltd', 'Harbour Tools Ltd') }),
      doc,
      GROUNDING_ONLY(3),
    );
    expect(fields.vendorName?.source).toEqual({
      text: 'Harbour\nTools Ltd',
      start: doc.indexOf('Harbour'),
      end: doc.length,
      page: 2,
    });
  });
});

describe('whole tokens', () => {
  const text = 'NW-2026-0457 10 Harbour St 10.86 4.50 Qty 5 total 5,400.00 (10)';
  const at = (spans: { start: number; end: number }[]) =>
    spans.map((s) => text.slice(s.start, s.end));

  it('finds a quote only where it is not part of a longer word or number', () => {
    expect(wholeTokenPlaces(text, '5').map((s) => s.start)).toEqual([text.indexOf('Qty 5') + 4]);
    expect(wholeTokenPlaces(text, '10').map((s) => s.start)).toEqual([
      text.indexOf('10 Harbour'),
      text.indexOf('(10)') + 1,
    ]);
    expect(at(wholeTokenPlaces(text, '2026'))).toEqual(['2026']);
    expect(at(wholeTokenPlaces(text, 'harbour st', true))).toEqual(['Harbour St']);
    expect(wholeTokenPlaces(text, 'Harbour S')).toEqual([]);
  });

  it('finds a number by its value however it is printed', () => {
    expect(at(numberPlaces(text, 5400))).toEqual(['5,400.00']);
    expect(at(numberPlaces(text, 4.5))).toEqual(['4.50']);
    expect(at(numberPlaces(text, 10))).toEqual(['10', '10']);
    expect(numberPlaces(text, 86)).toEqual([]);
  });
});

describe('normalize-amounts@2: amounts keep their currency', () => {
  it('takes the currency from a code printed after the amounts when there is no currency line', () => {
    const doc = 'Corner Cafe\nEspresso | 2.50\nTotal: 10.86 USD';
    const result = runInvoice(invoice({ total: g(10.86, '10.86 USD') }), doc);
    expect(result.fields.total?.value).toBe('10.86');
    expect(result.fields.currency).toEqual({
      value: 'USD',
      source: { text: 'USD', start: doc.indexOf('USD'), end: doc.indexOf('USD') + 3 },
      grounded: true,
    });
    expect(result.issues).toEqual([]);
  });

  it('reads a code next to the quoted number in the document, before or after it', () => {
    const doc = 'Total: EUR 10.86';
    const result = runInvoice(invoice({ total: g(10.86, '10.86') }), doc);
    expect(result.fields.currency?.value).toBe('EUR');
  });

  it('reports amounts printed in another currency than the currency field', () => {
    const doc = 'Currency: EUR\nTotal: 10.86 USD';
    const result = runInvoice(
      invoice({ currency: g('EUR', 'EUR'), total: g(10.86, '10.86 USD') }),
      doc,
    );
    expect(result.fields.currency?.value).toBe('EUR');
    expect(result.issues).toEqual([
      {
        code: 'currency_mismatch',
        field: 'currency',
        message: 'amounts are printed in USD, the currency field says EUR',
      },
    ]);
  });

  it('leaves the currency unset, with an issue, when the amounts name two', () => {
    const doc = 'Subtotal: 10.00 USD\nTotal: 12.00 EUR';
    const result = runInvoice(
      invoice({ subtotal: g(10, '10.00 USD'), total: g(12, '12.00 EUR') }),
      doc,
    );
    expect(result.fields.currency?.value).toBeNull();
    expect(result.issues.map((i) => i.code)).toContain('currency_mismatch');
  });

  it('@1 still replays as it ran: the code after the amount is lost', () => {
    const doc = 'Total: 10.86 USD';
    const result = runInvoice(invoice({ total: g(10.86, '10.86 USD') }), doc, [
      ...GROUNDING_ONLY(2),
      { step: 'normalize-amounts', version: 1 },
    ]);
    expect(result.fields.currency?.value).toBeNull();
    expect(result.fields.total?.value).toBe('10.86');
  });

  it.each<[string, string | undefined, string | undefined]>([
    ['5,400.00', '5400.00', undefined],
    ['5.400,00', '5400.00', undefined],
    ['1 234,5', '1234.50', undefined],
    ['10.86 USD', '10.86', 'USD'],
    ['USD 10.86', '10.86', 'USD'],
    ['$3.50', '3.50', 'USD'],
    ['-$3.50', '-3.50', 'USD'],
    ['(12.00)', '-12.00', undefined],
    ['12,5 €', '12.50', 'EUR'],
    ['0.125', '0.125', undefined],
    ['1234.567', '1234.567', undefined],
    ['1,234,567', '1234567.00', undefined],
    ['5,400', '5400.00', undefined],
    ['007', '7.00', undefined],
    ['5,400.00 incl. VAT', undefined, undefined],
    ['10.86 XYZ', undefined, undefined],
    ['USD 10.86 EUR', undefined, undefined],
    ['(12.00', undefined, undefined],
    ['', undefined, undefined],
  ])('reads the amount %j as %p %p', (text, decimal, code) => {
    const amount = readAmount(text);
    expect(amount?.decimal).toBe(decimal);
    expect(amount?.currency?.code).toBe(code);
  });
});

describe('normalize-dates@2: written forms, and numeric dates that read either way', () => {
  it.each<[string, string]>([
    ['March 3rd, 2026', '2026-03-03'],
    ['March 3, 2026', '2026-03-03'],
    ['Mar. 3 2026', '2026-03-03'],
    ['3rd March 2026', '2026-03-03'],
    ['3rd of March, 2026', '2026-03-03'],
    ['the 21st of March 2026', '2026-03-21'],
    ['Tuesday, March 3, 2026', '2026-03-03'],
    ['Tue 3 Mar 2026', '2026-03-03'],
    ['03-Mar-2026', '2026-03-03'],
    ['2026-Mar-03', '2026-03-03'],
    ['12 Sept. 2026', '2026-09-12'],
    ['2026-03-03', '2026-03-03'],
    ['2026-3-3', '2026-03-03'],
    ['2026/03/03', '2026-03-03'],
    ['2026-03-03T10:15:00Z', '2026-03-03'],
    ['12.03.2026', '2026-03-12'],
    ['13/02/2026', '2026-02-13'],
    ['02/13/2026', '2026-02-13'],
    ['03/03/2026', '2026-03-03'],
  ])('reads %j as %s', (text, iso) => {
    expect(readDate(text)).toEqual({ kind: 'date', iso });
  });

  it.each<string>([
    'March 32nd, 2026',
    'Smarch 3, 2026',
    'Wednesday, March 3, 2026',
    '2026-02-30',
    '31.04.2026',
    '13/13/2026',
    '04/02/26',
    '3 March',
    'next Tuesday',
    '',
  ])('refuses %j', (text) => {
    expect(readDate(text)).toEqual({ kind: 'invalid' });
  });

  it('reads 04/02/2026 either way unless the order is set', () => {
    expect(readDate('04/02/2026')).toEqual({
      kind: 'ambiguous',
      dayFirst: '2026-02-04',
      monthFirst: '2026-04-02',
    });
    expect(readDate('04/02/2026', 'DMY')).toEqual({ kind: 'date', iso: '2026-02-04' });
    expect(readDate('04-02-2026', 'MDY')).toEqual({ kind: 'date', iso: '2026-04-02' });
    // The text decides over the setting when only one reading is a date.
    expect(readDate('13/02/2026', 'MDY')).toEqual({ kind: 'date', iso: '2026-02-13' });
    // So does a weekday: 4 February 2026 is a Wednesday, 2 April a Thursday.
    expect(readDate('Wed 04/02/2026')).toEqual({ kind: 'date', iso: '2026-02-04' });
    expect(readDate('Wed 04/02/2026', 'MDY')).toEqual({ kind: 'date', iso: '2026-02-04' });
    expect(readDate('Fri 04/02/2026')).toEqual({ kind: 'invalid' });
  });

  const DOC = 'Invoice Date: March 3rd, 2026\nDue Date: 04/02/2026';
  const raw = invoice({
    invoiceDate: g('March 3rd, 2026', 'March 3rd, 2026'),
    dueDate: g('04/02/2026', '04/02/2026'),
  });

  it('flags an ambiguous date instead of reading it month first, and parses the ordinal', () => {
    const { fields, issues } = runInvoice(raw, DOC);
    expect(fields.invoiceDate?.value).toBe('2026-03-03');
    expect(fields.dueDate?.value).toBeNull();
    expect(fields.dueDate?.source?.text).toBe('04/02/2026');
    expect(issues).toEqual([
      {
        code: 'ambiguous_date',
        field: 'dueDate',
        message:
          "day and month can be read either way: 2026-02-04 (day first) or 2026-04-02 (month first); the tenant's dateOrder setting decides",
      },
    ]);
  });

  it("reads it in the tenant's order, and records the setting with the step", () => {
    const run = runSteps(
      raw,
      { documentText: DOC, schema: BUILT_IN_SCHEMAS.invoice, settings: { dateOrder: 'DMY' } },
      hash,
    );
    expect(run.result.fields.dueDate?.value).toBe('2026-02-04');
    expect(run.result.issues).toEqual([]);
    expect(run.records.map((r) => r.settings)).toEqual([
      undefined,
      undefined,
      undefined,
      { dateOrder: 'DMY' },
      undefined,
    ]);
  });

  it('replays with the recorded setting, whatever the tenant has set since', () => {
    const first = runSteps(
      raw,
      { documentText: DOC, schema: BUILT_IN_SCHEMAS.invoice, settings: { dateOrder: 'DMY' } },
      hash,
    );
    const replay = runSteps(
      raw,
      { documentText: DOC, schema: BUILT_IN_SCHEMAS.invoice, settings: { dateOrder: 'MDY' } },
      hash,
      first.records.map(({ step, version, settings }) => ({
        step,
        version,
        settings: settings ?? {},
      })),
    );
    expect(replay.records).toEqual(first.records);
    expect(JSON.stringify(replay.result)).toBe(JSON.stringify(first.result));
    // A record made with no setting replays with none, even when the tenant has one now.
    const unset = runSteps(raw, { documentText: DOC, schema: BUILT_IN_SCHEMAS.invoice }, hash);
    const again = runSteps(
      raw,
      { documentText: DOC, schema: BUILT_IN_SCHEMAS.invoice, settings: { dateOrder: 'MDY' } },
      hash,
      unset.records.map(({ step, version, settings }) => ({
        step,
        version,
        settings: settings ?? {},
      })),
    );
    expect(again.records).toEqual(unset.records);
  });

  it('refuses recorded settings it does not know', () => {
    expect(() =>
      runSteps(raw, { documentText: DOC, schema: BUILT_IN_SCHEMAS.invoice }, hash, [
        { step: 'parse-output', version: 1 },
        { step: 'normalize-dates', version: 2, settings: { dateOrder: 'YMD' } },
      ]),
    ).toThrow(/recorded settings of normalize-dates are unknown/);
  });

  it('reads the printed date, not a typed value the model already reordered', () => {
    const { fields, issues } = runInvoice(invoice({ dueDate: g('2026-04-02', '04/02/2026') }), DOC);
    expect(fields.dueDate?.value).toBeNull();
    expect(issues.map((i) => i.code)).toEqual(['ambiguous_date']);
  });

  it('@1 still replays as it ran: ordinals invalid, 04/02/2026 month first', () => {
    const { fields, issues } = runInvoice(raw, DOC, [
      ...GROUNDING_ONLY(2),
      { step: 'normalize-dates', version: 1 },
    ]);
    expect(fields.invoiceDate?.value).toBeNull();
    expect(fields.dueDate?.value).toBe('2026-04-02');
    expect(issues.map((i) => i.code)).toEqual(['invalid_date']);
  });
});

describe('custom schemas get the steps their field types allow', () => {
  const jsonSchema: JsonSchema = {
    type: 'object',
    properties: {
      supplier: { type: 'string', description: 'Labels: Supplier' },
      total: { type: 'string', format: 'amount', description: 'Labels: Total' },
      fee: { type: ['string', 'null'], format: 'amount' },
      signedOn: { type: 'string', format: 'date', description: 'Labels: Signed' },
      startsOn: { type: ['string', 'null'], format: 'date', description: 'Labels: Start' },
      units: { type: 'integer', description: 'Labels: Units' },
      renewal: { type: 'string', enum: ['auto', 'manual'] },
      signed: { type: 'boolean' },
      lines: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            item: { type: 'string' },
            price: { type: 'string', format: 'amount', description: 'Labels: Price' },
          },
          required: ['item', 'price'],
          additionalProperties: false,
        },
      },
    },
    required: [
      'supplier',
      'total',
      'fee',
      'signedOn',
      'startsOn',
      'units',
      'renewal',
      'signed',
      'lines',
    ],
    additionalProperties: false,
  };
  const schema = customExtractionSchema('contract', jsonSchema);
  const DOC = [
    'Supplier: Contoso Metals',
    'Units: 12',
    'Signed: March 3rd, 2026',
    'Start: 04/02/2026',
    'Renewal: Manual',
    'Fee: waived',
    '',
    'Item | Price',
    'Steel 12 | 5,400.00',
    '',
    'Total: 10.86 USD',
  ].join('\n');
  const answer = {
    supplier: 'Contoso Metals',
    total: '10.86 USD',
    fee: 'waived',
    signedOn: 'March 3rd, 2026',
    startsOn: '04/02/2026',
    units: 12,
    renewal: 'manual',
    signed: true,
    lines: [{ item: 'Steel 12', price: '5,400.00' }],
  };

  it('runs parse-output, ground-quotes@3, normalize-amounts@2 and normalize-dates@2', () => {
    expect(schema.steps).toEqual([
      { step: 'parse-output', version: 1 },
      { step: 'ground-quotes', version: 3 },
      { step: 'normalize-amounts', version: 2 },
      { step: 'normalize-dates', version: 2 },
    ]);
  });

  it('grounds strings and numbers, normalizes amounts and dates, and keeps the schema valid', () => {
    const result = runSteps(
      JSON.stringify(answer),
      { documentText: DOC, schema },
      hash,
      schema.steps,
    ).result as unknown as CustomResult;
    expect(result.data).toEqual({
      ...answer,
      total: '10.86 USD',
      fee: null,
      signedOn: '2026-03-03',
      startsOn: null,
      lines: [{ item: 'Steel 12', price: '5400.00' }],
    });
    expect(Object.keys(result.fields)).toEqual([
      '/supplier',
      '/total',
      '/fee',
      '/signedOn',
      '/startsOn',
      '/units',
      '/renewal',
      '/lines/0/item',
      '/lines/0/price',
    ]);
    // 12 is printed twice; the label decides (`Steel 12` names the item, not the units).
    expect(result.fields['/units']).toEqual({
      value: 12,
      source: { text: '12', start: DOC.indexOf('12'), end: DOC.indexOf('12') + 2 },
      grounded: true,
    });
    expect(result.fields['/lines/0/price']).toMatchObject({
      value: '5400.00',
      source: { text: '5,400.00' },
      grounded: true,
    });
    expect(result.fields['/renewal']?.source?.text).toBe('Manual');
    expect(result.fields['/signedOn']).toMatchObject({ value: '2026-03-03', grounded: true });
    expect(result.issues).toEqual([
      { code: 'invalid_amount', field: '/fee', message: 'not an amount' },
      expect.objectContaining({ code: 'ambiguous_date', field: '/startsOn' }),
    ]);
  });

  it('keeps a value as written where the schema does not allow null', () => {
    const schemaText = JSON.stringify({ ...answer, signedOn: 'someday' });
    const result = runSteps(schemaText, { documentText: DOC, schema }, hash, schema.steps)
      .result as unknown as CustomResult;
    expect((result.data as { signedOn: string }).signedOn).toBe('someday');
    expect(result.issues).toContainEqual({
      code: 'invalid_date',
      field: '/signedOn',
      message: 'not a recognizable date',
    });
  });

  it('still replays a record made with parse-output alone to {data, issues}', () => {
    const { result } = runSteps(JSON.stringify(answer), { documentText: DOC, schema }, hash, [
      { step: 'parse-output', version: 1 },
    ]);
    expect(result).toEqual({ data: answer, issues: [] });
  });
});
