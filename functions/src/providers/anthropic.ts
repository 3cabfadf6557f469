/**
 * Anthropic: the Messages adapter over the official SDK, what each model family accepts, which
 * models are retired, how a stored response is read back, and what a failed call means.
 */
import type Anthropic from '@anthropic-ai/sdk';
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
let sdk: typeof Anthropic | undefined;
function anthropicSdk(): typeof Anthropic {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sdk ??= (require('@anthropic-ai/sdk') as typeof import('@anthropic-ai/sdk')).default;
  return sdk;
}

/**
 * Every Claude model bounds its output with the required `max_tokens`, reads images, and is
 * held to a schema by a forced tool call
 * (https://platform.claude.com/docs/en/agents-and-tools/tool-use/implement-tool-use#forcing-tool-use).
 * None takes `temperature`: the installed SDK's `MessageCreateParams` has no sampling
 * parameter at all (no `temperature`, `top_p` or `top_k` in @anthropic-ai/sdk
 * `resources/messages/messages.d.ts`), so the adapter never sends one.
 */
const CLAUDE = {
  temperature: false,
  maxTokensParam: 'max_tokens',
  structuredOutput: 'forced_tool',
  vision: true,
} as const;

/**
 * Names from the SDK's `Model` union (@anthropic-ai/sdk `resources/messages/messages.d.ts`);
 * output limits from the models overview
 * (https://platform.claude.com/docs/en/about-claude/models/overview: 64,000 for Haiku 4.5,
 * Sonnet 4.5/4.6 and Opus 4.5, 128,000 for Opus 4.6). The later families take their
 * predecessors' limits until checked against that page. A request over the limit is a 400
 * ("max_tokens: N > M, which is the maximum allowed number of output tokens for MODEL").
 */
export const ANTHROPIC_MODEL_FAMILIES: readonly ModelFamily[] = [
  {
    match: /^claude-(?:haiku-4-5(?:-20251001)?|sonnet-4-5(?:-20250929)?|opus-4-5(?:-20251101)?)$/,
    capabilities: { ...CLAUDE, maxOutputTokens: 64_000 },
  },
  { match: /^claude-sonnet-4-6$/, capabilities: { ...CLAUDE, maxOutputTokens: 64_000 } },
  { match: /^claude-opus-4-[678]$/, capabilities: { ...CLAUDE, maxOutputTokens: 128_000 } },
  {
    match: /^claude-(?:haiku|sonnet)-5(?:-[1-9])?$/,
    capabilities: { ...CLAUDE, maxOutputTokens: 64_000 },
  },
  {
    match: /^claude-(?:(?:opus|fable|mythos)-5(?:-[1-9])?|mythos-preview)$/,
    capabilities: { ...CLAUDE, maxOutputTokens: 128_000 },
  },
];

/**
 * Retirements Anthropic announced (https://docs.anthropic.com/en/docs/resources/model-deprecations),
 * as the installed SDK lists them in @anthropic-ai/sdk `internal/data/deprecated-models.js`
 * (`DEPRECATED_MODELS`, which `messages.create` warns about); a unit test holds this table to
 * the SDK's. Each successor is the newest model of the same tier in the SDK's `Model` union.
 */
export const ANTHROPIC_RETIREMENTS: Readonly<Record<string, Retirement>> = {
  'claude-mythos-preview': { endOfLife: '2026-06-30', successor: 'claude-mythos-5-2' },
  'claude-opus-4-5': { endOfLife: '2027-01-22', successor: 'claude-opus-5-5' },
  'claude-opus-4-5-20251101': { endOfLife: '2027-01-22', successor: 'claude-opus-5-5' },
  'claude-sonnet-4-5': { endOfLife: '2026-11-30', successor: 'claude-sonnet-5-5' },
  'claude-sonnet-4-5-20250929': { endOfLife: '2026-11-30', successor: 'claude-sonnet-5-5' },
};

export function anthropicCapabilities(model: string): ModelCapabilities | undefined {
  return capabilitiesIn(ANTHROPIC_MODEL_FAMILIES, model);
}

/**
 * The forced tool call's input as JSON text; replay reads stored responses with it too.
 * `stop_reason: "max_tokens"` (or `"model_context_window_exceeded"`) means the answer was cut
 * short, and a tool call cut short is incomplete: "retry the request with a higher max_tokens
 * value to get the full tool use"
 * (https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons).
 */
export function readAnthropicOutput(data: Pick<Anthropic.Message, 'content' | 'stop_reason'>): {
  outputText: string | null;
  refusal: string | null;
  truncated: boolean;
} {
  const toolUse = data.content.find((block) => block.type === 'tool_use');
  const refused = data.stop_reason === 'refusal';
  const stopReason: string | null = data.stop_reason;
  const truncated = stopReason === 'max_tokens' || stopReason === 'model_context_window_exceeded';
  return {
    outputText: refused || truncated || !toolUse ? null : JSON.stringify(toolUse.input),
    refusal: refused ? 'refused' : null,
    truncated,
  };
}

const LIMITS = ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const;

