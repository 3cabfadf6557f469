/**
 * Issue 18, "extraction correctness", from the customer's side: documents submitted over HTTP
 * to the local stack, read by the LLM emulator (which quotes each value as printed), and the
 * result read back over HTTP. Each document's layout is the one the finding needs: a quantity
 * whose number is printed earlier in an address, a custom schema with an amount field, an
 * ordinal date and a date that reads either way, an amount with its currency code after it.
 */
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../../functions/src/config';
import { ExtractionEvidenceRecordSchema } from '../../functions/src/evidence/record';
import { replayExtraction } from '../../functions/src/extraction/replay';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, type Services } from '../../functions/src/services';
import { callApi, waitForTerminal, withCanary, type ExtractionBody } from '../support/api';

interface Span {
  text: string;
  start: number;
  end: number;
}
interface FieldView {
  value: unknown;
  source: Span | null;
  grounded: boolean;
  candidates?: Span[];
}
interface Issue {
  code: string;
  field: string;
  message: string;
}
interface InvoiceResult {
  fields: Record<string, FieldView>;
  lineItems: Record<string, FieldView>[];
  issues: Issue[];
}
interface CustomResult {
  data: Record<string, unknown>;
  fields: Record<string, FieldView>;
  issues: Issue[];
}

let services: Services;
let key: string;

beforeAll(async () => {
  services = createServices(parseConfig());
  const onboarded = await onboardTenant(services, {
    tenantId: `correct-${randomBytes(4).toString('hex')}`,
    name: 'Extraction correctness',
  });
  key = onboarded.apiKey.token;
}, 60_000);

afterAll(async () => {
  await services.close();
});

/** Submits `text` over HTTP and waits until the extraction is done. */
async function extract(text: string, schema = 'invoice', apiKey = key): Promise<ExtractionBody> {
  const reply = await callApi('/v1/extractions', {
    method: 'POST',
    key: apiKey,
    body: { document: { contentType: 'text/plain', text }, schema },
  });
  expect(reply.status).toBe(202);
  const done = await waitForTerminal((reply.body as ExtractionBody).id, apiKey);
  expect(done.status).toBe('succeeded');
  return done;
}

const invoiceResult = (done: ExtractionBody) => done.result as unknown as InvoiceResult;

/** The whole line of `text` a span starts on. */
function lineOf(text: string, span: Span | null | undefined): string | undefined {
  if (!span) return undefined;
  const start = text.lastIndexOf('\n', span.start - 1) + 1;
  const end = text.indexOf('\n', span.start);
  return text.slice(start, end === -1 ? text.length : end);
}

describe('grounding points at the place each value was read', () => {
  const HARBOUR = withCanary(
    [
      'Vendor: Harbour Tools Ltd',
      '10 Harbour St, Leith',
      'Invoice No: NW-2026-0457',
      'Invoice Date: 2026-03-03',
      'Currency: GBP',
      '',
      'Description | Qty | Unit Price | Amount',
      'Hammer | 10 | 1.00 | 10.00',
      'Chisel | 5 | 2.00 | 10.00',
      '',
      'Subtotal: 20.00',
      'Tax: 0.00',
      'Total: 20.00',
    ].join('\n'),
  );
  let result: InvoiceResult;

  beforeAll(async () => {
    result = invoiceResult(await extract(HARBOUR));
  }, 60_000);

  it('grounds a quantity in its table row, not in the address printed earlier with the same number', () => {
    const quantity = result.lineItems[0]?.quantity;
    expect(quantity).toMatchObject({ value: 10, grounded: true, source: { text: '10' } });
    // "10" occurs first in "10 Harbour St"; the quantity was read from the Hammer row.
    expect(HARBOUR.indexOf('10')).toBeLessThan(quantity?.source?.start ?? -1);
    expect(lineOf(HARBOUR, quantity?.source)).toBe('Hammer | 10 | 1.00 | 10.00');
  });

  it('never grounds a number inside a longer token: 5 is not the 5 of NW-2026-0457', () => {
    const quantity = result.lineItems[1]?.quantity;
    expect(quantity).toMatchObject({ value: 5, grounded: true, source: { text: '5' } });
    expect(lineOf(HARBOUR, quantity?.source)).toBe('Chisel | 5 | 2.00 | 10.00');
  });

  it('grounds every cell of a row on that row, and the total at its label, not the subtotal', () => {
    for (const [index, row] of result.lineItems.entries()) {
      for (const cell of Object.values(row)) {
        expect(lineOf(HARBOUR, cell.source)).toBe(
          index === 0 ? 'Hammer | 10 | 1.00 | 10.00' : 'Chisel | 5 | 2.00 | 10.00',
        );
      }
    }
    expect(lineOf(HARBOUR, result.fields.total?.source)).toBe('Total: 20.00');
    expect(lineOf(HARBOUR, result.fields.subtotal?.source)).toBe('Subtotal: 20.00');
    expect(result.issues).toEqual([]);
  });

  it('says ambiguous, naming the candidates, when the value fits two places equally', async () => {
    // A total printed twice with the same label (a summary box and the payment slip).
    const text = withCanary(
      ['Vendor: Slip Printers', 'Total: 48.00', '', 'Payment slip', 'Total: 48.00'].join('\n'),
    );
    const { fields, issues } = invoiceResult(await extract(text));
    expect(fields.total).toMatchObject({ value: '48.00', grounded: false, source: null });
    expect(fields.total?.candidates?.map((c) => c.start)).toEqual([
      text.indexOf('48.00'),
      text.lastIndexOf('48.00'),
    ]);
    expect(issues).toContainEqual({
      code: 'ambiguous',
      field: 'total',
      message: 'the value fits 2 places in the document equally',
    });
  }, 60_000);
});

