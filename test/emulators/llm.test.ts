import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { imageText } from '../../scripts/local/emulators/llm/documents';
import { extractBySchema, parseNumber } from '../../scripts/local/emulators/llm/extract';
import { type JsonSchema, validateBySchema } from '../../scripts/local/emulators/llm/schema';
import { startLlmEmulator } from '../../scripts/local/emulators/llm/server';
import { findModel, MODELS } from '../../scripts/local/emulators/llm/models';
import {
  ANTHROPIC_RETIREMENTS,
  anthropicCapabilities,
  anthropicRetryAfterMs,
  AnthropicProvider,
} from '../../functions/src/providers/anthropic';
import {
  OPENAI_RETIREMENTS,
  openAiCapabilities,
  openAiRetryAfterMs,
  OpenAiProvider,
} from '../../functions/src/providers/openai';
import type { ProviderRequest } from '../../functions/src/providers/provider';
import type { RunningEmulator } from '../../scripts/local/emulators/running';

const FIXTURES = join(__dirname, '..', 'fixtures', 'documents');
const INVOICE = readFileSync(join(FIXTURES, 'invoice-acme.txt'), 'utf8');
const RECEIPT = readFileSync(join(FIXTURES, 'receipt-corner-coffee.txt'), 'utf8');
const SYSTEM = 'Extract the invoice fields. Answer with JSON only.';

function grounded(valueType: string): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    properties: { value: { type: [valueType, 'null'] }, quote: { type: ['string', 'null'] } },
    required: ['value', 'quote'],
  };
}

/** An OpenAI-strict invoice schema: every property required, nullability via unions. */
const INVOICE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    vendor: { type: 'string', description: 'Seller. Labels: Vendor, Seller, Supplier.' },
    invoiceNumber: { $ref: '#/$defs/groundedString' },
    invoiceDate: { type: 'string' },
    dueDate: { type: ['string', 'null'] },
    currency: { type: 'string', enum: ['USD', 'EUR', 'GBP'] },
    customer: { type: ['string', 'null'], description: 'Labels: Bill To, Customer.' },
    purchaseOrder: {
      anyOf: [{ type: 'string' }, { type: 'null' }],
      description: 'Labels: PO Number, Purchase order.',
    },
    taxAmount: { type: ['number', 'null'], description: 'Labels: VAT, Tax.' },
    total: { $ref: '#/$defs/groundedNumber', description: 'Labels: Total Due, Total.' },
    paid: { type: 'boolean' },
    iban: { type: ['string', 'null'] },
    lineItems: { type: 'array', items: { $ref: '#/$defs/lineItem' } },
  },
  required: [
    'vendor',
    'invoiceNumber',
    'invoiceDate',
    'dueDate',
    'currency',
    'customer',
    'purchaseOrder',
    'taxAmount',
    'total',
    'paid',
    'iban',
    'lineItems',
  ],
  $defs: {
    groundedString: grounded('string'),
    groundedNumber: grounded('number'),
    lineItem: {
      type: 'object',
      additionalProperties: false,
      properties: {
        description: { type: 'string' },
        quantity: { type: 'number' },
        unitPrice: { type: 'number' },
        amount: { type: 'number' },
      },
      required: ['description', 'quantity', 'unitPrice', 'amount'],
    },
  },
};

const EXPECTED_INVOICE = {
  vendor: 'ACME Industrial Supplies GmbH',
  invoiceNumber: { value: 'INV-2024-0042', quote: 'INV-2024-0042' },
  invoiceDate: '2024-03-15',
  dueDate: '2024-04-14',
  currency: 'EUR',
  customer: 'Northwind Traders Ltd',
  purchaseOrder: 'PO-7781',
  taxAmount: 336.02,
  total: { value: 2104.52, quote: '€ 2.104,52' },
  paid: false,
  iban: null,
  lineItems: [
    { description: 'Steel bolts M8, box of 100', quantity: 12, unitPrice: 18.5, amount: 222 },
    { description: 'Hydraulic pump HP-200', quantity: 1, unitPrice: 1249, amount: 1249 },
    { description: 'Installation service (hours)', quantity: 3.5, unitPrice: 85, amount: 297.5 },
  ],
};

const RECEIPT_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    receiptNumber: { type: 'string' },
    date: { type: 'string' },
    merchant: { type: 'string' },
    paymentMethod: { type: 'string' },
    items: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          item: { type: 'string' },
          qty: { type: 'integer' },
          price: { type: 'number' },
        },
        required: ['item', 'qty', 'price'],
      },
    },
    tax: { type: 'number' },
    total: { type: 'number' },
    tip: { type: ['number', 'null'] },
  },
  required: ['receiptNumber', 'date', 'merchant', 'paymentMethod', 'items', 'tax', 'total', 'tip'],
};

const EXPECTED_RECEIPT = {
  receiptNumber: 'R-88213',
  date: '03/02/2024',
  merchant: 'Corner Coffee Co.',
  paymentMethod: 'Visa ending 4242',
  items: [
    { item: 'Latte', qty: 2, price: 4.5 },
    { item: 'Croissant', qty: 1, price: 3.25 },
  ],
  tax: 0.98,
  total: 13.23,
  tip: null,
};

function tokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
}

/**
 * An independent check of the top-level required properties and their declared primitive types,
 * the way an adapter would guard model output before trusting it.
 */