/**
 * How long Anthropic asks us to wait after a 429: its `retry-after` header, in seconds
 * (https://docs.anthropic.com/en/api/rate-limits#response-headers: "retry-after: the number of
 * seconds to wait until you can retry the request"). Without one, the latest
 * `anthropic-ratelimit-*-reset` (RFC 3339) among the limits whose `-remaining` is 0. The SDK
 * reads `retry-after-ms` then `retry-after` (@anthropic-ai/sdk `client.js` `retryRequest`).
 */
export function anthropicRetryAfterMs(
  get: (name: string) => string | null | undefined,
  now: number = Date.now(),
): number | null {
  const explicit = parseRetryAfter(get, now);
  if (explicit !== null) return explicit;
  let wait: number | null = null;
  for (const limit of LIMITS) {
    if (get(`anthropic-ratelimit-${limit}-remaining`)?.trim() !== '0') continue;
    const reset = Date.parse(get(`anthropic-ratelimit-${limit}-reset`)?.trim() ?? '');
    if (!Number.isNaN(reset)) wait = Math.max(wait ?? 0, reset - now);
  }
  return wait;
}

/**
 * What a failed Anthropic call means, or undefined when the error is not Anthropic's.
 * 429 `rate_limit_error` waits; 500 `api_error` and 529 `overloaded_error` are the service's
 * (https://docs.anthropic.com/en/api/errors).
 */
export function classifyAnthropicError(
  err: unknown,
  now: number = Date.now(),
): ClassifiedFailure | undefined {
  if (err instanceof anthropicSdk().APIConnectionTimeoutError) {
    return { outcome: 'timeout', retryAfterMs: null, providerRequestId: null, status: null };
  }
  if (err instanceof anthropicSdk().APIConnectionError) {
    return { outcome: 'server_error', retryAfterMs: null, providerRequestId: null, status: null };
  }
  if (!(err instanceof anthropicSdk().APIError)) return undefined;
  const status = typeof err.status === 'number' ? err.status : null;
  const providerRequestId = err.requestID ?? null;
  const headers = err.headers as Headers | undefined;
  const retryAfterMs = headers ? anthropicRetryAfterMs((h) => headers.get(h), now) : null;
  if (status === 429) return { outcome: 'rate_limited', retryAfterMs, providerRequestId, status };
  if (status !== null && (status >= 500 || status === 408 || status === 409)) {
    return { outcome: 'server_error', retryAfterMs, providerRequestId, status };
  }
  return { outcome: 'error', retryAfterMs: null, providerRequestId, status };
}

type MessageBody = Anthropic.MessageCreateParamsNonStreaming;
type UserContent = MessageBody['messages'][number]['content'];

/** Anthropic Messages with one forced tool whose input schema is the extraction schema. */
export class AnthropicProvider implements LlmProvider {
  readonly name = 'anthropic' as const;
  /** The API does not train on inputs; retention is governed by the commercial terms. */
  readonly settings = { store: null };
  readonly model: string;
  readonly #options: { apiKey: string; baseURL?: string; timeoutMs: number };
  #client: Anthropic | undefined;

  constructor(options: { apiKey: string; baseURL?: string; model: string; timeoutMs: number }) {
    this.model = options.model;
    this.#options = options;
  }

  /** The SDK client, made on the first call (the SDK is loaded then: see `anthropicSdk`). */
  private client(): Anthropic {
    this.#client ??= new (anthropicSdk())({
      apiKey: this.#options.apiKey,
      // Set, so the SDK never refuses a large non-streaming `max_tokens` by its own estimate
      // (@anthropic-ai/sdk `messages.create`: `calculateNonstreamingTimeout` only without one).
      timeout: this.#options.timeoutMs,
      maxRetries: 0,
      ...(this.#options.baseURL ? { baseURL: this.#options.baseURL } : {}),
    });
    return this.#client;
  }

  capabilities(model: string): ModelCapabilities | undefined {
    return anthropicCapabilities(model);
  }

  private body(request: ProviderRequest, content: UserContent): MessageBody {
    const toolName = `record_${request.schemaName}`.replace(/[^a-zA-Z0-9_-]/g, '_');
    return {
      model: request.model,
      max_tokens: request.maxOutputTokens,
      system: request.system,
      messages: [{ role: 'user', content }],
      tools: [
        {
          name: toolName,
          description: `Record the fields extracted from the ${request.schemaName}.`,
          input_schema: request.jsonSchema as Anthropic.Tool.InputSchema,
        },
      ],
      tool_choice: { type: 'tool', name: toolName },
    };
  }

  private content(request: ProviderRequest, data: string): UserContent {
    return request.image
      ? [{ type: 'image', source: { type: 'base64', media_type: request.image.mediaType, data } }]
      : data;
  }

  requestSha256(request: ProviderRequest): string {
    return canonicalSha256(this.body(request, this.content(request, request.documentCommitment)));
  }

  async complete(request: ProviderRequest): Promise<ProviderResponse> {
    const data = request.image ? request.image.base64 : request.documentText;
    const { data: message, request_id } = await this.client()
      .messages.create(this.body(request, this.content(request, data)))
      .withResponse();
    return {
      provider: this.name,
      model: request.model,
      modelVersion: message.model,
      ...readAnthropicOutput(message),
      raw: JSON.stringify(message),
      usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
      providerRequestId: request_id ?? null,
      params: { max_tokens: request.maxOutputTokens },
    };
  }
}
