import OpenAI from 'openai';
import type { LlmProvider, ProviderRequest, ProviderResponse } from './provider';

/** The structured output of a chat completion; replay reads stored responses with it too. */
export function readOpenAiOutput(data: Pick<OpenAI.ChatCompletion, 'choices'>): {
  outputText: string | null;
  refusal: string | null;
} {
  const message = data.choices[0]?.message;
  return {
    outputText: message?.refusal ? null : (message?.content ?? null),
    refusal: message?.refusal ?? null,
  };
}

/** OpenAI Chat Completions with strict json_schema structured outputs. */
export class OpenAiProvider implements LlmProvider {
  readonly name = 'openai' as const;
  readonly params = { temperature: 0 };
  /** Nothing is kept for distillation or evals on OpenAI's side. */
  readonly settings = { store: false };
  private readonly client: OpenAI;

  constructor(options: { apiKey: string; baseURL?: string; model: string; timeoutMs: number }) {
    this.model = options.model;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      timeout: options.timeoutMs,
      maxRetries: 0,
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    });
  }
  readonly model: string;

  async complete(request: ProviderRequest): Promise<ProviderResponse> {
    const { data, request_id } = await this.client.chat.completions
      .create({
        model: request.model,
        temperature: 0,
        store: false,
        messages: [
          { role: 'system', content: request.system },
          {
            role: 'user',
            content: request.image
              ? [
                  {
                    type: 'image_url',
                    image_url: {
                      url: `data:${request.image.mediaType};base64,${request.image.base64}`,
                    },
                  },
                ]
              : request.documentText,
          },
        ],
        response_format: {
          type: 'json_schema',
          json_schema: { name: request.schemaName, strict: true, schema: request.jsonSchema },
        },
      })
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
    };
  }
}
