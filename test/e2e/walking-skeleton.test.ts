/**
 * The thinnest real path through every layer, on the local stack: API key → encrypted original
 * in the bucket → Pub/Sub push → worker → LLM emulator through the openai SDK → result and
 * evidence in one commit → both readable back through the API.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import {
  ExtractionEvidenceRecordSchema,
  verifyContentHash,
} from '../../functions/src/evidence/record';
import { buildSystemPrompt } from '../../functions/src/extraction/prompt';
import { BUILT_IN_SCHEMAS } from '../../functions/src/extraction/schemas/built-in';
import {
  callApi,
  LOG_CANARY,
  loggedLines,
  stack,
  tenantKey,
  waitForTerminal,
  type ExtractionBody,
} from '../support/api';

const CANARY = LOG_CANARY;
const INVOICE = [
  'Vendor: Northwind Traders',
  'Invoice No: INV-2026-0042',
  'Invoice Date: 12.03.2026',
  'Due Date: 2026-04-11',
  'Currency: €',
  `Notes: ${CANARY}`,
  '',
  'Description | Qty | Unit Price | Amount',
  'Paper A4 | 10 | 4.50 | 45.00',
  'Toner | 1 | 75.00 | 75.00',
  '',
  'Subtotal: 120.00',
  'Tax: 24.00',
  'Total: 144.00',
].join('\n');

const acme = tenantKey(0);
const globex = tenantKey(1);
let extraction: ExtractionBody;

function logLines(): string {
  const logDir = path.join(path.dirname(process.env.PROVENANT_STACK_FILE ?? ''), 'logs');
  return readdirSync(logDir)
    .map((f) => readFileSync(path.join(logDir, f), 'utf8'))
    .join('\n');
}

beforeAll(async () => {
  const created = await callApi('/v1/extractions', {
    method: 'POST',
    key: acme.apiKey,
    body: { document: { contentType: 'text/plain', text: INVOICE }, schema: 'invoice' },
  });
  expect(created.status).toBe(202);
  const body = created.body as ExtractionBody;
  expect(body.status).toBe('queued');
  expect(created.headers.get('location')).toBe(`/v1/extractions/${body.id}`);
  extraction = await waitForTerminal(body.id, acme.apiKey);
}, 60_000);

describe('denials first', () => {
  it('refuses a request without credentials', async () => {
    const reply = await callApi(`/v1/extractions/${extraction.id}`);
    expect(reply.status).toBe(401);
    expect(reply.body).toMatchObject({ error: { code: 'missing_credentials' } });
  });

  it.each([
    ['malformed', 'not-a-key'],
    ['well-formed but unknown', `pvn_0123456789abcdef_${'A'.repeat(43)}`],
    ['right key id, wrong secret', `${acme.apiKey.slice(0, 21)}${'B'.repeat(43)}`],
  ])('refuses a %s API key with one indistinguishable 401', async (_, key) => {
    const reply = await callApi(`/v1/extractions/${extraction.id}`, { key });
    expect(reply.status).toBe(401);
    expect(reply.body).toMatchObject({
      error: { code: 'invalid_api_key', message: 'the API key is invalid, expired or revoked' },
    });
  });

  it("answers another tenant's extraction and evidence exactly like ids that never existed", async () => {
    const foreign = await callApi(`/v1/extractions/${extraction.id}`, { key: globex.apiKey });
    const missing = await callApi('/v1/extractions/ex_000000000000000000000000', {
      key: globex.apiKey,
    });
    expect(foreign.status).toBe(404);
    const strip = (b: unknown) => ({
      ...(b as { error: Record<string, unknown> }).error,
      requestId: undefined,
    });
    expect(strip(foreign.body)).toEqual(strip(missing.body));
    const foreignEvidence = await callApi(`/v1/evidence/${extraction.evidenceId ?? ''}`, {
      key: globex.apiKey,
    });
    expect(foreignEvidence.status).toBe(404);
    expect(strip(foreignEvidence.body)).toEqual({
      code: 'not_found',
      message: 'evidence not found',
      requestId: undefined,
    });
  });

  it.each([
    [
      'an unknown schema',
      { document: { contentType: 'text/plain', text: 'x' }, schema: 'passport' },
      400,
      'unknown_schema',
    ],
    [
      'an unsupported content type',
      { document: { contentType: 'application/x-msdownload', text: 'x' }, schema: 'invoice' },
      415,
      'unsupported_media_type',
    ],
    [
      'an empty document',
      { document: { contentType: 'text/plain', text: '' }, schema: 'invoice' },
      400,
      'empty_document',
    ],
    [
      'unknown fields',
      { document: { contentType: 'text/plain', text: 'x' }, schema: 'invoice', extra: 1 },
      400,
      'invalid_request',
    ],
    [
      'a document that is not an object',
      { document: 'x', schema: 'invoice' },
      400,
      'invalid_request',
    ],
  ])('rejects %s with a typed error', async (_, body, status, code) => {
    const reply = await callApi('/v1/extractions', { method: 'POST', key: acme.apiKey, body });
    expect(reply.status).toBe(status);
    expect(reply.body).toMatchObject({ error: { code, requestId: expect.any(String) as string } });
  });

  it('never writes a document, key or object for a rejected request', async () => {
    const db = new Firestore({ projectId: stack().projectId });
    const before = (await db.collection('tenants/acme/extractions').count().get()).data().count;
    await callApi('/v1/extractions', {
      method: 'POST',
      key: acme.apiKey,
      body: { document: { contentType: 'image/gif', text: 'x' }, schema: 'invoice' },
    });
    const after = (await db.collection('tenants/acme/extractions').count().get()).data().count;
    await db.terminate();
    expect(after).toBe(before);
  });
});

describe('a successful extraction', () => {
  it('returns grounded, normalized fields and the exact model snapshot', () => {
    expect(extraction.status).toBe('succeeded');
    expect(extraction.model).toEqual({
      provider: 'openai',
      model: 'gpt-4o-mini',
      modelVersion: 'gpt-4o-mini-2024-07-18',
    });
    const fields = extraction.result?.fields ?? {};
    expect(fields.invoiceNumber?.value).toBe('INV-2026-0042');
    expect(fields.invoiceDate?.value).toBe('2026-03-12');
    expect(fields.currency?.value).toBe('EUR');
    expect(fields.total?.value).toBe('144.00');
    const source = fields.vendorName?.source;
    expect(source && INVOICE.slice(source.start, source.end)).toBe('Northwind Traders');
    expect(extraction.result?.issues).toEqual([]);
  });

  it('has an evidence record whose hash covers its content and names the prompt', async () => {
    const reply = await callApi(`/v1/evidence/${extraction.evidenceId ?? ''}`, {
      key: acme.apiKey,
    });
    expect(reply.status).toBe(200);
    const record = ExtractionEvidenceRecordSchema.parse(reply.body);
    expect(verifyContentHash(record)).toBe(true);
    expect(
      verifyContentHash({ ...record, model: { ...record.model, modelVersion: 'forged' } }),
    ).toBe(false);
    expect(record.extractionId).toBe(extraction.id);
    expect(record.model.systemPromptSha256).toBe(
      buildSystemPrompt(BUILT_IN_SCHEMAS.invoice).systemSha256,
    );
    expect(record.model.providerSettings).toEqual({ store: false });
    expect(record.postProcessing.map((s) => `${s.step}@${String(s.version)}`)).toEqual([
      'parse-output@1',
      'ground-quotes@3',
      'normalize-amounts@2',
      'normalize-dates@2',
      'reconcile-totals@1',
    ]);
    expect(record.request.bytes).toBe(Buffer.byteLength(INVOICE));
    expect(record.response.attempts).toHaveLength(1);
  });

  it('stores the original and the raw response only as ciphertext', async () => {
    const reply = await callApi(`/v1/evidence/${extraction.evidenceId ?? ''}`, {
      key: acme.apiKey,
    });
    const record = ExtractionEvidenceRecordSchema.parse(reply.body);
    const storage = new Storage({
      apiEndpoint: `http://${stack().emulators.storage}`,
      projectId: stack().projectId,
    });
    // The original in the chunked format, the raw response in the single-shot one.
    for (const [ref, format] of [
      [record.request.ciphertextRef, 'PVN2'],
      [record.response.ciphertextRef, 'PVN1'],
    ] as const) {
      const [, bucket, name] = /^gs:\/\/([^/]+)\/(.+)$/.exec(ref) ?? [];
      const [bytes] = await storage
        .bucket(bucket ?? '')
        .file(name ?? '')
        .download();
      expect(bytes.subarray(0, 4).toString()).toBe(format);
      expect(bytes.includes(Buffer.from('Northwind'))).toBe(false);
      expect(bytes.includes(Buffer.from(CANARY))).toBe(false);
    }
  });

  it('stays one result with one evidence record when the message is delivered again', async () => {
    const pubsub = new PubSub({ projectId: stack().projectId });
    await pubsub
      .topic(stack().resources.extractionTopic)
      .publishMessage({ json: { tenantId: 'acme', extractionId: extraction.id } });
    await pubsub
      .topic(stack().resources.extractionTopic)
      .publishMessage({ json: { tenantId: 'acme', extractionId: extraction.id } });
    await pubsub.close();
    // Both deliveries found it finished (the log line precedes anything else they do for it).
    await loggedLines(
      'extractWorker',
      (l) =>
        l.event === 'extraction_redelivered' &&
        l.extractionId === extraction.id &&
        l.status === 'succeeded',
      2,
    );
    const db = new Firestore({ projectId: stack().projectId });
    const evidence = await db
      .collection('tenants/acme/evidence')
      .where('extractionId', '==', extraction.id)
      .get();
    await db.terminate();
    expect(evidence.size).toBe(1);
    const again = await callApi(`/v1/extractions/${extraction.id}`, { key: acme.apiKey });
    expect((again.body as ExtractionBody).evidenceId).toBe(extraction.evidenceId);
  });

  it('never writes document content to any log', () => {
    const logs = logLines();
    expect(logs).toContain(extraction.id);
    expect(logs).not.toContain(CANARY);
    expect(logs).not.toContain('Northwind');
  });
});
