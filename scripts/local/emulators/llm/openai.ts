/**
 * OpenAI's Chat Completions (`POST /v1/chat/completions`) and Responses (`POST /v1/responses`)
 * request and response shapes.
 */
import { contentText } from './documents';
import type { Generated, OutputSpec, Turn } from './generate';
import {
  type ApiErrorSpec,
  type Endpoint,
  type GenerationRequest,
  type TokenUsage,
  isRecord,
  newId,
} from './protocol';
import type { JsonSchema } from './schema';

const SYSTEM_ROLES = new Set(['system', 'developer']);

function invalid(message: string, param?: string): ApiErrorSpec {
  return param === undefined
    ? { kind: 'invalid_request', message }
    : { kind: 'invalid_request', message, param };
}

function isError(value: unknown): value is ApiErrorSpec {
  return isRecord(value) && typeof value.kind === 'string' && typeof value.message === 'string';
}

function commonChecks(body: Record<string, unknown>): ApiErrorSpec | undefined {
  if (typeof body.model !== 'string' || body.model === '') {
    return invalid('You must provide a model parameter.', 'model');
  }
  if (body.stream === true) {
    return invalid('Streaming is not supported by the emulator.', 'stream');
  }
  return undefined;
}

/** Reads message-shaped items into system text and conversation turns. */
function readMessages(
  items: readonly unknown[],
  param: string,
): { system: string[]; turns: Turn[] } | ApiErrorSpec {
  const system: string[] = [];
  const turns: Turn[] = [];
  for (const [index, item] of items.entries()) {
    if (typeof item === 'string') {
      turns.push({ role: 'user', text: item, promptText: item, images: 0 });
      continue;
    }
    if (!isRecord(item)) return invalid(`Invalid value for '${param}[${index}]'.`, param);
    // Responses input may also carry tool calls and their outputs; they are not prompt text.
    if (item.type !== undefined && item.type !== 'message') continue;
    const role = typeof item.role === 'string' ? item.role : '';
    if (role === '')
      return invalid(`Missing required parameter: '${param}[${index}].role'.`, param);
    const content = contentText(item.content);
    if (SYSTEM_ROLES.has(role)) system.push(content.promptText);
    else turns.push({ role, ...content });
  }
  return { system, turns };
}

function schemaSpec(schema: unknown, param: string): OutputSpec | ApiErrorSpec {
  if (!isRecord(schema)) return invalid(`Missing required parameter: '${param}'.`, param);
  return { kind: 'schema', schema: schema };
}

interface FunctionTool {
  readonly name: string;
  readonly parameters: JsonSchema;
}

/**
 * Picks the function the answer must call: the one `tool_choice` names, or the first function
 * when the choice is `required` or left to the model (the deterministic model always uses it).
 */
function chooseFunction(
  tools: readonly FunctionTool[],
  choice: unknown,
  choiceName: string | undefined,
  structured: boolean,
): FunctionTool | ApiErrorSpec | undefined {
  if (tools.length === 0 || choice === 'none') return undefined;
  if (choiceName !== undefined) {
    return (
      tools.find((tool) => tool.name === choiceName) ??
      invalid(`Tool choice '${choiceName}' not found in 'tools' parameter.`, 'tool_choice')
    );
  }
  if (choice === 'required') return tools[0];
  // With `auto` and a response format, a model answers in the format rather than calling a tool.
  return structured ? undefined : tools[0];
}

function toolRequest(
  base: Omit<GenerationRequest, 'spec' | 'tool'>,
  spec: OutputSpec,
  chosen: FunctionTool | ApiErrorSpec | undefined,
): GenerationRequest | ApiErrorSpec {
  if (chosen === undefined) return { ...base, spec };
  if (isError(chosen)) return chosen;
  return { ...base, spec: { kind: 'schema', schema: chosen.parameters }, tool: chosen.name };
}

function formatSpec(
  format: unknown,
  param: string,
  schemaOf: (format: Record<string, unknown>) => unknown,
): OutputSpec | ApiErrorSpec {
  if (format === undefined || format === null) return { kind: 'text' };
  if (!isRecord(format)) return invalid(`Invalid value for '${param}'.`, param);
  switch (format.type) {
    case 'json_schema':
      return schemaSpec(schemaOf(format), `${param}.schema`);
    case 'json_object':
      return { kind: 'json_object' };
    case 'text':
      return { kind: 'text' };
    default:
      return invalid(`Invalid value for '${param}.type'.`, `${param}.type`);
  }
}

function emptyObjectSchema(): JsonSchema {
  return { type: 'object', properties: {} };
}

