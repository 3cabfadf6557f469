/**
 * OpenAI: the Chat Completions adapter over the official SDK, what each model family accepts,
 * how a stored response is read back, and what a failed call means.
 */
import type OpenAI from 'openai';
import { canonicalSha256 } from '../evidence/canonical';
import { parseRetryAfter } from '../util/backoff';
import {
  capabilitiesIn,
  type ClassifiedFailure,
  type LlmProvider,
  type ModelCapabilities,
  type ModelFamily,
  type ProviderRequest,
  type ProviderResponse,
  type Retirement,
} from './provider';

/**
 * The SDK, loaded on its first use rather than when this module loads: most processes that
 * build the providers never call a model (the API, the sealer, the CLI), and loading the SDK
 * was a tenth of their start. Errors to classify come from a client it made, so by then it is
 * loaded. `require` keeps the one CommonJS copy the SDK's types describe (an `import()` would
 * load its separate ESM build, whose error classes fail `instanceof` against this one).
 */
let sdk: typeof OpenAI | undefined;
function openAiSdk(): typeof OpenAI {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sdk ??= (require('openai') as typeof import('openai')).default;
  return sdk;
}

const DATE = '(?:-\\d{4}-\\d{2}-\\d{2})?';

/**
 * Reasoning models (the o-series, gpt-5 and later) refuse `temperature` with a 400
 * `unsupported_value` unless it is the default 1, and refuse `max_tokens` with a 400
 * `unsupported_parameter` ("Use 'max_completion_tokens' instead"): the SDK's own docs say
 * `max_tokens` "is not compatible with o-series models" (openai
 * `resources/chat/completions/completions.d.ts`, `max_tokens`), and the reasoning guide
 * (https://platform.openai.com/docs/guides/reasoning) lists the sampling parameters they do
 * not support. `max_completion_tokens` bounds visible and reasoning tokens alike and every
 * model here accepts it, so it is the one field this adapter sends.
 */
const REASONING = {
  temperature: false,
  maxTokensParam: 'max_completion_tokens',
  structuredOutput: 'json_schema',
} as const;
const SAMPLING = {
  temperature: true,
  maxTokensParam: 'max_completion_tokens',
  structuredOutput: 'json_schema',
} as const;

/**
 * The chat models that take strict `json_schema` structured outputs
 * (https://platform.openai.com/docs/guides/structured-outputs#supported-models: gpt-4o-mini,
 * gpt-4o-2024-08-06 and later, the o-series from o1, gpt-4.1 and gpt-5 onwards; not o1-mini,
 * o1-preview, gpt-4o-2024-05-13, gpt-4-turbo or gpt-3.5), with their output limits from the
 * model pages (https://platform.openai.com/docs/models). Names follow the SDK's `ChatModel`
 * union (openai `resources/shared.d.ts`). The gpt-5.x/gpt-6 point releases are taken to
 * share gpt-5's limits: check a new family against its model page before listing it.
 */
export const OPENAI_MODEL_FAMILIES: readonly ModelFamily[] = [
  {
    match: new RegExp(`^gpt-(?:5|6)(?:\\.\\d+)?(?:-(?:mini|nano|sol|terra|luna|astra))?${DATE}$`),
    capabilities: { ...REASONING, maxOutputTokens: 128_000, vision: true },
  },
  {
    match: new RegExp(`^(?:o1|o3|o4-mini)${DATE}$`),
    capabilities: { ...REASONING, maxOutputTokens: 100_000, vision: true },
  },
  {
    match: new RegExp(`^o3-mini${DATE}$`),
    capabilities: { ...REASONING, maxOutputTokens: 100_000, vision: false },
  },
  {
    match: new RegExp(`^gpt-4\\.1(?:-mini|-nano)?${DATE}$`),
    capabilities: { ...SAMPLING, maxOutputTokens: 32_768, vision: true },
  },
  {
    match: /^gpt-4o(?:-mini(?:-2024-07-18)?|-2024-08-06|-2024-11-20)?$/,
    capabilities: { ...SAMPLING, maxOutputTokens: 16_384, vision: true },
  },
];

/** OpenAI announces retirements on https://platform.openai.com/docs/deprecations; none listed. */
export const OPENAI_RETIREMENTS: Readonly<Record<string, Retirement>> = {};

export function openAiCapabilities(model: string): ModelCapabilities | undefined {
  return capabilitiesIn(OPENAI_MODEL_FAMILIES, model);
}

/**
 * The structured output of a chat completion; replay reads stored responses with it too.
 * `finish_reason: "length"` means the answer hit `max_completion_tokens` and its JSON is cut
 * short (https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices):
 * no output, truncated.
 */
export function readOpenAiOutput(data: Pick<OpenAI.ChatCompletion, 'choices'>): {
  outputText: string | null;
  refusal: string | null;
  truncated: boolean;
} {
  const choice = data.choices[0];
  const message = choice?.message;
  const truncated = choice?.finish_reason === 'length';
  return {
    outputText: message?.refusal || truncated ? null : (message?.content ?? null),
    refusal: message?.refusal ?? null,
    truncated,
  };
}

/**
 * A Go-style duration as OpenAI's `x-ratelimit-reset-*` headers send it (`1s`, `6m0s`,
 * `20ms`, `1h2m3.5s`), in ms; null when it does not read as one.
 */
export function parseResetDuration(value: string | null | undefined): number | null {
  const text = value?.trim();
  if (!text) return null;
  const match =
    /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/.exec(
      text,
    );
  const parts: (string | undefined)[] = match ? match.slice(1) : [];
  if (parts.every((part) => part === undefined)) return null;
  const [h = 0, m = 0, s = 0, ms = 0] = parts.map((part) => Number(part ?? 0));
  return Math.round(((h * 60 + m) * 60 + s) * 1000 + ms);
}