describe('custom schemas are grounded and normalized where their field types allow', () => {
  const name = `po-${randomBytes(3).toString('hex')}`;
  const jsonSchema = {
    type: 'object',
    properties: {
      supplier: { type: 'string', description: 'Labels: Supplier' },
      orderTotal: { type: 'string', format: 'amount', description: 'Labels: Order Total' },
      deliverBy: { type: ['string', 'null'], format: 'date', description: 'Labels: Deliver By' },
      units: { type: 'integer', description: 'Labels: Units' },
    },
    required: ['supplier', 'orderTotal', 'deliverBy', 'units'],
    additionalProperties: false,
  };

  it('turns "5,400.00" into a decimal and grounds every value it can', async () => {
    const registered = await callApi('/v1/schemas', {
      method: 'POST',
      key,
      body: { name, jsonSchema },
    });
    expect(registered.status).toBe(201);
    const text = withCanary(
      [
        'Purchase order 12',
        'Supplier: Contoso Metals',
        'Units: 12',
        'Deliver By: March 3rd, 2026',
        'Order Total: 5,400.00',
      ].join('\n'),
    );
    const done = await extract(text, name);
    const result = done.result as unknown as CustomResult;
    expect(result.data).toEqual({
      supplier: 'Contoso Metals',
      orderTotal: '5400.00',
      deliverBy: '2026-03-03',
      units: 12,
    });
    expect(result.fields['/orderTotal']).toEqual({
      value: '5400.00',
      source: {
        text: '5,400.00',
        start: text.indexOf('5,400.00'),
        end: text.indexOf('5,400.00') + 8,
      },
      grounded: true,
    });
    expect(result.fields['/supplier']).toMatchObject({
      grounded: true,
      source: { text: 'Contoso Metals' },
    });
    // 12 is also the order's number, printed first; the value was read at its label.
    expect(result.fields['/units']).toMatchObject({
      value: 12,
      grounded: true,
      source: { start: text.indexOf('Units: 12') + 7 },
    });
    expect(result.fields['/deliverBy']).toMatchObject({
      value: '2026-03-03',
      source: { text: 'March 3rd, 2026' },
    });
    expect(result.issues).toEqual([]);
    const evidence = await callApi(`/v1/evidence/${done.evidenceId ?? ''}`, { key });
    const record = ExtractionEvidenceRecordSchema.parse(evidence.body);
    expect(record.postProcessing.map((s) => `${s.step}@${String(s.version)}`)).toEqual([
      'parse-output@1',
      'ground-quotes@3',
      'normalize-amounts@2',
      'normalize-dates@2',
    ]);
  }, 60_000);
});

describe('dates: written forms parse, numeric dates that read either way are flagged', () => {
  const DATES = withCanary(
    [
      'Vendor: Calendar Co',
      'Invoice No: CAL-7',
      'Invoice Date: March 3rd, 2026',
      'Due Date: 04/02/2026',
      'Total: 30.00',
    ].join('\n'),
  );

  it('reads "March 3rd, 2026" and flags "04/02/2026" instead of reading it month first', async () => {
    const { fields, issues } = invoiceResult(await extract(DATES));
    expect(fields.invoiceDate).toMatchObject({ value: '2026-03-03', grounded: true });
    expect(fields.dueDate).toMatchObject({
      value: null,
      grounded: true,
      source: { text: '04/02/2026' },
    });
    expect(issues).toEqual([
      {
        code: 'ambiguous_date',
        field: 'dueDate',
        message:
          "day and month can be read either way: 2026-02-04 (day first) or 2026-04-02 (month first); the tenant's dateOrder setting decides",
      },
    ]);
  }, 60_000);

  it("reads it in the tenant's date order, and replays with that order after the setting changes", async () => {
    const dmy = await onboardTenant(services, {
      tenantId: `dmy-${randomBytes(4).toString('hex')}`,
      name: 'Day-first tenant',
    });
    await services.platform.setTenantDateOrder(dmy.tenant.id, 'DMY');
    const done = await extract(DATES, 'invoice', dmy.apiKey.token);
    const { fields, issues } = invoiceResult(done);
    expect(fields.dueDate?.value).toBe('2026-02-04');
    expect(issues).toEqual([]);
    const evidence = await callApi(`/v1/evidence/${done.evidenceId ?? ''}`, {
      key: dmy.apiKey.token,
    });
    const record = ExtractionEvidenceRecordSchema.parse(evidence.body);
    expect(record.postProcessing.find((s) => s.step === 'normalize-dates')).toMatchObject({
      version: 2,
      settings: { dateOrder: 'DMY' },
    });
    // The tenant changes its mind; the record still replays as it ran.
    await services.platform.setTenantDateOrder(dmy.tenant.id, 'MDY');
    const profile = await services.platform.getTenant(dmy.tenant.id);
    expect(profile?.dateOrder).toBe('MDY');
    const replay = await replayExtraction(services, profile ?? dmy.tenant, done.id);
    expect(replay.reproducible).toBe(true);
  }, 60_000);
});

describe('amounts keep the currency printed after them', () => {
  it('gives currency USD for "Total: 10.86 USD" on a receipt with no currency line', async () => {
    const text = withCanary(
      ['Merchant: Corner Cafe', 'Date: 2026-02-03', 'Total: 10.86 USD'].join('\n'),
    );
    const { fields, issues } = invoiceResult(await extract(text, 'receipt'));
    expect(fields.total).toMatchObject({ value: '10.86', grounded: true });
    expect(fields.currency).toEqual({
      value: 'USD',
      source: { text: 'USD', start: text.indexOf('USD'), end: text.indexOf('USD') + 3 },
      grounded: true,
    });
    expect(issues).toEqual([]);
  }, 60_000);
});