/** `POST /v1/chat/completions`. */
export const chatCompletions: Endpoint = {
  provider: 'openai',
  parse(body) {
    const problem = commonChecks(body);
    if (problem !== undefined) return problem;
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return invalid("'messages' must contain at least one message.", 'messages');
    }
    const messages = readMessages(body.messages, 'messages');
    if (isError(messages)) return messages;
    const spec = formatSpec(body.response_format, 'response_format', (format) =>
      isRecord(format.json_schema) ? format.json_schema.schema : undefined,
    );
    if (isError(spec)) return spec;
    const tools: FunctionTool[] = [];
    for (const tool of Array.isArray(body.tools) ? body.tools : []) {
      if (!isRecord(tool) || !isRecord(tool.function)) continue;
      const fn = tool.function;
      if (typeof fn.name !== 'string') continue;
      tools.push({
        name: fn.name,
        parameters: isRecord(fn.parameters) ? fn.parameters : emptyObjectSchema(),
      });
    }
    const choice = body.tool_choice;
    const choiceName =
      isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string'
        ? choice.function.name
        : undefined;
    const base = {
      model: body.model as string,
      prompt: { system: messages.system.join('\n'), turns: messages.turns },
      body,
    };
    return toolRequest(base, spec, chooseFunction(tools, choice, choiceName, spec.kind !== 'text'));
  },
  render(request, snapshot, generated, usage) {
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: null,
      refusal: null,
      annotations: [],
    };
    let finishReason = 'stop';
    if (generated.kind === 'refusal') {
      message.refusal = generated.text;
    } else if (request.tool !== undefined) {
      message.tool_calls = [
        {
          id: newId('call_'),
          type: 'function',
          function: { name: request.tool, arguments: generated.text },
        },
      ];
      finishReason = 'tool_calls';
    } else {
      message.content = generated.text;
    }
    return {
      id: newId('chatcmpl-', 29),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: snapshot,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
      usage: {
        prompt_tokens: usage.input,
        completion_tokens: usage.output,
        total_tokens: usage.input + usage.output,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 0,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
      service_tier: 'default',
      system_fingerprint: systemFingerprint(snapshot),
    };
  },
};

/** A stable fingerprint per snapshot, so evidence records can compare it across calls. */
export function systemFingerprint(snapshot: string): string {
  let hash = 0x811c9dc5;
  for (const char of snapshot) {
    hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  }
  return `fp_${hash.toString(16).padStart(8, '0')}em`;
}

function responseOutput(request: GenerationRequest, generated: Generated): unknown[] {
  if (generated.kind !== 'refusal' && request.tool !== undefined) {
    return [
      {
        id: newId('fc_', 40),
        type: 'function_call',
        status: 'completed',
        call_id: newId('call_'),
        name: request.tool,
        arguments: generated.text,
      },
    ];
  }
  const content =
    generated.kind === 'refusal'
      ? [{ type: 'refusal', refusal: generated.text }]
      : [{ type: 'output_text', text: generated.text, annotations: [], logprobs: [] }];
  return [
    { id: newId('msg_', 40), type: 'message', status: 'completed', role: 'assistant', content },
  ];
}

/** `POST /v1/responses`. */
export const responses: Endpoint = {
  provider: 'openai',
  parse(body) {
    const problem = commonChecks(body);
    if (problem !== undefined) return problem;
    const input: unknown[] | undefined =
      typeof body.input === 'string'
        ? [body.input]
        : Array.isArray(body.input)
          ? (body.input as unknown[])
          : undefined;
    if (input === undefined) return invalid("Missing required parameter: 'input'.", 'input');
    const messages = readMessages(input, 'input');
    if (isError(messages)) return messages;
    const text = isRecord(body.text) ? body.text : {};
    const spec = formatSpec(text.format, 'text.format', (format) => format.schema);
    if (isError(spec)) return spec;
    const tools: FunctionTool[] = [];
    for (const tool of Array.isArray(body.tools) ? body.tools : []) {
      if (!isRecord(tool) || tool.type !== 'function' || typeof tool.name !== 'string') continue;
      tools.push({
        name: tool.name,
        parameters: isRecord(tool.parameters) ? tool.parameters : emptyObjectSchema(),
      });
    }
    const choice = body.tool_choice;
    const choiceName =
      isRecord(choice) && choice.type === 'function' && typeof choice.name === 'string'
        ? choice.name
        : undefined;
    const instructions = typeof body.instructions === 'string' ? [body.instructions] : [];
    const base = {
      model: body.model as string,
      prompt: { system: [...instructions, ...messages.system].join('\n'), turns: messages.turns },
      store: body.store !== false,
      body,
    };
    return toolRequest(base, spec, chooseFunction(tools, choice, choiceName, spec.kind !== 'text'));
  },
  render(request, snapshot, generated, usage: TokenUsage) {
    const { body } = request;
    const created = Math.floor(Date.now() / 1000);
    const text = isRecord(body.text) ? body.text : {};
    return {
      id: newId('resp_', 40),
      object: 'response',
      created_at: created,
      status: 'completed',
      completed_at: created,
      background: false,
      error: null,
      incomplete_details: null,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      metadata: body.metadata ?? {},
      model: snapshot,
      output: responseOutput(request, generated),
      parallel_tool_calls: body.parallel_tool_calls ?? true,
      previous_response_id: body.previous_response_id ?? null,
      reasoning: { effort: null, summary: null },
      service_tier: 'default',
      store: request.store ?? true,
      temperature: body.temperature ?? 1,
      text: { format: text.format ?? { type: 'text' }, verbosity: 'medium' },
      tool_choice: body.tool_choice ?? 'auto',
      tools: body.tools ?? [],
      top_p: body.top_p ?? 1,
      truncation: body.truncation ?? 'disabled',
      usage: {
        input_tokens: usage.input,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: usage.output,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: usage.input + usage.output,
      },
      user: body.user ?? null,
    };
  },
};
