/**
 * The product's model calls (`callModels`, the production adapters, the real post-processing)
 * against the in-process LLM emulator, with no other part of the stack: truncation, quota and
 * reasoning models as the real APIs have them. The whole pipeline is covered over the wire by
 * test/e2e/pipeline-providers.test.ts.
 */
import { parseConfig } from '../../functions/src/config';
import {
  callModels,
  TerminalExtractionError,
  type ModelRequest,
} from '../../functions/src/extraction/model-calls';
import { runSteps } from '../../functions/src/extraction/postprocess/registry';
import { buildSystemPrompt } from '../../functions/src/extraction/prompt';
import { getSchema } from '../../functions/src/extraction/schemas/built-in';
import { createProviders } from '../../functions/src/providers/registry';
import type { Services } from '../../functions/src/services';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import { startLlmEmulator } from '../../scripts/local/emulators/llm/server';
import type { RunningEmulator } from '../../scripts/local/emulators/running';

let emulator: RunningEmulator;
let services: Services;

beforeAll(async () => {
  emulator = await startLlmEmulator({ port: 0 });
  const config = parseConfig({
    GOOGLE_CLOUD_PROJECT: 'demo-provenant',
    DOCUMENTS_BUCKET: 'demo-documents',
    AUDIT_BUCKET: 'demo-audit',
    KMS_KEY_RING: 'projects/demo-provenant/locations/us-central1/keyRings/provenant',
    SEALING_KEY_VERSION:
      'projects/demo-provenant/locations/us-central1/keyRings/provenant/cryptoKeys/s/cryptoKeyVersions/1',
    API_KEY_PEPPER: 'p'.repeat(32),
    OPENAI_API_KEY: 'local-emulator',
    ANTHROPIC_API_KEY: 'local-emulator',
    OPENAI_BASE_URL: `${emulator.url}/v1`,
    ANTHROPIC_BASE_URL: emulator.url,
    LLM_RETRY_BASE_MS: '1',
    LLM_RETRY_MAX_BACKOFF_MS: '2',
  });
  // callModels reads only the config and the providers of the instance's services.
  services = { config, providers: createProviders(config) } as unknown as Services;
});

afterAll(async () => {
  await emulator.close();
});

const invoiceSchema = getSchema('invoice');
if (!invoiceSchema) throw new Error('the invoice schema is built in');
const schema = invoiceSchema;

function tenant(providers: Partial<TenantProfile['providers']>): TenantProfile {
  return {
    providers: { primary: 'openai', fallback: null, ...providers },
  } as unknown as TenantProfile;
}

function request(text: string): ModelRequest {
  return {
    system: buildSystemPrompt(schema).system,
    documentText: text,
    documentCommitment: 'c'.repeat(64),
    schemaName: schema.name,
    jsonSchema: schema.jsonSchema,
  };
}

const postprocess = (text: string) => (raw: string) =>
  runSteps(raw, { documentText: text, schema, settings: {} }, (b) => b.slice(0, 64), schema.steps);

function longInvoice(marker: string, lines: number): string {
  return [
    'Vendor: Long Lines Ltd',
    `Invoice No: ${marker}`,
    'Invoice Date: 2026-02-01',
    '',
    '| Description | Qty | Unit Price | Amount |',
    '|---|---|---|---|',
    ...Array.from(
      { length: lines },
      (_, i) => `| Widget ${String(i + 1).padStart(4, '0')} | 1 | 1.00 | 1.00 |`,
    ),
    '',
    `Total: ${String(lines)}.00`,
  ].join('\n');
}

const ids = { tenantId: 't', extractionId: 'ex' };

async function failure(promise: Promise<unknown>): Promise<TerminalExtractionError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof TerminalExtractionError)) throw new Error('expected a terminal failure');
  return err;
}

it.each(['openai', 'anthropic'] as const)(
  'truncation on %s: typed truncated, then one retry at four times the budget',
  async (provider) => {
    const text = longInvoice(`m-${provider}-1`, 200);
    const done = await callModels(
      services,
      tenant({ primary: provider }),
      request(text),
      postprocess(text),
      ids,
    );
    expect(done.attempts.map((a) => [a.outcome, a.maxOutputTokens])).toEqual([
      ['truncated', 4096],
      ['ok', 16_384],
    ]);
    expect(done.attempts[0]?.requestSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(done.attempts[0]?.requestSha256).not.toBe(done.attempts[1]?.requestSha256);
  },
);

it.each(['openai', 'anthropic'] as const)(
  'truncation on %s past the larger budget ends failed as output_truncated, every attempt typed',
  async (provider) => {
    const text = longInvoice(`m-${provider}-2`, 500);
    const err = await failure(
      callModels(services, tenant({ primary: provider }), request(text), postprocess(text), ids),
    );
    expect(err.code).toBe('output_truncated');
    expect(err.attempts.map((a) => a.outcome)).toEqual(['truncated', 'truncated']);
  },
);

it('insufficient_quota is not retried: the fallback is called at once', async () => {
  const text = 'Vendor: Quota Ltd\nInvoice No: q-1\nTotal: 5.00';
  await fetch(`${emulator.url}/admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fault: 'insufficient_quota', times: 1, match: 'q-1' }),
  });
  const done = await callModels(
    services,
    tenant({ primary: 'openai', fallback: 'anthropic' }),
    request(text),
    postprocess(text),
    ids,
  );
  expect(done.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual([
    'openai:quota_exhausted',
    'anthropic:ok',
  ]);
});

it('a reasoning model gets no temperature: the emulator would answer 400 unsupported_value', async () => {
  const text = 'Vendor: Reason Ltd\nInvoice No: r-1\nTotal: 5.00';
  const done = await callModels(
    services,
    tenant({ primary: 'openai', models: { openai: 'gpt-5' } }),
    request(text),
    postprocess(text),
    ids,
  );
  expect(done.response.params).toEqual({ max_completion_tokens: 4096 });
  expect(done.response.modelVersion).toBe('gpt-5-2025-08-07');
});

it("a tenant's retired model is never called: typed error, then the fallback", async () => {
  const text = 'Vendor: Old Ltd\nInvoice No: o-1\nTotal: 5.00';
  const done = await callModels(
    services,
    tenant({
      primary: 'anthropic',
      fallback: 'openai',
      models: { anthropic: 'claude-sonnet-4-5' },
    }),
    request(text),
    postprocess(text),
    ids,
  );
  expect(done.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual([
    'anthropic:error',
    'openai:ok',
  ]);
  expect(done.attempts[0]?.providerRequestId).toBeNull();
});
