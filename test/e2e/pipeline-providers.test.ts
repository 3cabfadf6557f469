/**
 * The worker's model calls on the local stack: both providers, per-schema overrides, retries
 * with backoff and `retry-after`, failover, refusals and invalid output. Faults are queued in
 * the LLM emulator and matched on a marker unique to each document, so they hit only the
 * request they were meant for.
 */
import { randomBytes } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { parseConfig, type ProviderName } from '../../functions/src/config';
import { buildSystemPrompt } from '../../functions/src/extraction/prompt';
import { getSchema } from '../../functions/src/extraction/schemas/built-in';
import { ExtractionEvidenceRecordSchema } from '../../functions/src/evidence/record';
import { createServices, type Services } from '../../functions/src/services';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import {
  callApi,
  loggedLines,
  stack,
  waitForTerminal,
  withCanary,
  type ExtractionBody,
} from '../support/api';

let services: Services;
let firestore: Firestore;

beforeAll(() => {
  services = createServices(parseConfig());
  firestore = new Firestore({ projectId: stack().projectId });
});

afterAll(async () => {
  await firestore.terminate();
  await services.close();
});

async function tenantWith(
  providers: TenantProfile['providers'],
): Promise<{ tenant: TenantProfile; apiKey: string }> {
  const onboarded = await onboardTenant(services, {
    tenantId: `pipe-${randomBytes(5).toString('hex')}`,
    name: 'Pipeline providers',
    providers: { primary: providers.primary, fallback: providers.fallback },
  });
  if (providers.bySchema !== undefined || providers.models !== undefined) {
    await services.platform.setTenantProviders(onboarded.tenant.id, providers);
  }
  return { tenant: onboarded.tenant, apiKey: onboarded.apiKey.token };
}

/** A marker only this document carries: the emulator's faults match on it. */
const newMarker = () => `pvn-marker-${randomBytes(6).toString('hex')}`;

