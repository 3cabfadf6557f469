import type { ProviderName } from '../config';

export interface ProviderRequest {
  model: string;
  system: string;
  /** The document as text; empty when it is an image. */
  documentText: string;
  /** The document as an image, for vision-capable models (the user message is the image). */
  image?: { mediaType: 'image/png' | 'image/jpeg'; base64: string } | undefined;
  schemaName: string;
  jsonSchema: Record<string, unknown>;
}

export interface ProviderResponse {
  provider: ProviderName;
  /** The alias we asked for. */
  model: string;
  /** The exact snapshot the provider reports having run. */
  modelVersion: string;
  /** The structured output as JSON text, or null when the model refused. */
  outputText: string | null;
  refusal: string | null;
  /** The provider's full response body, stored encrypted as evidence. */
  raw: string;
  usage: { inputTokens: number; outputTokens: number };
  providerRequestId: string | null;
}

/** One LLM behind its official SDK. Retries are the pipeline's, so each attempt is recorded. */
export interface LlmProvider {
  readonly name: ProviderName;
  readonly model: string;
  /** Generation parameters and data-retention settings in force, for the evidence record. */
  readonly params: Record<string, string | number | boolean | null>;
  readonly settings: Record<string, string | number | boolean | null>;
  complete(request: ProviderRequest): Promise<ProviderResponse>;
}
