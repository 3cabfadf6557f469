import { createRequire } from 'node:module';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ConfigError, parseConfig } from '../../functions/src/config';
import { largerOutputBudget } from '../../functions/src/extraction/model-calls';
import { classifyProviderError, RETRYABLE_OUTCOMES } from '../../functions/src/extraction/retry';
import {
  ANTHROPIC_RETIREMENTS,
  anthropicCapabilities,
  anthropicRetryAfterMs,
  readAnthropicOutput,
} from '../../functions/src/providers/anthropic';
import {
  openAiCapabilities,
  openAiRetryAfterMs,
  parseResetDuration,
  readOpenAiOutput,
} from '../../functions/src/providers/openai';
import {
  configuredModelProblems,
  createProviders,
  tenantModelProblem,
} from '../../functions/src/providers/registry';

const ENV = {
  GOOGLE_CLOUD_PROJECT: 'provenant-test',
  DOCUMENTS_BUCKET: 'provenant-test-documents',
  AUDIT_BUCKET: 'provenant-test-audit',
  KMS_KEY_RING: 'projects/provenant-test/locations/europe-west1/keyRings/tenants',
  OPENAI_API_KEY: 'sk-test-openai',
  ANTHROPIC_API_KEY: 'sk-ant-test',
  API_KEY_PEPPER: 'p'.repeat(32),
  SEALING_KEY_VERSION:
    'projects/provenant-test/locations/europe-west1/keyRings/tenants/cryptoKeys/s/cryptoKeyVersions/1',
};

const EOL_DAY = new Date('2026-11-30T00:00:00Z');