function requiredTypesHold(value: unknown, schema: JsonSchema): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return (schema.required ?? []).every((key) => {
    if (!(key in record)) return false;
    const declared = schema.properties?.[key]?.type;
    if (declared === undefined) return true;
    const types = Array.isArray(declared) ? declared : [declared];
    const actual = record[key];
    return types.some((type) =>
      type === 'null'
        ? actual === null
        : type === 'integer'
          ? Number.isInteger(actual)
          : type === 'array'
            ? Array.isArray(actual)
            : type === 'object'
              ? typeof actual === 'object' && actual !== null && !Array.isArray(actual)
              : typeof actual === type,
    );
  });
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, checksum]);
}

/** A 1×1 grayscale PNG whose `tEXt` chunk says what the picture "shows". */
function pngWithDescription(description: string): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(1, 4);
  header[8] = 8; // bit depth; colour type 0 (grayscale), default compression/filter/interlace
  const text = Buffer.concat([
    Buffer.from('Description', 'latin1'),
    Buffer.from([0]),
    Buffer.from(description, 'latin1'),
  ]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('tEXt', text),
    pngChunk('IDAT', deflateSync(Buffer.from([0, 0xff]))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('extractBySchema', () => {
  it('reads the invoice fixture: labels, synonyms, grounded quotes, enum, boolean, table', () => {
    const extracted = extractBySchema(INVOICE, INVOICE_SCHEMA);
    expect(extracted).toEqual(EXPECTED_INVOICE);
    expect(validateBySchema(extracted, INVOICE_SCHEMA)).toEqual([]);
  });

  it('matches labels listed in the description, and only those or the property name', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        reference: { type: 'string', description: 'Labels: Invoice No, Invoice #, Bill number.' },
        other: { type: ['string', 'null'] },
      },
      required: ['reference', 'other'],
    };
    expect(extractBySchema('Customer: X\nBill Number: B-77\n', schema)).toEqual({
      reference: 'B-77',
      other: null,
    });
    expect(extractBySchema('Invoice  #: 4711', schema)).toEqual({ reference: '4711', other: null });
    expect(extractBySchema('invoice_no - Z9', schema)).toEqual({ reference: 'Z9', other: null });
  });

  it('reads European, English and signed numbers', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        gross: { type: 'number' },
        net: { type: 'number' },
        credit: { type: 'number' },
        count: { type: 'integer' },
        rate: { type: 'number' },
      },
      required: ['gross', 'net', 'credit', 'count', 'rate'],
    };
    const text =
      'Gross: 1.234,56 €\nNet: $1,234.56\nCredit: EUR -12,50\nCount: 1 234 pcs\nRate: 0.19';
    expect(extractBySchema(text, schema)).toEqual({
      gross: 1234.56,
      net: 1234.56,
      credit: -12.5,
      count: 1234,
      rate: 0.19,
    });
    expect(parseNumber('1.234.567')).toBe(1234567);
    expect(parseNumber('(45.00)')).toBe(-45);
    expect(parseNumber('INV-2024')).toBe(2024);
    expect(parseNumber('none')).toBeUndefined();
  });

  it('answers null for nullable misses and zero values otherwise', () => {
    const schema: JsonSchema = {
      type: 'object',
      additionalProperties: false,
      properties: {
        a: { type: ['string', 'null'] },
        b: { anyOf: [{ type: 'number' }, { type: 'null' }] },
        c: { type: 'string' },
        d: { type: 'number' },
        e: { type: 'boolean' },
        f: { type: 'string', enum: ['draft', 'final'] },
        g: grounded('string'),
        h: { type: 'array', items: { type: 'string' } },
        optional: { type: 'string' },
      },
      required: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
    };
    const extracted = extractBySchema('Nothing labelled here.', schema);
    expect(extracted).toEqual({
      a: null,
      b: null,
      c: '',
      d: 0,
      e: false,
      f: 'draft',
      g: { value: null, quote: null },
      h: [],
    });
    expect(validateBySchema(extracted, schema)).toEqual([]);
  });

  it('picks the table whose header matches the items and quotes cells verbatim', () => {
    const text = [
      'Shipping | Carrier',
      'Ground | UPS',
      '',
      'Items:',
      '| SKU | Unit Price (USD) | Qty |',
      '|-----|-----------------:|-----|',
      '| A-1 | 1,200.00 | 2 |',
      '| B-2 | 3.50 | 10 |',
      'Tags: urgent, fragile, export',
    ].join('\n');
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              sku: grounded('string'),
              unitPrice: grounded('number'),
              quantity: { type: 'integer', description: 'Labels: Qty.' },
            },
            required: ['sku', 'unitPrice', 'quantity'],
          },
        },
        tags: { type: 'array', items: { type: 'string' } },
      },
      required: ['items', 'tags'],
    };
    expect(extractBySchema(text, schema)).toEqual({
      items: [
        {
          sku: { value: 'A-1', quote: 'A-1' },
          unitPrice: { value: 1200, quote: '1,200.00' },
          quantity: 2,
        },
        {
          sku: { value: 'B-2', quote: 'B-2' },
          unitPrice: { value: 3.5, quote: '3.50' },
          quantity: 10,
        },
      ],
      tags: ['urgent', 'fragile', 'export'],
    });
  });

  it('prefixes nested object properties with the parent name', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        vendor: {
          type: 'object',
          properties: { name: { type: 'string' }, vatId: { type: ['string', 'null'] } },
          required: ['name', 'vatId'],
        },
        customer: {
          anyOf: [
            {
              type: 'object',
              properties: { name: { type: 'string' } },
              required: ['name'],
            },
            { type: 'null' },
          ],
        },
      },
      required: ['vendor', 'customer'],
    };
    expect(extractBySchema('Vendor Name: ACME\nVendor VAT ID: DE123', schema)).toEqual({
      vendor: { name: 'ACME', vatId: 'DE123' },
      customer: null,
    });
  });
});