async function fault(spec: string, times: number, match: string): Promise<void> {
  const res = await fetch(`http://${stack().emulators.llm}/admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fault: spec, times, match }),
  });
  expect(res.status).toBeLessThan(300);
}

const invoice = (marker: string) =>
  withCanary(
    [
      'Vendor: Failover Freight GmbH',
      `Invoice No: ${marker}`,
      'Invoice Date: 2026-02-01',
      'Currency: EUR',
      'Total: 99.00',
    ].join('\n'),
  );

const receipt = (marker: string) =>
  withCanary(
    [
      'Corner Cafe',
      `Receipt ${marker}`,
      'Date: 2026-02-03',
      'Espresso 2.50',
      'Total: 2.50 EUR',
    ].join('\n'),
  );

async function extract(apiKey: string, text: string, schema = 'invoice'): Promise<ExtractionBody> {
  const created = await callApi('/v1/extractions', {
    method: 'POST',
    key: apiKey,
    body: { document: { contentType: 'text/plain', text }, schema },
  });
  expect(created.status).toBe(202);
  return waitForTerminal((created.body as ExtractionBody).id, apiKey, 60_000);
}

async function attemptsOf(apiKey: string, done: ExtractionBody) {
  const reply = await callApi(`/v1/evidence/${done.evidenceId ?? ''}`, { key: apiKey });
  expect(reply.status).toBe(200);
  return ExtractionEvidenceRecordSchema.parse(reply.body);
}

/** A failed extraction has no evidence record; its attempts are kept on the extraction. */
async function storedAttempts(tenantId: string, extractionId: string) {
  const snap = await firestore.doc(`tenants/${tenantId}/extractions/${extractionId}`).get();
  return (snap.get('attempts') ?? []) as { provider: string; outcome: string }[];
}

describe('providers', () => {
  it('runs a tenant whose primary is Anthropic on Anthropic and records the exact snapshot', async () => {
    const { apiKey } = await tenantWith({ primary: 'anthropic', fallback: null });
    const done = await extract(apiKey, invoice(newMarker()));
    expect(done.status).toBe('succeeded');
    expect(done.model).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-5-5',
      modelVersion: 'claude-sonnet-5-5',
    });
    const record = await attemptsOf(apiKey, done);
    expect(record.model.provider).toBe('anthropic');
    expect(record.model.modelVersion).toBe('claude-sonnet-5-5');
    expect(record.subprocessors).toEqual(['anthropic', 'google-cloud']);
    expect(record.response.attempts).toEqual([
      expect.objectContaining({
        provider: 'anthropic',
        outcome: 'ok',
        providerRequestId: expect.stringMatching(/^req_/) as string,
      }),
    ]);
  }, 60_000);

  it('follows a per-schema override with its own model, and the tenant default otherwise', async () => {
    const { apiKey } = await tenantWith({
      primary: 'openai',
      fallback: null,
      bySchema: {
        receipt: {
          primary: 'anthropic',
          fallback: null,
          models: { anthropic: 'claude-haiku-4-5' },
        },
      },
    });
    const [inv, rec] = await Promise.all([
      extract(apiKey, invoice(newMarker())),
      extract(apiKey, receipt(newMarker()), 'receipt'),
    ]);
    expect(inv.status).toBe('succeeded');
    expect(inv.model?.provider).toBe('openai');
    expect(rec.status).toBe('succeeded');
    expect(rec.model).toEqual({
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
      modelVersion: 'claude-haiku-4-5-20251001',
    });
  }, 60_000);
});

describe('retries and failover', () => {
  it('fails over to the fallback after the primary answers 500 on every retry', async () => {
    const { apiKey } = await tenantWith({ primary: 'openai', fallback: 'anthropic' });
    const marker = newMarker();
    await fault('server_error', 3, marker);
    const done = await extract(apiKey, invoice(marker));
    expect(done.status).toBe('succeeded');
    expect(done.model?.provider).toBe('anthropic');
    const record = await attemptsOf(apiKey, done);
    expect(record.model.provider).toBe('anthropic');
    expect(record.response.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual([
      'openai:server_error',
      'openai:server_error',
      'openai:server_error',
      'anthropic:ok',
    ]);
    // The failed attempts name the provider's request id, so they can be traced with it.
    for (const a of record.response.attempts) expect(a.providerRequestId).toMatch(/^req_/);
    expect(new Set(record.response.attempts.map((a) => a.providerRequestId)).size).toBe(4);
  }, 60_000);

  it('does not fail over when the tenant has no fallback: failed as provider_unavailable', async () => {
    const { tenant, apiKey } = await tenantWith({ primary: 'openai', fallback: null });
    const marker = newMarker();
    await fault('overloaded', 3, marker);
    const done = await extract(apiKey, invoice(marker));
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('provider_unavailable');
    expect((await storedAttempts(tenant.id, done.id)).map((a) => a.outcome)).toEqual([
      'server_error',
      'server_error',
      'server_error',
    ]);
  }, 60_000);

  it('honours retry-after on a 429 and records the rate-limited attempt', async () => {
    const { apiKey } = await tenantWith({ primary: 'openai', fallback: 'anthropic' });
    const marker = newMarker();
    await fault('rate_limit:1', 1, marker);
    const done = await extract(apiKey, invoice(marker));
    expect(done.status).toBe('succeeded');
    expect(done.model?.provider).toBe('openai');
    const record = await attemptsOf(apiKey, done);
    expect(record.response.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual([
      'openai:rate_limited',
      'openai:ok',
    ]);
    expect(record.response.attempts[0]?.providerRequestId).toMatch(/^req_/);
    const [waited] = await loggedLines(
      'extractWorker',
      (l) => l.event === 'provider_attempt_failed' && l.extractionId === done.id,
    );
    expect(waited).toMatchObject({ outcome: 'rate_limited', retryAfterMs: 1000, backoffMs: 1000 });
  }, 60_000);

  it.each(['malformed_json', 'schema_violation'])(
    'retries output broken by %s and succeeds on the next attempt',
    async (spec) => {
      const { apiKey } = await tenantWith({ primary: 'openai', fallback: null });
      const marker = newMarker();
      await fault(spec, 1, marker);
      const done = await extract(apiKey, invoice(marker));
      expect(done.status).toBe('succeeded');
      const record = await attemptsOf(apiKey, done);
      expect(record.response.attempts.map((a) => a.outcome)).toEqual(['invalid_output', 'ok']);
      expect(record.response.attempts[0]?.providerRequestId).toMatch(/^req_/);
    },
    60_000,
  );

  it('fails as invalid_model_output when no attempt satisfies the schema', async () => {
    const { tenant, apiKey } = await tenantWith({ primary: 'anthropic', fallback: null });
    const marker = newMarker();
    await fault('schema_violation', 3, marker);
    const done = await extract(apiKey, invoice(marker));
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('invalid_model_output');
    expect(done.evidenceId).toBeUndefined();
    expect((await storedAttempts(tenant.id, done.id)).map((a) => a.outcome)).toEqual([
      'invalid_output',
      'invalid_output',
      'invalid_output',
    ]);
  }, 60_000);

  it('treats a refusal as final: no retry, no failover, failed as model_refused', async () => {
    const { tenant, apiKey } = await tenantWith({ primary: 'openai', fallback: 'anthropic' });
    const marker = newMarker();
    await fault('refusal', 1, marker);
    const done = await extract(apiKey, invoice(marker));
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('model_refused');
    expect(await storedAttempts(tenant.id, done.id)).toEqual([
      expect.objectContaining({ provider: 'openai', outcome: 'refused' }),
    ]);
  }, 60_000);
});

/** An invoice whose answer needs about 43 output tokens per line item (the emulator's count). */
const longInvoice = (marker: string, lines: number) =>
  withCanary(
    [
      'Vendor: Long Lines Ltd',
      `Invoice No: ${marker}`,
      'Invoice Date: 2026-02-01',
      'Currency: EUR',
      '',
      '| Description | Qty | Unit Price | Amount |',
      '|---|---|---|---|',
      ...Array.from(
        { length: lines },
        (_, i) => `| Widget ${String(i + 1).padStart(4, '0')} | 1 | 1.00 | 1.00 |`,
      ),
      '',
      `Total: ${String(lines)}.00`,
    ].join('\n'),
  );

describe('models as the real APIs have them', () => {
  it.each(['o4-mini', 'gpt-5'])(
    'never sends temperature to the reasoning model %s: the extraction succeeds and the evidence params carry max_completion_tokens only',
    async (model) => {
      const { apiKey } = await tenantWith({
        primary: 'openai',
        fallback: null,
        models: { openai: model },
      });
      const done = await extract(apiKey, invoice(newMarker()));
      // The emulator answers temperature: 0 to these models with 400 unsupported_value.
      expect(done.status).toBe('succeeded');
      const record = await attemptsOf(apiKey, done);
      expect(record.model.model).toBe(model);
      expect(record.model.params).toEqual({ max_completion_tokens: 4096 });
      expect(record.response.attempts.map((a) => a.outcome)).toEqual(['ok']);
    },
    60_000,
  );

  it('keeps temperature 0 for a sampling model, with the output budget beside it', async () => {
    const { apiKey } = await tenantWith({ primary: 'openai', fallback: null });
    const record = await attemptsOf(apiKey, await extract(apiKey, invoice(newMarker())));
    expect(record.model.params).toEqual({ temperature: 0, max_completion_tokens: 4096 });
  }, 60_000);

  it.each<[ProviderName, string]>([
    ['openai', 'max_completion_tokens'],
    ['anthropic', 'max_tokens'],
  ])(
    'truncation on %s: an answer cut at the first budget is a typed truncated attempt, retried once with four times the budget',
    async (provider, budgetParam) => {
      const { apiKey } = await tenantWith({ primary: provider, fallback: null });
      const done = await extract(apiKey, longInvoice(newMarker(), 200));
      expect(done.status).toBe('succeeded');
      const record = await attemptsOf(apiKey, done);
      expect(
        record.response.attempts.map((a) => [a.provider, a.outcome, a.maxOutputTokens]),
      ).toEqual([
        [provider, 'truncated', 4096],
        [provider, 'ok', 16_384],
      ]);
      expect(record.response.attempts[0]?.providerRequestId).toMatch(/^req_/);
      expect(record.model.params[budgetParam]).toBe(16_384);
      expect(record.response.usage.outputTokens).toBeGreaterThan(4096);
    },
    60_000,
  );

  it.each<ProviderName>(['openai', 'anthropic'])(
    'truncation on %s past the larger budget ends failed as output_truncated, every attempt typed truncated',
    async (provider) => {
      const { tenant, apiKey } = await tenantWith({ primary: provider, fallback: null });
      const done = await extract(apiKey, longInvoice(newMarker(), 500));
      expect(done.status).toBe('failed');
      expect(done.error?.code).toBe('output_truncated');
      expect(done.evidenceId).toBeUndefined();
      expect(
        (await storedAttempts(tenant.id, done.id)).map((a) => `${a.provider}:${a.outcome}`),
      ).toEqual([`${provider}:truncated`, `${provider}:truncated`]);
    },
    60_000,
  );

  it('does not retry insufficient_quota: fails over to the fallback at once', async () => {
    const { apiKey } = await tenantWith({ primary: 'openai', fallback: 'anthropic' });
    const marker = newMarker();
    // One faulted request only: a retry of OpenAI would succeed and show up as openai:ok.
    await fault('insufficient_quota', 1, marker);
    const done = await extract(apiKey, invoice(marker));
    expect(done.status).toBe('succeeded');
    const record = await attemptsOf(apiKey, done);
    expect(record.response.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual([
      'openai:quota_exhausted',
      'anthropic:ok',
    ]);
    const [logged] = await loggedLines(
      'extractWorker',
      (l) => l.event === 'provider_attempt_failed' && l.extractionId === done.id,
    );
    expect(logged).toMatchObject({ outcome: 'quota_exhausted', status: 429 });
    expect(logged?.backoffMs).toBeUndefined();
  }, 60_000);

  it('without a fallback, insufficient_quota fails at once as provider_quota_exhausted', async () => {
    const { tenant, apiKey } = await tenantWith({ primary: 'openai', fallback: null });
    const marker = newMarker();
    await fault('insufficient_quota', 3, marker);
    const done = await extract(apiKey, invoice(marker));
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('provider_quota_exhausted');
    expect((await storedAttempts(tenant.id, done.id)).map((a) => a.outcome)).toEqual([
      'quota_exhausted',
    ]);
  }, 60_000);

  it('commits each attempt to the exact request sent, the document standing as its salted commitment', async () => {
    const { apiKey } = await tenantWith({ primary: 'anthropic', fallback: null });
    const done = await extract(apiKey, invoice(newMarker()));
    const record = await attemptsOf(apiKey, done);
    const schema = getSchema('invoice');
    if (!schema) throw new Error('the invoice schema is built in');
    const request = {
      model: record.model.model,
      system: buildSystemPrompt(schema).system,
      documentText: '',
      documentCommitment: record.request.payloadSha256,
      schemaName: schema.name,
      jsonSchema: schema.jsonSchema,
      maxOutputTokens: 4096,
    };
    const attempt = record.response.attempts[0];
    expect(attempt?.requestSha256).toBe(services.providers.anthropic.requestSha256(request));
    // Any other budget, prompt or document is another commitment.
    expect(attempt?.requestSha256).not.toBe(
      services.providers.anthropic.requestSha256({ ...request, maxOutputTokens: 4095 }),
    );
  }, 60_000);
});
