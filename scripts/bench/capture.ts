/**
 * CPU of evidence capture for one typical invoice, against the bare minimum a system that kept
 * no evidence would still do with the same bytes (serialise the record with JSON.stringify and
 * hash what it handled with one SHA-256 each), measured in the same run:
 * - the original: its HMAC commitment and its chunked AES-256-GCM envelope (extraction/submit.ts);
 * - the raw model response: its single-shot envelope and commitment (extraction/pipeline.ts);
 * - the output's commitment, and the evidence record's zod check, RFC 8785 canonical JSON and
 *   content hash (ledger/evidence-writer.ts `evidenceDocument`).
 * Network calls (KMS, Storage, Firestore) are not CPU of ours and are left out; the end-to-end
 * benchmark (e2e.ts) measures them in place.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sealLarge } from '../../functions/src/crypto/chunked';
import { commitment, objectAad, sealBytes } from '../../functions/src/crypto/envelope';
import { sha256Hex } from '../../functions/src/evidence/canonical';
import type { ExtractionEvidenceBody } from '../../functions/src/evidence/record';
import { evidenceDocument } from '../../functions/src/ledger/evidence-writer';
import type { BenchEntry } from './entries';

type Progress = (line: string) => void;

/** The structured result of the fixture invoice, as the invoice schema shapes it. */
function invoiceResult(): Record<string, unknown> {
  const grounded = (value: unknown, quote: string) => ({ value, quote, confidence: 0.97 });
  return {
    vendor: grounded('ACME Industrial Supplies GmbH', 'Vendor: ACME Industrial Supplies GmbH'),
    invoiceNumber: grounded('INV-2024-0042', 'Invoice No.: INV-2024-0042'),
    invoiceDate: grounded('2024-03-15', 'Invoice Date: 2024-03-15'),
    dueDate: grounded('2024-04-14', 'Due Date: 2024-04-14'),
    currency: grounded('EUR', 'Currency: EUR'),
    lineItems: [
      { description: 'Steel bolts M8, box of 100', quantity: 12, unitPrice: 18.5, amount: 222 },
      { description: 'Hydraulic pump HP-200', quantity: 1, unitPrice: 1249, amount: 1249 },
      { description: 'Installation service (hours)', quantity: 3.5, unitPrice: 85, amount: 297.5 },
    ],
    subtotal: grounded(1768.5, 'Subtotal: 1.768,50'),
    tax: grounded(336.02, 'VAT (19%): 336,02'),
    total: grounded(2104.52, 'Total Due: € 2.104,52'),
    issues: [],
  };
}

function evidenceBody(
  document: Buffer,
  raw: string,
  output: string,
  commit: (b: Buffer | string) => string,
): ExtractionEvidenceBody {
  const h = (s: string) => sha256Hex(s);
  return {
    id: 'ev_ex_0123456789abcdef01234567',
    tenantId: 'acme',
    extractionId: 'ex_0123456789abcdef01234567',
    kind: 'extraction',
    request: {
      payloadSha256: commit(document),
      contentType: 'text/plain',
      bytes: document.length,
      ciphertextRef:
        'gs://demo-provenant-documents/tenants/acme/documents/ex_0123456789abcdef01234567',
    },
    model: {
      provider: 'openai',
      model: 'gpt-4o-mini',
      modelVersion: 'gpt-4o-mini-2024-07-18',
      systemPromptSha256: h('system prompt'),
      promptTemplateVersion: 'invoice@1',
      params: { temperature: 0, max_tokens: 2048, seed: null },
      providerSettings: { store: false },
    },
    response: {
      rawSha256: commit(raw),
      ciphertextRef:
        'gs://demo-provenant-documents/tenants/acme/responses/ex_0123456789abcdef01234567/0a1b2c3d4e5f',
      usage: { inputTokens: 1200, outputTokens: 340 },
      latencyMs: 2350,
      attempts: [
        {
          provider: 'openai',
          model: 'gpt-4o-mini',
          outcome: 'ok',
          latencyMs: 2350,
          providerRequestId: 'req_0123456789',
        },
      ],
    },
    postProcessing: ['parse-output', 'ground-quotes', 'normalize-amounts'].map((step, i) => ({
      step,
      version: 1,
      inputSha256: commit(`${raw}${String(i)}`),
      outputSha256: commit(`${output}${String(i)}`),
    })),
    output: { sha256: commit(output), schema: 'invoice', schemaVersion: 1 },
    actor: { kind: 'apiKey', id: 'abcdef0123456789' },
    subprocessors: ['openai', 'google-cloud'],
  };
}

/** Best (smallest) wall time in ms of `rounds` runs of `fn`. */
function best(rounds: number, fn: () => void): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    fn();
    min = Math.min(min, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return min;
}

export function captureBench(progress: Progress, reps = 2_000): BenchEntry[] {
  progress('capture: evidence of one typical invoice');
  const document = readFileSync(
    path.join(process.cwd(), 'test', 'fixtures', 'documents', 'invoice-acme.txt'),
  );
  const result = invoiceResult();
  const output = JSON.stringify(result);
  // The raw response as an OpenAI chat completion carries it: the result as a JSON string.
  const raw = JSON.stringify({
    id: 'chatcmpl-0123456789',
    object: 'chat.completion',
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: output }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1200, completion_tokens: 340, total_tokens: 1540 },
  });
  const documentKey = { key: randomBytes(32), commitmentSecret: randomBytes(32) };
  const responseKey = { key: randomBytes(32), commitmentSecret: randomBytes(32) };
  const aad = (kind: 'document' | 'response') =>
    objectAad('acme', { kind, id: 'ex_0123456789abcdef01234567' });

  const ours = best(5, () => {
    for (let i = 0; i < reps; i++) {
      const commit = (b: Buffer | string) => commitment(documentKey.commitmentSecret, b);
      sealLarge(documentKey.key, aad('document'), document);
      sealBytes(responseKey.key, aad('response'), Buffer.from(raw));
      commitment(responseKey.commitmentSecret, raw);
      evidenceDocument(evidenceBody(document, raw, output, commit));
    }
  });
  const plainCommit = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  const raw1 = best(5, () => {
    for (let i = 0; i < reps; i++) {
      const body = evidenceBody(document, raw, output, plainCommit);
      createHash('sha256').update(JSON.stringify(body)).digest();
    }
  });
  const perRequest = ours / reps;
  const baseline = raw1 / reps;
  return [
    {
      name: 'evidence_capture_ms_per_request',
      value: perRequest,
      unit: 'ms',
      baseline,
      ratio: baseline / perRequest,
      detail: `envelopes, commitments, zod and canonical JSON of one ${String(document.length)}-byte invoice on one core; JSON.stringify + SHA-256 of the same bytes: ${baseline.toFixed(3)} ms (goal < 1 ms)`,
    },
  ];
}
