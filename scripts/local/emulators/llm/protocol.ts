/**
 * What the HTTP layer needs from each provider's API: how to read a request, how to render an
 * answer, and how that provider spells its errors.
 */
import { randomBytes } from 'node:crypto';
import type { Generated, OutputSpec, Prompt } from './generate';
import type { ModelSpec, Provider } from './models';

/** Provider-neutral error categories, mapped to each provider's status, type and code. */
export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'model_not_found'
  | 'not_found'
  | 'rate_limit'
  | 'insufficient_quota'
  | 'server_error'
  | 'overloaded';

/** An error to answer with, before it is given a provider's shape. */
export interface ApiErrorSpec {
  readonly kind: ErrorKind;
  readonly message: string;
  readonly param?: string;
  /** OpenAI's `error.code` where it is more specific than the kind's (`unsupported_value`, …). */
  readonly code?: string;
}

/** A generation request reduced to what the deterministic model needs. */
export interface GenerationRequest {
  /** The model name as requested. */
  readonly model: string;
  readonly prompt: Prompt;
  readonly spec: OutputSpec;
  /** Set when the answer must be a call of this tool/function rather than message content. */
  readonly tool?: string;
  /** Responses API only: whether the answer is kept for `GET /v1/responses/{id}`. */
  readonly store?: boolean;
  /** The parsed request body, for fields an endpoint echoes back. */
  readonly body: Readonly<Record<string, unknown>>;
}

/** Token counts of one answered request. */
export interface TokenUsage {
  readonly input: number;
  readonly output: number;
}

/** One provider endpoint. */
export interface Endpoint {
  readonly provider: Provider;
  /** Validates the body and reduces it to a {@link GenerationRequest}. */
  parse(body: Record<string, unknown>): GenerationRequest | ApiErrorSpec;
  /**
   * Refuses what the real API refuses for this model, before any generation: parameters the
   * model does not take, an output budget over its limit.
   */
  check(request: GenerationRequest, model: ModelSpec): ApiErrorSpec | undefined;
  /** The output budget the request set, or undefined when it left it to the model's limit. */
  outputBudget(request: GenerationRequest): number | undefined;
  /** Renders the provider's success body. */
  render(
    request: GenerationRequest,
    snapshot: string,
    generated: Generated,
    usage: TokenUsage,
  ): Record<string, unknown>;
}

/** Status code and body of an error, in the provider's own shape. */
export function errorResponse(
  provider: Provider,
  error: ApiErrorSpec,
  requestId: string,
): { status: number; body: Record<string, unknown> } {
  if (provider === 'anthropic') {
    const [status, type] = (
      {
        invalid_request: [400, 'invalid_request_error'],
        authentication: [401, 'authentication_error'],
        model_not_found: [404, 'not_found_error'],
        not_found: [404, 'not_found_error'],
        rate_limit: [429, 'rate_limit_error'],
        // Anthropic answers a spent credit balance as a bad request, not a 429.
        insufficient_quota: [400, 'invalid_request_error'],
        server_error: [500, 'api_error'],
        overloaded: [529, 'overloaded_error'],
      } as const
    )[error.kind];
    return {
      status,
      body: { type: 'error', error: { type, message: error.message }, request_id: requestId },
    };
  }
  const [status, type, code] = (
    {
      invalid_request: [400, 'invalid_request_error', null],
      authentication: [401, 'invalid_request_error', 'invalid_api_key'],
      model_not_found: [404, 'invalid_request_error', 'model_not_found'],
      not_found: [404, 'invalid_request_error', 'not_found'],
      rate_limit: [429, 'requests', 'rate_limit_exceeded'],
      // https://platform.openai.com/docs/guides/error-codes#api-errors: 429 "You exceeded your
      // current quota", type and code `insufficient_quota`.
      insufficient_quota: [429, 'insufficient_quota', 'insufficient_quota'],
      server_error: [500, 'server_error', null],
      overloaded: [503, 'server_error', 'overloaded'],
    } as const
  )[error.kind];
  return {
    status,
    body: {
      error: { message: error.message, type, param: error.param ?? null, code: error.code ?? code },
    },
  };
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random identifier in the providers' style: `prefix` followed by `length` letters/digits. */
export function newId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const byte of bytes) id += ALPHANUMERIC.charAt(byte % ALPHANUMERIC.length);
  return id;
}

/** Narrows an unknown JSON value to a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
