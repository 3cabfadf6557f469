import type { ProviderName } from '../config';
import type { ExtractionEvidenceBody } from '../evidence/record';

/** How one attempt at a model call ended, as the evidence records it. */
export type AttemptOutcome = ExtractionEvidenceBody['response']['attempts'][number]['outcome'];

/**
 * What a model accepts, per model family: the provider's API refuses a request that does not
 * fit (a 400), so the adapter shapes every request from this and nothing else.
 */
export interface ModelCapabilities {
  /** Whether `temperature` may be sent. OpenAI's reasoning models refuse any but the default. */
  readonly temperature: boolean;
  /** The request field that bounds the output. */
  readonly maxTokensParam: 'max_tokens' | 'max_completion_tokens';
  /** The most output tokens the model can produce in one answer. */
  readonly maxOutputTokens: number;
  /** How a schema is enforced: OpenAI strict `json_schema`, Anthropic a forced tool call. */
  readonly structuredOutput: 'json_schema' | 'forced_tool';
  /** Whether the model reads image input. */
  readonly vision: boolean;
}

/** A model the provider has announced it retires, and what to move to. */
export interface Retirement {
  /** The announced end-of-life date, `YYYY-MM-DD` (UTC); from that day the model is refused. */
  readonly endOfLife: string;
  readonly successor: string;
}

/** A model family: the names it covers and what they accept. */
export interface ModelFamily {
  readonly match: RegExp;
  readonly capabilities: ModelCapabilities;
}

/** The first family whose pattern matches `model`, or undefined for a model we do not know. */
export function capabilitiesIn(
  families: readonly ModelFamily[],
  model: string,
): ModelCapabilities | undefined {
  return families.find((family) => family.match.test(model))?.capabilities;
}

/**
 * Why a configured model cannot be used at `now`, or undefined when it can: unknown to the
 * capability table (we would not know which parameters it accepts), or past its announced
 * end-of-life (the provider refuses it from that day).
 */
export function modelProblem(
  model: string,
  families: readonly ModelFamily[],
  retirements: Readonly<Record<string, Retirement>>,
  now: Date,
): string | undefined {
  const retirement = Object.hasOwn(retirements, model) ? retirements[model] : undefined;
  if (retirement && now.getTime() >= Date.parse(`${retirement.endOfLife}T00:00:00Z`)) {
    return `${model} reached its end-of-life on ${retirement.endOfLife}; use ${retirement.successor}`;
  }
  if (!capabilitiesIn(families, model)) {
    return `${model} is not in the provider's capability table (providers/); add its family there`;
  }
  return undefined;
}

export interface ProviderRequest {
  model: string;
  system: string;
  /** The document as text; empty when it is an image. */
  documentText: string;
  /** The document as an image, for vision-capable models (the user message is the image). */
  image?: { mediaType: 'image/png' | 'image/jpeg'; base64: string } | undefined;
  /**
   * The salted commitment to the document (its `payloadSha256`), which stands in for the
   * document's content in the request commitment.
   */
  documentCommitment: string;
  schemaName: string;
  jsonSchema: Record<string, unknown>;
  /** The output budget of this attempt, within the model's `maxOutputTokens`. */
  maxOutputTokens: number;
}

export interface ProviderResponse {
  provider: ProviderName;
  /** The alias we asked for. */
  model: string;
  /** The exact snapshot the provider reports having run. */
  modelVersion: string;
  /** The structured output as JSON text, or null when the model refused or was cut short. */
  outputText: string | null;
  refusal: string | null;
  /** The answer stopped at the output budget: what came back is incomplete. */
  truncated: boolean;
  /** The provider's full response body, stored encrypted as evidence. */
  raw: string;
  usage: { inputTokens: number; outputTokens: number };
  providerRequestId: string | null;
  /** The generation parameters sent, for the evidence record. */
  params: Record<string, string | number | boolean | null>;
}

/** What a failed provider call means for the retry loop. */
export interface ClassifiedFailure {
  outcome: AttemptOutcome;
  retryAfterMs: number | null;
  /** The provider's id for the failed request, when it answered at all. */
  providerRequestId: string | null;
  /** The HTTP status the provider answered, when it answered. */
  status: number | null;
}

/** One LLM behind its official SDK. Retries are the pipeline's, so each attempt is recorded. */
export interface LlmProvider {
  readonly name: ProviderName;
  readonly model: string;
  /** Data-retention settings in force, for the evidence record. */
  readonly settings: Record<string, string | number | boolean | null>;
  /** What `model` accepts, or undefined when it is not in this provider's table. */
  capabilities(model: string): ModelCapabilities | undefined;
  /**
   * SHA-256 over the RFC 8785 canonical JSON of the exact request body `complete` sends, with
   * the document's content replaced by its salted commitment: everything the model saw,
   * committed, without putting the document in clear into the evidence.
   */
  requestSha256(request: ProviderRequest): string;
  complete(request: ProviderRequest): Promise<ProviderResponse>;
}