describe('image text', () => {
  it('reads a JPEG comment segment and treats other images as blank', () => {
    const comment = Buffer.from('Invoice No.: J-1', 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(comment.length + 2);
    const jpeg = Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xfe]),
      length,
      comment,
      Buffer.from([0xff, 0xda, 0x00, 0x02, 0xff, 0xd9]),
    ]);
    expect(imageText(jpeg)).toBe('Invoice No.: J-1');
    expect(imageText(Buffer.from('GIF89a'))).toBe('');
    expect(imageText(pngWithDescription('Total: 5'))).toBe('Total: 5');
  });
});

describe('LLM emulator through the official SDKs', () => {
  let emulator: RunningEmulator;
  let openai: OpenAI;
  let anthropic: Anthropic;

  /**
   * Jest runs tests in their own realm, where the AbortError Node's fetch throws is not
   * `instanceof Error`; the OpenAI SDK then drops its name and reports a client timeout as a plain
   * connection error. Re-throwing it as a local Error keeps the SDK's real classification.
   */
  const realmFetch: typeof fetch = async (input, init) => {
    try {
      return await fetch(input, init);
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === 'AbortError') {
        throw Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });
      }
      throw error;
    }
  };

  const openaiWith = (options: { timeout?: number; fetch?: typeof fetch } = {}) =>
    new OpenAI({ apiKey: 'test', baseURL: `${emulator.url}/v1`, maxRetries: 0, ...options });
  const anthropicWith = (options: { timeout?: number } = {}) =>
    new Anthropic({ apiKey: 'test', baseURL: emulator.url, maxRetries: 0, ...options });

  const chat = (document: string, options?: OpenAI.RequestOptions, client = openai) =>
    client.chat.completions.create(
      {
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: document },
        ],
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'invoice', strict: true, schema: INVOICE_SCHEMA },
        },
      },
      options,
    );

  const respond = (document: string, options?: OpenAI.RequestOptions) =>
    openai.responses.create(
      {
        model: 'gpt-4.1-mini',
        instructions: SYSTEM,
        store: false,
        input: [{ role: 'user', content: [{ type: 'input_text', text: document }] }],
        text: {
          format: { type: 'json_schema', name: 'invoice', strict: true, schema: INVOICE_SCHEMA },
        },
      },
      options,
    );

  // claude-haiku-4-5 by default: claude-sonnet-4-5 reached its end-of-life on 2026-11-30.
  const message = (
    document: string,
    options?: Anthropic.RequestOptions,
    client = anthropic,
    model = 'claude-haiku-4-5',
  ) =>
    client.messages.create(
      {
        model,
        max_tokens: 1024,
        system: [{ type: 'text', text: SYSTEM }],
        messages: [{ role: 'user', content: document }],
        tools: [
          {
            name: 'record_invoice',
            description: 'Record the extracted invoice fields.',
            input_schema: INVOICE_SCHEMA as Anthropic.Tool.InputSchema,
          },
        ],
        tool_choice: { type: 'tool', name: 'record_invoice' },
      },
      options,
    );

  const fault = (value: string) => ({ headers: { 'x-emulator-fault': value } });

  const admin = async (path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${emulator.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status).toBe(200);
    return response.json();
  };

  beforeAll(async () => {
    emulator = await startLlmEmulator({ port: 0 });
    openai = openaiWith();
    anthropic = anthropicWith();
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('serves health and the OpenAI model list', async () => {
    const health = await fetch(`${emulator.url}/healthz`);
    expect(health.status).toBe(200);
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-4o-mini', 'gpt-4o-mini-2024-07-18']));
    expect(emulator.url).toBe(`http://${emulator.host}`);
    expect(emulator.host).toBe(`127.0.0.1:${emulator.port}`);
  });

  it('chat completions: structured output, snapshot, usage, request id', async () => {
    const { data, request_id } = await chat(INVOICE).withResponse();
    const choice = data.choices[0];
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.message.refusal).toBeNull();
    const content = choice?.message.content ?? '';
    expect(JSON.parse(content)).toEqual(EXPECTED_INVOICE);
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('gpt-4o-mini-2024-07-18');
    // Deprecated in the SDK's types, but still sent by the API and recorded as evidence.
    const { system_fingerprint: fingerprint } = data as { system_fingerprint?: string };
    expect(fingerprint).toMatch(/^fp_[0-9a-f]{8}em$/);
    expect(data.usage).toMatchObject({
      prompt_tokens: tokens(`${SYSTEM}\n${INVOICE}`),
      completion_tokens: tokens(content),
      total_tokens: tokens(`${SYSTEM}\n${INVOICE}`) + tokens(content),
    });
    expect(request_id).toMatch(/^req_[A-Za-z0-9]{32}$/);
  });

  it('responses: output_text, snapshot, usage and the store flag', async () => {
    const response = await respond(INVOICE);
    expect(response.object).toBe('response');
    expect(response.status).toBe('completed');
    expect(response.model).toBe('gpt-4.1-mini-2025-04-14');
    expect(JSON.parse(response.output_text)).toEqual(EXPECTED_INVOICE);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant' });
    expect(response.usage).toMatchObject({
      input_tokens: tokens(`${SYSTEM}\n${INVOICE}`),
      output_tokens: tokens(response.output_text),
      total_tokens: tokens(`${SYSTEM}\n${INVOICE}`) + tokens(response.output_text),
    });
    expect((response as unknown as { store: boolean }).store).toBe(false);
    await expect(openai.responses.retrieve(response.id)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );

    const stored = await openai.responses.create({
      model: 'gpt-4o',
      input: 'Invoice No.: 77',
      text: {
        format: {
          type: 'json_schema',
          name: 'n',
          strict: true,
          schema: {
            type: 'object',
            additionalProperties: false,
            properties: { invoiceNumber: { type: 'string' } },
            required: ['invoiceNumber'],
          },
        },
      },
    });
    expect((stored as unknown as { store: boolean }).store).toBe(true);
    expect(stored.model).toBe('gpt-4o-2024-08-06');
    const retrieved = await openai.responses.retrieve(stored.id);
    expect(retrieved.output_text).toBe('{"invoiceNumber":"77"}');
  });

  it('messages: forced tool call, snapshot, usage, request id', async () => {
    const { data, request_id } = await message(INVOICE).withResponse();
    expect(data.type).toBe('message');
    expect(data.role).toBe('assistant');
    expect(data.model).toBe('claude-haiku-4-5-20251001');
    expect(data.stop_reason).toBe('tool_use');
    const block = data.content[0];
    expect(block?.type).toBe('tool_use');
    if (block?.type !== 'tool_use') throw new Error('expected a tool_use block');
    expect(block.name).toBe('record_invoice');
    expect(block.id).toMatch(/^toolu_01/);
    expect(block.input).toEqual(EXPECTED_INVOICE);
    expect(data.usage.input_tokens).toBe(tokens(`${SYSTEM}\n${INVOICE}`));
    expect(data.usage.output_tokens).toBe(tokens(JSON.stringify(block.input)));
    expect(request_id).toMatch(/^req_011C/);
  });

  it('extracts identically on all three endpoints and on repeated calls', async () => {
    const chatAnswers = [await chat(INVOICE), await chat(INVOICE)].map(
      (completion) => completion.choices[0]?.message.content,
    );
    const responseAnswers = [await respond(INVOICE), await respond(INVOICE)].map(
      (response) => response.output_text,
    );
    const toolAnswers = [await message(INVOICE), await message(INVOICE)].map((answer) =>
      JSON.stringify(answer.content[0]?.type === 'tool_use' ? answer.content[0].input : null),
    );
    expect(new Set([...chatAnswers, ...responseAnswers, ...toolAnswers]).size).toBe(1);
    expect(JSON.parse(chatAnswers[0] ?? '')).toEqual(EXPECTED_INVOICE);
  });

  it('grounded quotes are verbatim substrings of the document', async () => {
    const answer = await respond(INVOICE);
    const parsed = JSON.parse(answer.output_text) as Record<string, { quote?: unknown }>;
    const quotes = [parsed.invoiceNumber?.quote, parsed.total?.quote];
    expect(quotes).toEqual(['INV-2024-0042', '€ 2.104,52']);
    for (const quote of quotes) expect(INVOICE.includes(quote as string)).toBe(true);
  });

  it('answers JSON mode and plain text too', async () => {
    const json = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Invoice No.: 12\nTotal: 3,50 EUR' }],
      response_format: { type: 'json_object' },
    });
    expect(JSON.parse(json.choices[0]?.message.content ?? '')).toEqual({
      invoiceNumber: '12',
      total: '3,50 EUR',
    });
    const text = await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      system: 'Summarize.',
      messages: [{ role: 'user', content: 'Vendor: ACME\nfree text line' }],
    });
    expect(text.model).toBe('claude-haiku-4-5-20251001');
    expect(text.stop_reason).toBe('end_turn');
    expect(text.content).toEqual([{ type: 'text', text: 'Vendor: ACME', citations: null }]);
  });

  it('reads a PNG whose Description text chunk holds the document, on every endpoint', async () => {
    const png = pngWithDescription(RECEIPT).toString('base64');
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Read this receipt.' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
          ],
        },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'receipt', strict: true, schema: RECEIPT_SCHEMA },
      },
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toEqual(EXPECTED_RECEIPT);
    // Image text is billed as an image (a flat 85 tokens), not as the words it shows.
    expect(completion.usage?.prompt_tokens).toBe(tokens('Read this receipt.') + 85);

    const response = await openai.responses.create({
      model: 'gpt-4o-mini',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_image', image_url: `data:image/png;base64,${png}`, detail: 'auto' },
          ],
        },
      ],
      text: {
        format: { type: 'json_schema', name: 'receipt', strict: true, schema: RECEIPT_SCHEMA },
      },
    });
    expect(JSON.parse(response.output_text)).toEqual(EXPECTED_RECEIPT);

    const answer = await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 1024,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
          ],
        },
      ],
      tools: [{ name: 'receipt', input_schema: RECEIPT_SCHEMA as Anthropic.Tool.InputSchema }],
      tool_choice: { type: 'tool', name: 'receipt' },
    });
    expect(answer.content[0]).toMatchObject({ type: 'tool_use', input: EXPECTED_RECEIPT });
  });

  it('an image without a Description reads as an empty document', async () => {
    const blank = pngWithDescription('').toString('base64');
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${blank}` } }],
        },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'receipt', strict: true, schema: RECEIPT_SCHEMA },
      },
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toMatchObject({
      receiptNumber: '',
      items: [],
      total: 0,
      tip: null,
    });
  });

  it('answers forced function calls and Anthropic output_config formats', async () => {
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: RECEIPT }],
      tools: [{ type: 'function', function: { name: 'receipt', parameters: RECEIPT_SCHEMA } }],
      tool_choice: { type: 'function', function: { name: 'receipt' } },
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' ? call.function.name : undefined).toBe('receipt');
    expect(JSON.parse(call?.type === 'function' ? call.function.arguments : '')).toEqual(
      EXPECTED_RECEIPT,
    );

    const response = await openai.responses.create({
      model: 'gpt-4o-mini',
      input: RECEIPT,
      tools: [{ type: 'function', name: 'receipt', parameters: RECEIPT_SCHEMA, strict: true }],
      tool_choice: { type: 'function', name: 'receipt' },
    });
    const item = response.output[0];
    expect(item?.type).toBe('function_call');
    expect(JSON.parse(item?.type === 'function_call' ? item.arguments : '')).toEqual(
      EXPECTED_RECEIPT,
    );

    const formatted = await anthropic.messages.create({
      model: 'claude-opus-4-6',
      max_tokens: 1024,
      messages: [{ role: 'user', content: RECEIPT }],
      output_config: { format: { type: 'json_schema', schema: RECEIPT_SCHEMA } },
    });
    expect(formatted.model).toBe('claude-opus-4-6');
    const block = formatted.content[0];
    expect(JSON.parse(block?.type === 'text' ? block.text : '')).toEqual(EXPECTED_RECEIPT);
  });

  it('lists Anthropic models by snapshot', async () => {
    const ids: string[] = [];
    for await (const model of anthropic.models.list()) ids.push(model.id);
    expect(ids).toEqual(
      expect.arrayContaining(['claude-haiku-4-5-20251001', 'claude-sonnet-5-5', 'claude-opus-4-8']),
    );
    expect(ids).not.toContain('claude-haiku-4-5');
    // Retired on 2026-11-30 (the SDK's DEPRECATED_MODELS): no longer listed.
    expect(ids).not.toContain('claude-sonnet-4-5-20250929');
    expect((await anthropic.models.retrieve('claude-haiku-4-5')).id).toBe(
      'claude-haiku-4-5-20251001',
    );
  });

  it('unknown models answer 404 model_not_found; dated names are echoed', async () => {
    const openaiError: unknown = await openai.chat.completions
      .create({ model: 'gpt-unknown', messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(openaiError).toBeInstanceOf(OpenAI.NotFoundError);
    expect(openaiError).toMatchObject({ status: 404, code: 'model_not_found' });

    const anthropicError: unknown = await anthropic.messages
      .create({
        model: 'claude-unknown',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x' }],
      })
      .catch((error: unknown) => error);
    expect(anthropicError).toBeInstanceOf(Anthropic.NotFoundError);
    expect(anthropicError).toMatchObject({
      status: 404,
      error: {
        type: 'error',
        error: { type: 'not_found_error', message: 'model: claude-unknown' },
      },
    });

    const dated = await anthropic.messages.create({
      model: 'claude-haiku-4-5-20251001',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(dated.model).toBe('claude-haiku-4-5-20251001');
    const undated = await anthropic.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(undated.model).toBe('claude-sonnet-4-6');
    const datedOpenAi = await openai.chat.completions.create({
      model: 'gpt-4o-2024-11-20',
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(datedOpenAi.model).toBe('gpt-4o-2024-11-20');
  });

  it("rate_limit: each API's documented 429 headers (OpenAI x-ratelimit-*, Anthropic retry-after + anthropic-ratelimit-*), never retry-after-ms", async () => {
    const openaiError: unknown = await chat(INVOICE, fault('rate_limit:7')).catch(
      (error: unknown) => error,
    );
    expect(openaiError).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimited = openaiError as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(rateLimited.headers.get('x-ratelimit-reset-requests')).toBe('7s');
    expect(rateLimited.headers.get('x-ratelimit-limit-tokens')).toMatch(/^\d+$/);
    expect(rateLimited.headers.get('x-ratelimit-reset-tokens')).toMatch(/^\d+m?s$/);
    expect(rateLimited.headers.get('retry-after')).toBeNull();
    expect(rateLimited.headers.get('retry-after-ms')).toBeNull();
    expect(rateLimited.code).toBe('rate_limit_exceeded');
    expect(rateLimited.requestID).toMatch(/^req_/);
    // What production reads from them: the exhausted limit's reset.
    expect(openAiRetryAfterMs((h) => rateLimited.headers.get(h))).toBe(7000);

    const anthropicError: unknown = await message(INVOICE, fault('rate_limit:3')).catch(
      (error: unknown) => error,
    );
    expect(anthropicError).toBeInstanceOf(Anthropic.RateLimitError);
    const limited = anthropicError as InstanceType<typeof Anthropic.RateLimitError>;
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.headers.get('retry-after-ms')).toBeNull();
    expect(limited.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    const reset = Date.parse(limited.headers.get('anthropic-ratelimit-requests-reset') ?? '');
    expect(reset).toBeGreaterThan(Date.now());
    for (const limit of ['tokens', 'input-tokens', 'output-tokens']) {
      expect(limited.headers.get(`anthropic-ratelimit-${limit}-limit`)).toMatch(/^\d+$/);
    }
    expect(limited.type).toBe('rate_limit_error');
    expect(limited.requestID).toMatch(/^req_011C/);
    expect(anthropicRetryAfterMs((h) => limited.headers.get(h))).toBe(3000);
  });

  it('server_error and overloaded surface as InternalServerError (Anthropic 529 Overloaded)', async () => {
    await expect(chat(INVOICE, fault('server_error'))).rejects.toMatchObject({
      constructor: OpenAI.InternalServerError,
      status: 500,
      type: 'server_error',
    });
    await expect(chat(INVOICE, fault('overloaded'))).rejects.toMatchObject({
      constructor: OpenAI.InternalServerError,
      status: 503,
    });
    await expect(message(INVOICE, fault('server_error'))).rejects.toMatchObject({
      constructor: Anthropic.InternalServerError,
      status: 500,
      type: 'api_error',
    });
    const overloaded: unknown = await message(INVOICE, fault('overloaded')).catch(
      (error: unknown) => error,
    );
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    expect(overloaded).toMatchObject({ status: 529, type: 'overloaded_error' });
  });

  it('timeout: the client gives up with APIConnectionTimeoutError', async () => {
    const started = Date.now();
    await expect(
      chat(INVOICE, fault('timeout'), openaiWith({ timeout: 300, fetch: realmFetch })),
    ).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    await expect(
      message(INVOICE, fault('timeout'), anthropicWith({ timeout: 300 })),
    ).rejects.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('latency delays the answer but still answers', async () => {
    const started = Date.now();
    const completion = await chat(INVOICE, fault('latency:300'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toEqual(EXPECTED_INVOICE);
  });

  it('malformed_json: the answer no longer parses; Anthropic answers text instead of a tool call', async () => {
    const completion = await chat(INVOICE, fault('malformed_json'));
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    const content = completion.choices[0]?.message.content ?? '';
    expect(content.length).toBeGreaterThan(10);
    expect(() => JSON.parse(content) as unknown).toThrow(SyntaxError);

    const response = await respond(INVOICE, fault('malformed_json'));
    expect(() => JSON.parse(response.output_text) as unknown).toThrow(SyntaxError);

    const answer = await message(INVOICE, fault('malformed_json'));
    expect(answer.stop_reason).toBe('end_turn');
    const block = answer.content[0];
    expect(block?.type).toBe('text');
    expect(() => JSON.parse(block?.type === 'text' ? block.text : '{}') as unknown).toThrow(
      SyntaxError,
    );
  });

  it('schema_violation: valid JSON that breaks the schema', async () => {
    const completion = await chat(INVOICE, fault('schema_violation'));
    const parsed: unknown = JSON.parse(completion.choices[0]?.message.content ?? '');
    expect(requiredTypesHold(EXPECTED_INVOICE, INVOICE_SCHEMA)).toBe(true);
    expect(requiredTypesHold(parsed, INVOICE_SCHEMA)).toBe(false);
    expect(parsed).not.toHaveProperty('vendor');
    expect(parsed).toMatchObject({ invoiceNumber: 12345 });

    const answer = await message(INVOICE, fault('schema_violation'));
    expect(answer.stop_reason).toBe('tool_use');
    const block = answer.content[0];
    expect(requiredTypesHold(block?.type === 'tool_use' ? block.input : null, INVOICE_SCHEMA)).toBe(
      false,
    );
  });

  it('refusal: OpenAI sets message.refusal, Anthropic stops with refusal', async () => {
    const completion = await chat(INVOICE, fault('refusal'));
    expect(completion.choices[0]?.message.content).toBeNull();
    expect(completion.choices[0]?.message.refusal).toMatch(/can't help/);

    const response = await respond(INVOICE, fault('refusal'));
    expect(response.output_text).toBe('');
    expect(response.output[0]).toMatchObject({ content: [{ type: 'refusal' }] });

    const answer = await message(INVOICE, fault('refusal'));
    expect(answer.stop_reason).toBe('refusal');
    expect(answer.content).toEqual([]);
  });

  it('admin faults hit only requests whose body matches, and expire after `times`', async () => {
    const before = (await admin('/admin/usage')) as { faults: Record<string, number> };
    await admin('/admin/faults', { fault: 'server_error', times: 2, match: 'ORDER-MATCH-1' });
    const tagged = `${INVOICE}\nReference: ORDER-MATCH-1`;

    await expect(chat(INVOICE)).resolves.toMatchObject({ object: 'chat.completion' });
    await expect(chat(tagged)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(message(tagged)).rejects.toBeInstanceOf(Anthropic.InternalServerError);
    await expect(chat(tagged)).resolves.toMatchObject({ object: 'chat.completion' });

    const after = (await admin('/admin/usage')) as { faults: Record<string, number> };
    expect((after.faults.server_error ?? 0) - (before.faults.server_error ?? 0)).toBe(2);
    expect(await admin('/admin/faults')).toEqual({ faults: [] });
  });

  it('admin usage counts requests and tokens per snapshot; reset clears them', async () => {
    await admin('/admin/reset', {});
    await admin('/admin/faults', { fault: 'rate_limit:1', match: 'COUNTED-FAULT' });
    const first = await chat(INVOICE);
    const second = await message(INVOICE);
    await expect(chat(`${INVOICE}\nCOUNTED-FAULT`)).rejects.toBeInstanceOf(OpenAI.RateLimitError);

    expect(await admin('/admin/usage')).toEqual({
      models: {
        'gpt-4o-mini-2024-07-18': {
          requests: 2,
          inputTokens: first.usage?.prompt_tokens,
          outputTokens: first.usage?.completion_tokens,
        },
        'claude-haiku-4-5-20251001': {
          requests: 1,
          inputTokens: second.usage.input_tokens,
          outputTokens: second.usage.output_tokens,
        },
      },
      faults: { rate_limit: 1 },
    });
    await admin('/admin/reset', {});
    expect(await admin('/admin/usage')).toEqual({ models: {}, faults: {} });
  });

  it('rejects unknown faults', async () => {
    const response = await fetch(`${emulator.url}/admin/faults`, {
      method: 'POST',
      body: JSON.stringify({ fault: 'meteor_strike' }),
    });
    expect(response.status).toBe(400);
    await expect(chat(INVOICE, fault('meteor_strike'))).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    );
  });

  it('close() does not wait for a request held open by the timeout fault', async () => {
    const other = await startLlmEmulator();
    const client = new OpenAI({ apiKey: 'test', baseURL: `${other.url}/v1`, maxRetries: 0 });
    const pending = client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, fault('timeout'))
      .catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });
});

/**
 * The emulator holds every model it lists to what the real API enforces (parameters, output
 * limits, truncation, quota errors), and the product's adapters, built over the same official
 * SDKs, send only what each model accepts.
 */
describe('LLM emulator: what the real APIs enforce, per model', () => {
  let emulator: RunningEmulator;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    emulator = await startLlmEmulator({ port: 0 });
    openai = new OpenAI({ apiKey: 'test', baseURL: `${emulator.url}/v1`, maxRetries: 0 });
    // A timeout of our own, as the product sets one: without it the SDK refuses a non-streaming
    // max_tokens over ~21k itself, before any request (@anthropic-ai/sdk messages.create).
    anthropic = new Anthropic({
      apiKey: 'test',
      baseURL: emulator.url,
      maxRetries: 0,
      timeout: 10_000,
    });
  });

  afterAll(async () => {
    await emulator.close();
  });

  const chatWith = (model: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming>) =>
    openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: INVOICE }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'invoice', strict: true, schema: INVOICE_SCHEMA },
      },
      ...extra,
    });

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected the API to refuse the request');
      },
      (error: unknown) => error,
    );

  it.each(['o4-mini', 'gpt-5', 'o3', 'gpt-5.5', 'gpt-6-sol'])(
    'temperature is refused for the reasoning model %s: 400 unsupported_value (chat) and unsupported_parameter (responses)',
    async (model) => {
      const chatError = await failure(chatWith(model, { temperature: 0 }));
      expect(chatError).toBeInstanceOf(OpenAI.BadRequestError);
      expect(chatError).toMatchObject({
        status: 400,
        code: 'unsupported_value',
        param: 'temperature',
        type: 'invalid_request_error',
        message: expect.stringContaining(
          "Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.",
        ) as string,
      });
      // The default is accepted, and so is leaving it out.
      expect((await chatWith(model, { temperature: 1 })).choices[0]?.finish_reason).toBe('stop');
      expect((await chatWith(model, {})).choices[0]?.finish_reason).toBe('stop');

      const responsesError = await failure(
        openai.responses.create({ model, input: INVOICE, temperature: 0.2 }),
      );
      expect(responsesError).toMatchObject({
        status: 400,
        code: 'unsupported_parameter',
        param: 'temperature',
      });
    },
  );

  it('sampling models take temperature 0..2 (out of range is a 400); Anthropic takes no temperature at all', async () => {
    expect((await chatWith('gpt-4o-mini', { temperature: 0 })).choices[0]?.finish_reason).toBe(
      'stop',
    );
    expect(await failure(chatWith('gpt-4.1', { temperature: 2.5 }))).toMatchObject({
      status: 400,
      code: 'decimal_above_max_value',
      param: 'temperature',
    });
    // The installed Anthropic SDK has no temperature field at all: sent anyway, it is refused.
    const sampled = {
      model: 'claude-haiku-4-5',
      max_tokens: 100,
      temperature: 0,
      messages: [{ role: 'user' as const, content: 'x' }],
    };
    expect(await failure(anthropic.messages.create(sampled))).toMatchObject({
      status: 400,
      error: {
        error: {
          type: 'invalid_request_error',
          message: expect.stringMatching(/^temperature: /) as string,
        },
      },
    });
  });

  it('max_tokens is refused for reasoning models (unsupported_parameter, naming max_completion_tokens)', async () => {
    // The legacy field on purpose: the finding is that the API refuses it for reasoning models.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    expect(await failure(chatWith('o4-mini', { max_tokens: 500 }))).toMatchObject({
      status: 400,
      code: 'unsupported_parameter',
      param: 'max_tokens',
      message: expect.stringContaining("Use 'max_completion_tokens' instead.") as string,
    });
    expect(
      (await chatWith('o4-mini', { max_completion_tokens: 5000 })).choices[0]?.finish_reason,
    ).toBe('stop');
    // Sampling models still take the legacy field.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    expect((await chatWith('gpt-4o-mini', { max_tokens: 5000 })).choices[0]?.finish_reason).toBe(
      'stop',
    );
  });

  it('an output budget over the model limit is a 400 on both providers, in their words', async () => {
    expect(await failure(chatWith('gpt-4o-mini', { max_completion_tokens: 20_000 }))).toMatchObject(
      {
        status: 400,
        code: 'invalid_value',
        param: 'max_completion_tokens',
        message: expect.stringContaining(
          'This model supports at most 16384 completion tokens',
        ) as string,
      },
    );
    expect(
      await failure(
        anthropic.messages.create({
          model: 'claude-haiku-4-5',
          max_tokens: 64_001,
          messages: [{ role: 'user', content: 'x' }],
        }),
      ),
    ).toMatchObject({
      status: 400,
      error: {
        error: {
          type: 'invalid_request_error',
          message:
            'max_tokens: 64001 > 64000, which is the maximum allowed number of output tokens for claude-haiku-4-5-20251001',
        },
      },
    });
  });

  it('truncation: too small a budget ends OpenAI with finish_reason length and cut JSON', async () => {
    const completion = await chatWith('gpt-4o-mini', { max_completion_tokens: 20 });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(20);
    expect(() => {
      JSON.parse(choice?.message.content ?? '');
    }).toThrow();

    const response = await openai.responses.create({
      model: 'gpt-4.1-mini',
      input: INVOICE,
      max_output_tokens: 20,
      text: {
        format: { type: 'json_schema', name: 'invoice', strict: true, schema: INVOICE_SCHEMA },
      },
    });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });

  it('truncation: too small a budget ends Anthropic with stop_reason max_tokens and an incomplete forced tool call', async () => {
    const message = await anthropic.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 20,
      messages: [{ role: 'user', content: INVOICE }],
      tools: [
        {
          name: 'record_invoice',
          input_schema: INVOICE_SCHEMA as Anthropic.Tool.InputSchema,
        },
      ],
      tool_choice: { type: 'tool', name: 'record_invoice' },
    });
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage.output_tokens).toBe(20);
    const block = message.content[0];
    expect(block?.type).toBe('tool_use');
    expect(block?.type === 'tool_use' ? block.input : undefined).not.toEqual(EXPECTED_INVOICE);
  });

  it('insufficient_quota: OpenAI answers 429 with type and code insufficient_quota and no retry headers', async () => {
    const quota = await failure(
      openai.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-emulator-fault': 'insufficient_quota' } },
      ),
    );
    expect(quota).toBeInstanceOf(OpenAI.RateLimitError);
    expect(quota).toMatchObject({
      status: 429,
      code: 'insufficient_quota',
      type: 'insufficient_quota',
    });
    const headers = (quota as InstanceType<typeof OpenAI.RateLimitError>).headers;
    expect(headers.get('retry-after')).toBeNull();
    expect(headers.get('x-ratelimit-remaining-requests')).toBeNull();
  });

  it('a model past its announced end-of-life answers 404 like a name the API never had', async () => {
    const sonnet45 = MODELS.anthropic['claude-sonnet-4-5'];
    expect(sonnet45?.endOfLife).toBe('2026-11-30');
    expect(
      findModel('anthropic', 'claude-sonnet-4-5', new Date('2026-11-29T23:59:59Z')),
    ).toBeDefined();
    expect(
      findModel('anthropic', 'claude-sonnet-4-5', new Date('2026-11-30T00:00:00Z')),
    ).toBeUndefined();
    expect(
      findModel('anthropic', 'claude-sonnet-4-5-20250929', new Date('2026-12-01')),
    ).toBeUndefined();
    // Today (the machine's clock) is on or after that day.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const error = await failure(
      anthropic.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).finally(() => {
      warn.mockRestore();
    });
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('every model the emulator serves is in the product capability tables, and they agree', () => {
    for (const [alias, model] of Object.entries(MODELS.openai)) {
      for (const name of new Set([alias, model.snapshot])) {
        const capabilities = openAiCapabilities(name);
        expect({ name, capabilities: capabilities !== undefined }).toEqual({
          name,
          capabilities: true,
        });
        expect({ name, temperature: capabilities?.temperature }).toEqual({
          name,
          temperature: !model.reasoning,
        });
        expect({ name, max: capabilities?.maxOutputTokens }).toEqual({
          name,
          max: model.maxOutputTokens,
        });
        expect(OPENAI_RETIREMENTS[name]?.endOfLife).toBe(model.endOfLife);
      }
    }
    for (const [alias, model] of Object.entries(MODELS.anthropic)) {
      for (const name of new Set([alias, model.snapshot])) {
        expect({ name, max: anthropicCapabilities(name)?.maxOutputTokens }).toEqual({
          name,
          max: model.maxOutputTokens,
        });
        expect({ name, eol: ANTHROPIC_RETIREMENTS[name]?.endOfLife }).toEqual({
          name,
          eol: model.endOfLife,
        });
      }
    }
  });

  const productRequest = (model: string, maxOutputTokens = 4096): ProviderRequest => ({
    model,
    system: SYSTEM,
    documentText: INVOICE,
    documentCommitment: 'a'.repeat(64),
    schemaName: 'invoice',
    jsonSchema: INVOICE_SCHEMA,
    maxOutputTokens,
  });

  it.each(Object.keys(MODELS.openai))(
    "the product's OpenAI adapter calls %s without a 400: temperature only where accepted",
    async (model) => {
      const provider = new OpenAiProvider({
        apiKey: 'test',
        baseURL: `${emulator.url}/v1`,
        model,
        timeoutMs: 10_000,
      });
      const response = await provider.complete(productRequest(model));
      expect(response.truncated).toBe(false);
      expect(JSON.parse(response.outputText ?? '')).toEqual(EXPECTED_INVOICE);
      expect('temperature' in response.params).toBe(!MODELS.openai[model]?.reasoning);
      expect(response.params.max_completion_tokens).toBe(4096);
    },
  );

  it('the product adapters read a cut-short answer as truncated on both providers', async () => {
    const openAiProvider = new OpenAiProvider({
      apiKey: 'test',
      baseURL: `${emulator.url}/v1`,
      model: 'o4-mini',
      timeoutMs: 10_000,
    });
    const cut = await openAiProvider.complete(productRequest('o4-mini', 16));
    expect(cut).toMatchObject({ truncated: true, outputText: null, refusal: null });
    const anthropicProvider = new AnthropicProvider({
      apiKey: 'test',
      baseURL: emulator.url,
      model: 'claude-haiku-4-5',
      timeoutMs: 10_000,
    });
    const cutClaude = await anthropicProvider.complete(productRequest('claude-haiku-4-5', 16));
    expect(cutClaude).toMatchObject({ truncated: true, outputText: null, refusal: null });
  });
});
