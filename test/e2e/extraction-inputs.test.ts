/**
 * Every way a document can arrive, end to end on the local stack: text, a PDF's text layer, a
 * PNG and a JPEG as image input (the LLM emulator reads their metadata text), multipart
 * uploads, idempotent retries, cursor pagination and tenant-defined schemas.
 */
import { randomBytes } from 'node:crypto';
import { FieldPath, Firestore } from '@google-cloud/firestore';
import { parseConfig } from '../../functions/src/config';
import { ExtractionEvidenceRecordSchema } from '../../functions/src/evidence/record';
import { createServices, type Services } from '../../functions/src/services';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { makeJpeg, makePdf, makePng } from '../fixtures/documents';
import {
  callApi,
  stack,
  waitForTerminal,
  withCanary,
  type ApiReply,
  type ExtractionBody,
} from '../support/api';

const INVOICE_LINES = [
  'Vendor: Northwind Traders',
  'Invoice No: INV-2026-0042',
  'Invoice Date: 12.03.2026',
  'Currency: EUR',
  'Subtotal: 120.00',
  'Tax: 24.00',
  'Total: 144.00',
];
const INVOICE = withCanary(INVOICE_LINES.join('\n'));

let services: Services;
let db: Firestore;
let tenantId: string;
let key: string;

beforeAll(async () => {
  services = createServices(parseConfig());
  db = new Firestore({ projectId: stack().projectId });
  tenantId = `inputs-${randomBytes(4).toString('hex')}`;
  key = (await onboardTenant(services, { tenantId, name: 'extraction inputs' })).apiKey.token;
}, 60_000);

afterAll(async () => {
  await db.terminate();
  await services.close();
});

/**
 * Data keys of documents (`document-<id>`): the worker adds response and result keys for
 * accepted extractions in the background, which say nothing about a rejected request.
 */
async function documentKeys(): Promise<number> {
  const snapshot = await db
    .collection(`tenants/${tenantId}/dataKeys`)
    .where(FieldPath.documentId(), '>=', 'document-')
    .where(FieldPath.documentId(), '<', 'document.')
    .count()
    .get();
  return snapshot.data().count;
}

async function counts(): Promise<{ extractions: number; dataKeys: number; keys: number }> {
  const count = async (c: string) =>
    (await db.collection(`tenants/${tenantId}/${c}`).count().get()).data().count;
  return {
    extractions: await count('extractions'),
    dataKeys: await documentKeys(),
    keys: await count('idempotencyKeys'),
  };
}

function submit(body: unknown, headers: Record<string, string> = {}): Promise<ApiReply> {
  return callApi('/v1/extractions', { method: 'POST', key, body, headers });
}

function binary(contentType: string, bytes: Buffer, schema = 'invoice') {
  return { document: { contentType, data: bytes.toString('base64') }, schema };
}

async function extracted(reply: ApiReply): Promise<ExtractionBody> {
  expect(reply.status).toBe(202);
  return waitForTerminal((reply.body as ExtractionBody).id, key);
}

