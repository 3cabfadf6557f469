import Anthropic from '@anthropic-ai/sdk';
import type { LlmProvider, ProviderRequest, ProviderResponse } from './provider';

/** The forced tool call's input as JSON text; replay reads stored responses with it too. */
export function readAnthropicOutput(data: Pick<Anthropic.Message, 'content' | 'stop_reason'>): {
  outputText: string | null;
  refusal: string | null;
} {
  const toolUse = data.content.find((block) => block.type === 'tool_use');
  const refused = data.stop_reason === 'refusal';
  return {
    outputText: refused || !toolUse ? null : JSON.stringify(toolUse.input),
    refusal: refused ? 'refused' : null,
  };
}

/** Anthropic Messages with one forced tool whose input schema is the extraction schema. */
export class AnthropicProvider implements LlmProvider {
  readonly name = 'anthropic' as const;
  readonly params = { max_tokens: 4096 };
  /** The API does not train on inputs; retention is governed by the commercial terms. */
  readonly settings = { store: null };
  readonly model: string;
  private readonly client: Anthropic;

  constructor(options: { apiKey: string; baseURL?: string; model: string; timeoutMs: number }) {
    this.model = options.model;
    this.client = new Anthropic({
      apiKey: options.apiKey,
      timeout: options.timeoutMs,
      maxRetries: 0,
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    });
  }

  async complete(request: ProviderRequest): Promise<ProviderResponse> {
    const toolName = `record_${request.schemaName}`.replace(/[^a-zA-Z0-9_-]/g, '_');
    const { data, request_id } = await this.client.messages
      .create({
        model: request.model,
        max_tokens: 4096,
        system: request.system,
        messages: [
          {
            role: 'user',
            content: request.image
              ? [
                  {
                    type: 'image',
                    source: {
                      type: 'base64',
                      media_type: request.image.mediaType,
                      data: request.image.base64,
                    },
                  },
                ]
              : request.documentText,
          },
        ],
        tools: [
          {
            name: toolName,
            description: `Record the fields extracted from the ${request.schemaName}.`,
            input_schema: request.jsonSchema as Anthropic.Tool.InputSchema,
          },
        ],
        tool_choice: { type: 'tool', name: toolName },
      })
      .withResponse();
    return {
      provider: this.name,
      model: request.model,
      modelVersion: data.model,
      ...readAnthropicOutput(data),
      raw: JSON.stringify(data),
      usage: { inputTokens: data.usage.input_tokens, outputTokens: data.usage.output_tokens },
      providerRequestId: request_id ?? null,
    };
  }
}