/**
 * How long OpenAI asks us to wait after a 429. OpenAI documents the `x-ratelimit-*` headers
 * (https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers):
 * `x-ratelimit-remaining-{requests,tokens}` and `x-ratelimit-reset-{requests,tokens}`, the
 * time until that limit is back to full, as a duration. The wait is the longest reset among
 * the limits that are exhausted. A `retry-after-ms`/`retry-after`, which the SDK itself reads
 * (openai `client.js` `retryRequest`: `retry-after-ms` first, then `retry-after`), wins when
 * present; the API does not document sending either.
 */
export function openAiRetryAfterMs(
  get: (name: string) => string | null | undefined,
  now: number = Date.now(),
): number | null {
  const explicit = parseRetryAfter(get, now);
  if (explicit !== null) return explicit;
  let wait: number | null = null;
  for (const limit of ['requests', 'tokens']) {
    if (get(`x-ratelimit-remaining-${limit}`)?.trim() !== '0') continue;
    const reset = parseResetDuration(get(`x-ratelimit-reset-${limit}`));
    if (reset !== null) wait = Math.max(wait ?? 0, reset);
  }
  return wait;
}

/**
 * What a failed OpenAI call means, or undefined when the error is not OpenAI's. A 429 whose
 * code is `insufficient_quota` is the account's billing quota, not a rate limit
 * (https://platform.openai.com/docs/guides/error-codes#api-errors: "You exceeded your current
 * quota"): waiting does not help, so it is `quota_exhausted`, never retried.
 */
export function classifyOpenAiError(
  err: unknown,
  now: number = Date.now(),
): ClassifiedFailure | undefined {
  if (err instanceof openAiSdk().APIConnectionTimeoutError) {
    return { outcome: 'timeout', retryAfterMs: null, providerRequestId: null, status: null };
  }
  if (err instanceof openAiSdk().APIConnectionError) {
    return { outcome: 'server_error', retryAfterMs: null, providerRequestId: null, status: null };
  }
  if (!(err instanceof openAiSdk().APIError)) return undefined;
  const status = typeof err.status === 'number' ? err.status : null;
  const providerRequestId = err.requestID ?? null;
  if (status === 429 && err.code === 'insufficient_quota') {
    return { outcome: 'quota_exhausted', retryAfterMs: null, providerRequestId, status };
  }
  const headers = err.headers as Headers | undefined;
  const retryAfterMs = headers ? openAiRetryAfterMs((h) => headers.get(h), now) : null;
  if (status === 429) return { outcome: 'rate_limited', retryAfterMs, providerRequestId, status };
  if (status !== null && (status >= 500 || status === 408 || status === 409)) {
    return { outcome: 'server_error', retryAfterMs, providerRequestId, status };
  }
  return { outcome: 'error', retryAfterMs: null, providerRequestId, status };
}

type ChatBody = OpenAI.ChatCompletionCreateParamsNonStreaming;

/** OpenAI Chat Completions with strict json_schema structured outputs. */
export class OpenAiProvider implements LlmProvider {
  readonly name = 'openai' as const;
  /** Nothing is kept for distillation or evals on OpenAI's side. */
  readonly settings = { store: false };
  readonly model: string;
  readonly #options: { apiKey: string; baseURL?: string; timeoutMs: number };
  #client: OpenAI | undefined;

  constructor(options: { apiKey: string; baseURL?: string; model: string; timeoutMs: number }) {
    this.model = options.model;
    this.#options = options;
  }

  /** The SDK client, made on the first call (the SDK is loaded then: see `openAiSdk`). */
  private client(): OpenAI {
    this.#client ??= new (openAiSdk())({
      apiKey: this.#options.apiKey,
      timeout: this.#options.timeoutMs,
      // Retries are the pipeline's, so each attempt is recorded in the evidence.
      maxRetries: 0,
      ...(this.#options.baseURL ? { baseURL: this.#options.baseURL } : {}),
    });
    return this.#client;
  }

  capabilities(model: string): ModelCapabilities | undefined {
    return openAiCapabilities(model);
  }

  /** The generation parameters a request to `model` carries: only what the model accepts. */
  private params(request: ProviderRequest): Record<string, number> {
    const capabilities = openAiCapabilities(request.model);
    return {
      ...(capabilities?.temperature === false ? {} : { temperature: 0 }),
      max_completion_tokens: request.maxOutputTokens,
    };
  }

  /** The request body, with `document` as the user message's text or image URL. */
  private body(request: ProviderRequest, document: string): ChatBody {
    return {
      model: request.model,
      ...this.params(request),
      store: false,
      messages: [
        { role: 'system', content: request.system },
        {
          role: 'user',
          content: request.image ? [{ type: 'image_url', image_url: { url: document } }] : document,
        },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: request.schemaName, strict: true, schema: request.jsonSchema },
      },
    };
  }

  requestSha256(request: ProviderRequest): string {
    return canonicalSha256(this.body(request, request.documentCommitment));
  }

  async complete(request: ProviderRequest): Promise<ProviderResponse> {
    const document = request.image
      ? `data:${request.image.mediaType};base64,${request.image.base64}`
      : request.documentText;
    const { data, request_id } = await this.client()
      .chat.completions.create(this.body(request, document))
      .withResponse();
    return {
      provider: this.name,
      model: request.model,
      modelVersion: data.model,
      ...readOpenAiOutput(data),
      raw: JSON.stringify(data),
      usage: {
        inputTokens: data.usage?.prompt_tokens ?? 0,
        outputTokens: data.usage?.completion_tokens ?? 0,
      },
      providerRequestId: request_id,
      params: this.params(request),
    };
  }
}