function multipart(
  parts: { name: string; value: Buffer | string; filename?: string; type?: string }[],
) {
  const boundary = `----provenant${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}`;
    const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ''}\r\n`;
    chunks.push(Buffer.from(head, 'latin1'), Buffer.from(part.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function postRaw(body: Buffer, contentType: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack().apiUrl}/v1/extractions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': contentType, ...headers },
    body,
  });
  return { status: response.status, body: await response.json() };
}

describe('document types', () => {
  it('extracts from text', async () => {
    const done = await extracted(
      await submit({ document: { contentType: 'text/plain', text: INVOICE }, schema: 'invoice' }),
    );
    expect(done.status).toBe('succeeded');
    expect(done.result?.fields.invoiceNumber?.value).toBe('INV-2026-0042');
  }, 60_000);

  it("extracts from a PDF's text layer and grounds quotes in it", async () => {
    const pdf = makePdf([INVOICE_LINES.slice(0, 4), [...INVOICE_LINES.slice(4), withCanary('')]]);
    const done = await extracted(await submit(binary('application/pdf', pdf)));
    expect(done.status).toBe('succeeded');
    const fields = done.result?.fields ?? {};
    expect(fields.invoiceNumber).toMatchObject({ value: 'INV-2026-0042', grounded: true });
    expect(fields.total).toMatchObject({ value: '144.00', grounded: true });
    // Issue 18 "PDF fields name their page": the invoice number is on page 1, the total on 2.
    expect(fields.invoiceNumber?.source).toMatchObject({ page: 1 });
    expect(fields.total?.source).toMatchObject({ page: 2 });
    const evidence = await callApi(`/v1/evidence/${done.evidenceId ?? ''}`, { key });
    const record = ExtractionEvidenceRecordSchema.parse(evidence.body);
    expect(record.request).toMatchObject({ contentType: 'application/pdf', bytes: pdf.length });
  }, 60_000);

  it.each([
    ['PNG (tEXt Description chunk)', 'image/png', makePng(INVOICE)],
    ['JPEG (COM segment)', 'image/jpeg', makeJpeg(INVOICE)],
  ])(
    'sends a %s to the model as image input',
    async (_, type, bytes) => {
      const done = await extracted(await submit(binary(type, bytes)));
      expect(done.status).toBe('succeeded');
      const fields = done.result?.fields ?? {};
      // Read from the image by the model; there is no text to point the quote at.
      expect(fields.invoiceNumber).toMatchObject({ value: 'INV-2026-0042', grounded: false });
      expect(fields.total?.value).toBe('144.00');
    },
    60_000,
  );

  it('accepts a multipart upload with the type from the part or sniffed from the bytes', async () => {
    const pdf = makePdf([[...INVOICE_LINES, withCanary('')]]);
    for (const type of ['application/pdf', 'application/octet-stream']) {
      const form = multipart([
        { name: 'file', value: pdf, filename: 'invoice.pdf', type },
        { name: 'schema', value: 'invoice' },
        { name: 'metadata', value: JSON.stringify({ ref: 'po-7' }) },
      ]);
      const reply = await postRaw(form.body, form.contentType);
      expect(reply.status).toBe(202);
      const done = await waitForTerminal((reply.body as ExtractionBody).id, key);
      expect(done.status).toBe('succeeded');
      expect(done.result?.fields.invoiceNumber?.value).toBe('INV-2026-0042');
      expect((done as ExtractionBody & { metadata?: unknown }).metadata).toEqual({ ref: 'po-7' });
    }
  }, 60_000);
});

describe('rejections leave nothing behind', () => {
  const textPdf = makePdf([[withCanary('Total: 1.00')]]);
  it.each([
    [
      'a PDF without a text layer',
      binary('application/pdf', makePdf([[]])),
      422,
      'document_unreadable',
    ],
    [
      'a PNG declared as JPEG',
      binary('image/jpeg', makePng(INVOICE)),
      422,
      'content_type_mismatch',
    ],
    ['a PDF declared as text', binary('text/plain', textPdf), 422, 'content_type_mismatch'],
    [
      'text declared as PNG',
      binary('image/png', Buffer.from(INVOICE)),
      422,
      'content_type_mismatch',
    ],
    ['an unknown type', binary('image/gif', Buffer.from(INVOICE)), 415, 'unsupported_media_type'],
    ['an unknown schema', binary('application/pdf', textPdf, 'passport'), 400, 'unknown_schema'],
    [
      'a plain-http webhook',
      { ...binary('application/pdf', textPdf), webhookUrl: 'http://example.com/hook' },
      400,
      'invalid_request',
    ],
    [
      'a webhook that was never registered',
      { ...binary('application/pdf', textPdf), webhookUrl: 'https://unregistered.example/hook' },
      422,
      'webhook_not_registered',
    ],
  ])('refuses %s', async (_, body, status, code) => {
    const before = await counts();
    const reply = await submit(body);
    expect(reply.status).toBe(status);
    expect(reply.body).toMatchObject({ error: { code, requestId: expect.any(String) as string } });
    expect(await counts()).toEqual(before);
  });

  it('refuses a document over MAX_DOCUMENT_BYTES with 413', async () => {
    const limit = parseConfig().MAX_DOCUMENT_BYTES;
    const before = await counts();
    const reply = await submit({
      document: { contentType: 'text/plain', text: withCanary('x'.repeat(limit)) },
      schema: 'invoice',
    });
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ error: { code: 'payload_too_large' } });
    expect(await counts()).toEqual(before);
  }, 60_000);

  it.each([
    ['no file part', [{ name: 'schema', value: 'invoice' }], 'invalid_request'],
    [
      'an unknown field',
      [
        { name: 'file', value: Buffer.from(INVOICE), type: 'text/plain' },
        { name: 'schema', value: 'invoice' },
        { name: 'colour', value: 'red' },
      ],
      'invalid_request',
    ],
  ])('refuses a multipart upload with %s', async (_, parts, code) => {
    const before = await counts();
    const form = multipart(parts);
    const reply = await postRaw(form.body, form.contentType);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: { code } });
    expect(await counts()).toEqual(before);
  });

  it('refuses a truncated multipart body', async () => {
    const form = multipart([{ name: 'file', value: Buffer.from(INVOICE), type: 'text/plain' }]);
    const reply = await postRaw(form.body.subarray(0, form.body.length - 20), form.contentType);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: { code: 'invalid_multipart' } });
  });
});

describe('Idempotency-Key', () => {
  it('replays the original for the same body and refuses a different one', async () => {
    const idem = `order-${randomBytes(6).toString('hex')}`;
    const body = { document: { contentType: 'text/plain', text: INVOICE }, schema: 'invoice' };
    const first = await submit(body, { 'Idempotency-Key': idem });
    expect(first.status).toBe(202);
    const id = (first.body as ExtractionBody).id;
    const before = await counts();

    // Same request, other key order: the same extraction, 200, nothing new written.
    const again = await submit(
      { schema: 'invoice', document: { text: INVOICE, contentType: 'text/plain' } },
      { 'Idempotency-Key': idem },
    );
    expect(again.status).toBe(200);
    expect((again.body as ExtractionBody).id).toBe(id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    const other = await submit(
      { ...body, document: { contentType: 'text/plain', text: `${INVOICE}\nchanged` } },
      { 'Idempotency-Key': idem },
    );
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ error: { code: 'idempotency_conflict' } });
    expect(await counts()).toEqual(before);

    const stored = await db
      .collection(`tenants/${tenantId}/idempotencyKeys`)
      .where('extractionId', '==', id)
      .get();
    expect(stored.size).toBe(1);
    expect(stored.docs[0]?.id).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.docs[0]?.id).not.toContain(idem);
  }, 60_000);

  it('gives concurrent retries with one key one extraction', async () => {
    const idem = `race-${randomBytes(6).toString('hex')}`;
    const body = { document: { contentType: 'text/plain', text: INVOICE }, schema: 'invoice' };
    const replies = await Promise.all(
      Array.from({ length: 4 }, () => submit(body, { 'Idempotency-Key': idem })),
    );
    const ids = new Set(replies.map((r) => (r.body as ExtractionBody).id));
    expect(ids.size).toBe(1);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 202]);
  }, 60_000);

  it.each([['x'.repeat(129)], ['has space']])('refuses the key %j', async (idem) => {
    const before = await counts();
    const reply = await submit(
      { document: { contentType: 'text/plain', text: INVOICE }, schema: 'invoice' },
      { 'Idempotency-Key': idem },
    );
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: { code: 'invalid_idempotency_key' } });
    expect(await counts()).toEqual(before);
  });
});

describe('listing', () => {
  let listTenantKey: string;
  const created: string[] = [];
  let startedAt: string;

  beforeAll(async () => {
    const id = `list-${randomBytes(4).toString('hex')}`;
    listTenantKey = (await onboardTenant(services, { tenantId: id, name: 'listing' })).apiKey.token;
    startedAt = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 25; i++) {
      const reply = await callApi('/v1/extractions', {
        method: 'POST',
        key: listTenantKey,
        body: {
          document: { contentType: 'text/plain', text: withCanary(`Invoice No: L-${String(i)}`) },
          schema: 'invoice',
        },
      });
      expect(reply.status).toBe(202);
      created.push((reply.body as ExtractionBody).id);
    }
  }, 120_000);

  async function page(
    query: string,
  ): Promise<{ data: ExtractionBody[]; nextPageToken: string | null }> {
    const reply = await callApi(`/v1/extractions?${query}`, { key: listTenantKey });
    expect(reply.status).toBe(200);
    return reply.body as { data: ExtractionBody[]; nextPageToken: string | null };
  }

  it('pages through all 25, newest first, without repeats or gaps', async () => {
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const query = `limit=10${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`;
      const result = await page(query);
      seen.push(...result.data.map((e) => e.id));
      token = result.nextPageToken;
      pages += 1;
    } while (token !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(25);
    expect(new Set(seen)).toEqual(new Set(created));
    // Submitted one after another: the listing is the reverse of the submission order.
    expect(seen).toEqual([...created].reverse());
  });

  it('filters by createdAfter and status', async () => {
    expect((await page(`createdAfter=${startedAt}&limit=100`)).data).toHaveLength(25);
    expect(
      (await page(`createdAfter=${new Date(Date.now() + 60_000).toISOString()}`)).data,
    ).toEqual([]);
    await waitForTerminal(created[0] ?? '', listTenantKey);
    const succeeded = await page('status=succeeded&limit=100');
    expect(succeeded.data.length).toBeGreaterThan(0);
    expect(succeeded.data.every((e) => e.status === 'succeeded')).toBe(true);
  }, 60_000);

  it('refuses a tampered token, a token for another query and bad parameters', async () => {
    const { nextPageToken } = await page('limit=5');
    const token = nextPageToken ?? '';
    const [payload = '', mac = ''] = token.split('.');
    const cursor = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
      string,
      string
    >;
    const forged = `${Buffer.from(JSON.stringify({ ...cursor, i: created[0] })).toString('base64url')}.${mac}`;
    for (const query of [
      `pageToken=${forged}`,
      `pageToken=${token.slice(0, -2)}`,
      'pageToken=bm90LWEtdG9rZW4',
      `pageToken=${token}&status=failed`,
      'limit=0',
      'limit=101',
      'status=done',
      'createdAfter=yesterday',
    ]) {
      const reply = await callApi(`/v1/extractions?${query}`, { key: listTenantKey });
      expect([query, reply.status]).toEqual([query, 400]);
    }
    // The untampered token still works.
    expect((await page(`limit=5&pageToken=${token}`)).data).toHaveLength(5);
  });

  it("never lists another tenant's extractions", async () => {
    const theirs = await callApi('/v1/extractions?limit=100', { key });
    const ids = (theirs.body as { data: ExtractionBody[] }).data.map((e) => e.id);
    expect(ids.some((id) => created.includes(id))).toBe(false);
  });
});

describe('custom schemas', () => {
  const name = `contract-${randomBytes(3).toString('hex')}`;
  const jsonSchema = {
    type: 'object',
    properties: {
      supplierName: { type: 'string', description: 'Labels: Supplier Name' },
      contractValue: { type: ['number', 'null'] },
      renewal: { type: 'string', enum: ['auto', 'manual'] },
    },
    required: ['supplierName', 'contractValue', 'renewal'],
    additionalProperties: false,
  };

  it('registers a schema in the subset and reads it back in order', async () => {
    const reply = await callApi('/v1/schemas', {
      method: 'POST',
      key,
      body: { name, description: 'Supply contracts', jsonSchema },
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ name, version: 1, builtIn: false, jsonSchema });
    const one = await callApi(`/v1/schemas/${name}`, { key });
    expect(
      Object.keys((one.body as { jsonSchema: typeof jsonSchema }).jsonSchema.properties),
    ).toEqual(['supplierName', 'contractValue', 'renewal']);
    const all = await callApi('/v1/schemas', { key });
    const names = (all.body as { data: { name: string }[] }).data.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['invoice', 'receipt', name]));
  });

  it.each([
    [
      'a $ref',
      { ...jsonSchema, properties: { a: { $ref: '#/x' } }, required: ['a'] },
      ['/properties/a/$ref', '/properties/a/type'],
    ],
    [
      'a pattern and a format',
      {
        ...jsonSchema,
        properties: { a: { type: 'string', pattern: 'x', format: 'email' } },
        required: ['a'],
      },
      ['/properties/a/pattern', '/properties/a/format'],
    ],
    ['oneOf at the root', { ...jsonSchema, oneOf: [] }, ['/oneOf']],
    ['optional properties', { ...jsonSchema, required: ['supplierName'] }, ['/required']],
  ])('refuses %s with 422 unsupported_schema naming each path', async (_, schema, paths) => {
    const reply = await callApi('/v1/schemas', {
      method: 'POST',
      key,
      body: { name: `bad-${randomBytes(3).toString('hex')}`, jsonSchema: schema },
    });
    expect(reply.status).toBe(422);
    const error = (reply.body as { error: { code: string; details: { path: string }[] } }).error;
    expect(error.code).toBe('unsupported_schema');
    expect(error.details.map((d) => d.path)).toEqual(paths);
  });

  it('refuses a taken name and a built-in name', async () => {
    for (const taken of [name, 'invoice']) {
      const reply = await callApi('/v1/schemas', {
        method: 'POST',
        key,
        body: { name: taken, jsonSchema },
      });
      expect(reply.status).toBe(409);
      expect(reply.body).toMatchObject({ error: { code: 'schema_exists' } });
    }
  });

  it("is the tenant's own", async () => {
    const other = await onboardTenant(services, {
      tenantId: `other-${randomBytes(4).toString('hex')}`,
      name: 'other',
    });
    const reply = await callApi(`/v1/schemas/${name}`, { key: other.apiKey.token });
    expect(reply.status).toBe(404);
    const submitted = await callApi('/v1/extractions', {
      method: 'POST',
      key: other.apiKey.token,
      body: { document: { contentType: 'text/plain', text: INVOICE }, schema: name },
    });
    expect(submitted.status).toBe(400);
    expect(submitted.body).toMatchObject({ error: { code: 'unknown_schema' } });
  });

  it('extracts the schema as given, validated against it', async () => {
    const text = withCanary(
      ['Supplier Name: Contoso Metals', 'Contract Value: 5000.00', 'Renewal: manual'].join('\n'),
    );
    const done = await extracted(
      await submit({ document: { contentType: 'text/plain', text }, schema: name }),
    );
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({
      data: { supplierName: 'Contoso Metals', contractValue: 5000, renewal: 'manual' },
      fields: {
        '/supplierName': { value: 'Contoso Metals', grounded: true },
        '/contractValue': { value: 5000, source: { text: '5000.00' }, grounded: true },
        '/renewal': { value: 'manual', grounded: true },
      },
      issues: [],
    });
    const evidence = await callApi(`/v1/evidence/${done.evidenceId ?? ''}`, { key });
    const record = ExtractionEvidenceRecordSchema.parse(evidence.body);
    expect(record.postProcessing.map((s) => s.step)).toEqual([
      'parse-output',
      'ground-quotes',
      'normalize-amounts',
      'normalize-dates',
    ]);
    expect(record.output).toMatchObject({ schema: name, schemaVersion: 1 });
  }, 60_000);
});

describe('OpenAPI', () => {
  it('serves the document without credentials', async () => {
    const reply = await callApi('/v1/openapi.json');
    expect(reply.status).toBe(200);
    const doc = reply.body as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/extractions', '/v1/extractions/{id}', '/v1/schemas']),
    );
  });
});
