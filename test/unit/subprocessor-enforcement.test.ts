/**
 * Runtime enforcement: the pipeline's provider calls refuse a sub-processor that is not in
 * force on the call date, and the evidence names every sub-processor that processed a request.
 */
import type { ProviderName } from '../../functions/src/config';
import { callModels, TerminalExtractionError } from '../../functions/src/extraction/model-calls';
import { setLogSink } from '../../functions/src/logging';
import type { LlmProvider, ProviderResponse } from '../../functions/src/providers/provider';
import type { Services } from '../../functions/src/services';
import {
  addDays,
  dayOf,
  defaultRegistryDir,
  loadRegistry,
  SubprocessorRegistry,
  type Subprocessor,
} from '../../functions/src/subprocessors/registry';
import type { TenantProfile } from '../../functions/src/tenancy/platform';

const today = dayOf(new Date());
const committed = loadRegistry(defaultRegistryDir());

/** The committed registry with `id` changed. */
function registryWith(id: string, change: Partial<Subprocessor>): SubprocessorRegistry {
  return new SubprocessorRegistry(
    committed.entries.map((e) => (e.id === id ? { ...e, ...change } : e)),
  );
}

/** The platform default models (config.ts): ones the capability tables know. */
const MODELS: Record<ProviderName, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-sonnet-5-5',
};

/** A provider port that answers and counts the requests it was sent. */
function provider(name: ProviderName): LlmProvider & { sent: number } {
  const p = {
    name,
    model: MODELS[name],
    params: {},
    settings: {},
    sent: 0,
    capabilities: () => ({
      temperature: true,
      maxTokensParam: 'max_tokens' as const,
      maxOutputTokens: 4096,
      structuredOutput: 'json_schema' as const,
      vision: false,
    }),
    requestSha256: () => '0'.repeat(64),
    complete(): Promise<ProviderResponse> {
      p.sent++;
      return Promise.resolve({
        provider: name,
        model: MODELS[name],
        modelVersion: `${MODELS[name]}-1`,
        outputText: '{}',
        refusal: null,
        raw: '{}',
        usage: { inputTokens: 1, outputTokens: 1 },
        providerRequestId: null,
        truncated: false,
        params: {},
      });
    },
  };
  return p;
}

function setup(primary: ProviderName, fallback: ProviderName | null) {
  const providers = { openai: provider('openai'), anthropic: provider('anthropic') };
  const services = {
    config: {
      LLM_MAX_RETRIES: 0,
      LLM_RETRY_BASE_MS: 1,
      LLM_RETRY_MAX_BACKOFF_MS: 1,
      LLM_RETRY_AFTER_CAP_MS: 0,
      LLM_MAX_OUTPUT_TOKENS: 4096,
    },
    providers,
  } as unknown as Services;
  const tenant = { providers: { primary, fallback } } as unknown as TenantProfile;
  const call = (registry: SubprocessorRegistry) =>
    callModels(
      services,
      tenant,
      {
        system: 's',
        documentText: 'd',
        schemaName: 'invoice',
        jsonSchema: {},
        documentCommitment: 'c',
      },
      () => ({ result: {}, records: [] }) as never,
      { tenantId: 't', extractionId: 'e' },
      registry,
    );
  return { providers, call };
}

describe('provider calls and the sub-processor registry', () => {
  let lines: string[] = [];
  let previous: ReturnType<typeof setLogSink>;
  beforeEach(() => {
    lines = [];
    previous = setLogSink((line) => lines.push(line));
  });
  afterEach(() => setLogSink(previous));

  it('refuses a retired sub-processor with a typed error, sending it nothing', async () => {
    const { providers, call } = setup('openai', null);
    const retired = registryWith('openai', { status: 'retired', effective: addDays(today, -1) });
    const failure = await call(retired).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TerminalExtractionError);
    expect(failure).toMatchObject({
      code: 'subprocessor_not_active',
      message: `sub-processor openai is not active on ${today} (status retired)`,
      attempts: [],
    });
    expect(providers.openai.sent).toBe(0);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({
        event: 'subprocessor_refused',
        provider: 'openai',
        status: 'retired',
      }),
    ]);
  });

  it('refuses a vendor whose notice period has not ended yet', async () => {
    const { providers, call } = setup('anthropic', null);
    const upcoming = registryWith('anthropic', { effective: addDays(today, 1) });
    await expect(call(upcoming)).rejects.toMatchObject({ code: 'subprocessor_not_active' });
    expect(providers.anthropic.sent).toBe(0);
  });

  it('refuses a retiring vendor from its end date on, and calls it the day before', async () => {
    const { providers, call } = setup('anthropic', null);
    await expect(
      call(registryWith('anthropic', { status: 'retiring', effective: today })),
    ).rejects.toMatchObject({ code: 'subprocessor_not_active' });
    await call(registryWith('anthropic', { status: 'retiring', effective: addDays(today, 1) }));
    expect(providers.anthropic.sent).toBe(1);
  });

  it('fails over to the fallback in force when the primary is refused', async () => {
    const { providers, call } = setup('openai', 'anthropic');
    const done = await call(registryWith('openai', { status: 'retired' }));
    expect(done.response.provider).toBe('anthropic');
    expect(done.attempts.map((a) => a.provider)).toEqual(['anthropic']);
    expect(providers.openai.sent).toBe(0);
  });

  it('calls the providers of the committed registry', async () => {
    const { providers, call } = setup('openai', null);
    await call(committed);
    expect(providers.openai.sent).toBe(1);
  });
});

describe('the sub-processors an evidence record names', () => {
  it('are hosting and each provider the request was sent to, sorted', () => {
    const now = new Date();
    expect(committed.processorsOf(['openai'], now)).toEqual(['google-cloud', 'openai']);
    expect(committed.processorsOf(['openai', 'anthropic', 'openai'], now)).toEqual([
      'anthropic',
      'google-cloud',
      'openai',
    ]);
  });
});