describe('model end-of-life at cold start', () => {
  it('refuses a configured model past its announced end-of-life, naming the variable and a successor', () => {
    const config = parseConfig({ ...ENV, ANTHROPIC_MODEL: 'claude-sonnet-4-5' });
    let thrown: unknown;
    try {
      createProviders(config, EOL_DAY);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([
      'ANTHROPIC_MODEL: claude-sonnet-4-5 reached its end-of-life on 2026-11-30; use claude-sonnet-5-5',
    ]);
  });

  it('accepts it the day before, and refuses the dated snapshot alike', () => {
    const config = parseConfig({ ...ENV, ANTHROPIC_MODEL: 'claude-sonnet-4-5-20250929' });
    expect(configuredModelProblems(config, new Date('2026-11-29T23:59:59Z'))).toEqual([]);
    expect(configuredModelProblems(config, EOL_DAY)).toEqual([
      expect.stringContaining('use claude-sonnet-5-5') as string,
    ]);
  });

  it('refuses a model no capability table knows: we could not tell which parameters it takes', () => {
    const config = parseConfig({ ...ENV, OPENAI_MODEL: 'gpt-3.5-turbo' });
    expect(configuredModelProblems(config, EOL_DAY)).toEqual([
      expect.stringMatching(/^OPENAI_MODEL: gpt-3\.5-turbo is not in the provider's capability/),
    ]);
  });

  it('the defaults are current models, usable today and for the year ahead', () => {
    const config = parseConfig(ENV);
    expect(configuredModelProblems(config, new Date())).toEqual([]);
    expect(configuredModelProblems(config, new Date(Date.now() + 365 * 86_400_000))).toEqual([]);
    expect(() => createProviders(config)).not.toThrow();
  });

  it("a tenant's retired or unknown model is refused at call time too", () => {
    expect(tenantModelProblem('anthropic', 'claude-sonnet-4-5', EOL_DAY)).toMatch(/end-of-life/);
    expect(tenantModelProblem('openai', 'o4-mini', EOL_DAY)).toBeUndefined();
    expect(tenantModelProblem('openai', 'gpt-unknown', EOL_DAY)).toMatch(/capability table/);
  });

  it("holds the retirement table to the installed SDK's DEPRECATED_MODELS, date for date", () => {
    // Not part of the SDK's public API: read from its file, so an SDK upgrade that announces a
    // retirement fails here until the table (and a successor) is added.
    const sdk = createRequire(require.resolve('@anthropic-ai/sdk'));
    const { DEPRECATED_MODELS } = sdk('./internal/data/deprecated-models.js') as {
      DEPRECATED_MODELS: Record<string, string>;
    };
    const months = [
      'January',
      'February',
      'March',
      'April',
      'May',
      'June',
      'July',
      'August',
      'September',
      'October',
      'November',
      'December',
    ];
    const isoDate = (text: string) => {
      const match = /^([A-Z][a-z]+) (\d{1,2})(?:st|nd|rd|th), (\d{4})$/.exec(text);
      if (!match) throw new Error(`unreadable SDK date ${text}`);
      const month = String(months.indexOf(match[1] ?? '') + 1).padStart(2, '0');
      return `${match[3] ?? ''}-${month}-${(match[2] ?? '').padStart(2, '0')}`;
    };
    expect(Object.keys(DEPRECATED_MODELS).length).toBeGreaterThan(0);
    for (const [model, date] of Object.entries(DEPRECATED_MODELS)) {
      expect({ model, endOfLife: ANTHROPIC_RETIREMENTS[model]?.endOfLife }).toEqual({
        model,
        endOfLife: isoDate(date),
      });
      // The successor is itself a model we can call, and not retired.
      const successor = ANTHROPIC_RETIREMENTS[model]?.successor ?? '';
      expect(anthropicCapabilities(successor)).toBeDefined();
      expect(ANTHROPIC_RETIREMENTS[successor]).toBeUndefined();
    }
  });
});

describe('capability tables', () => {
  it.each([
    'o1',
    'o3',
    'o3-mini',
    'o4-mini',
    'o4-mini-2025-04-16',
    'gpt-5',
    'gpt-5-mini',
    'gpt-5.5',
    'gpt-6-sol',
  ])('the OpenAI reasoning model %s takes no temperature', (model) => {
    expect(openAiCapabilities(model)).toMatchObject({
      temperature: false,
      maxTokensParam: 'max_completion_tokens',
    });
  });

  it.each([
    ['gpt-4o-mini', 16_384],
    ['gpt-4o', 16_384],
    ['gpt-4.1', 32_768],
  ])('the OpenAI sampling model %s takes temperature, up to %i output tokens', (model, max) => {
    expect(openAiCapabilities(model)).toMatchObject({ temperature: true, maxOutputTokens: max });
  });

  it('leaves out models without strict structured outputs', () => {
    for (const model of ['gpt-3.5-turbo', 'gpt-4-turbo', 'o1-mini', 'gpt-4o-2024-05-13']) {
      expect(openAiCapabilities(model)).toBeUndefined();
    }
  });

  it('Claude models take a forced tool call and no temperature', () => {
    expect(anthropicCapabilities('claude-haiku-4-5')).toMatchObject({
      temperature: false,
      maxTokensParam: 'max_tokens',
      structuredOutput: 'forced_tool',
      maxOutputTokens: 64_000,
    });
    expect(anthropicCapabilities('claude-opus-4-6')?.maxOutputTokens).toBe(128_000);
  });
});

describe('truncation', () => {
  it('reads OpenAI finish_reason length as truncated, with no output', () => {
    const cut = readOpenAiOutput({
      choices: [
        {
          index: 0,
          finish_reason: 'length',
          logprobs: null,
          message: { role: 'assistant', content: '{"vendorName":{"va', refusal: null },
        },
      ],
    });
    expect(cut).toEqual({ outputText: null, refusal: null, truncated: true });
  });

  it('reads Anthropic stop_reason max_tokens with an incomplete tool call as truncated', () => {
    const cut = readAnthropicOutput({
      stop_reason: 'max_tokens',
      content: [{ type: 'tool_use', id: 'toolu_01', name: 'record_invoice', input: {} }],
    } as unknown as Anthropic.Message);
    expect(cut).toEqual({ outputText: null, refusal: null, truncated: true });
  });

  it('raises the budget once, four times over, within the model limit', () => {
    expect(largerOutputBudget(4096, 16_384)).toBe(16_384);
    expect(largerOutputBudget(4096, 128_000)).toBe(16_384);
    expect(largerOutputBudget(4096, 10_000)).toBe(10_000);
    expect(largerOutputBudget(16_384, 16_384)).toBeUndefined();
  });
});

describe('quota and rate limits', () => {
  const headers = (h: Record<string, string>) => new Headers(h);

  it('classifies OpenAI 429 insufficient_quota as quota_exhausted, which is never retried', () => {
    const err = OpenAI.APIError.generate(
      429,
      { error: { type: 'insufficient_quota', code: 'insufficient_quota', message: 'quota' } },
      'quota',
      headers({ 'x-request-id': 'req_q' }),
    );
    expect(classifyProviderError(err)).toEqual({
      outcome: 'quota_exhausted',
      retryAfterMs: null,
      providerRequestId: 'req_q',
      status: 429,
    });
    expect(RETRYABLE_OUTCOMES.has('quota_exhausted')).toBe(false);
    expect(RETRYABLE_OUTCOMES.has('truncated')).toBe(false);
  });

  it("reads OpenAI's 429 wait from the x-ratelimit-* headers it documents", () => {
    const err = OpenAI.APIError.generate(
      429,
      { error: { type: 'requests', code: 'rate_limit_exceeded', message: 'slow down' } },
      'slow down',
      headers({
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '1.5s',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '6m0s',
      }),
    );
    expect(classifyProviderError(err)).toMatchObject({
      outcome: 'rate_limited',
      retryAfterMs: 360_000,
    });
  });

  it('only an exhausted limit counts; no header, no wait (backoff decides)', () => {
    const get = (h: Record<string, string>) => (name: string) => h[name];
    expect(
      openAiRetryAfterMs(
        get({
          'x-ratelimit-remaining-requests': '3',
          'x-ratelimit-reset-requests': '20s',
          'x-ratelimit-remaining-tokens': '0',
          'x-ratelimit-reset-tokens': '250ms',
        }),
      ),
    ).toBe(250);
    expect(openAiRetryAfterMs(get({}))).toBeNull();
  });

  it.each([
    ['1s', 1000],
    ['20ms', 20],
    ['6m0s', 360_000],
    ['1h2m3.5s', 3_723_500],
    ['0.25s', 250],
    ['soon', null],
    ['', null],
  ])('reads the reset duration %j as %p ms', (text, ms) => {
    expect(parseResetDuration(text)).toBe(ms);
  });

  it("reads Anthropic's retry-after, and its anthropic-ratelimit-*-reset when it has none", () => {
    const now = Date.parse('2026-11-30T02:00:00Z');
    const get = (h: Record<string, string>) => (name: string) => h[name];
    expect(anthropicRetryAfterMs(get({ 'retry-after': '12' }), now)).toBe(12_000);
    expect(
      anthropicRetryAfterMs(
        get({
          'anthropic-ratelimit-requests-remaining': '0',
          'anthropic-ratelimit-requests-reset': '2026-11-30T02:00:04Z',
          'anthropic-ratelimit-output-tokens-remaining': '0',
          'anthropic-ratelimit-output-tokens-reset': '2026-11-30T02:00:09Z',
          'anthropic-ratelimit-tokens-remaining': '100',
          'anthropic-ratelimit-tokens-reset': '2026-11-30T02:05:00Z',
        }),
        now,
      ),
    ).toBe(9000);
  });
});
