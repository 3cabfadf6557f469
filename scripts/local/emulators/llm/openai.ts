/**
 * OpenAI's Chat Completions (`POST /v1/chat/completions`) and Responses (`POST /v1/responses`)
 * request and response shapes.
 */
import { contentText } from './documents';
import type { Generated, OutputSpec, Turn } from './generate';
import type { ModelSpec } from './models';
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

function unsupported(message: string, param: string, code: string): ApiErrorSpec {
  return { kind: 'invalid_request', message, param, code };
}

/** A number parameter as sent: absent (or null), a number, or a type error. */
function numberParam(
  body: Record<string, unknown>,
  name: string,
): number | undefined | ApiErrorSpec {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return unsupported(
      `Invalid type for '${name}': expected a number, but got ${typeof value} instead.`,
      name,
      'invalid_type',
    );
  }
  return value;
}

/**
 * Sampling parameters. Reasoning models take only the default 1 for `temperature` and `top_p`:
 * Chat Completions answers any other value with 400 `unsupported_value` ("Only the default (1)
 * value is supported"), the Responses API refuses the parameter itself (`unsupported_parameter`).
 */
function samplingChecks(
  body: Record<string, unknown>,
  model: ModelSpec,
  endpoint: 'chat' | 'responses',
): ApiErrorSpec | undefined {
  for (const [name, max] of [
    ['temperature', 2],
    ['top_p', 1],
  ] as const) {
    const value = numberParam(body, name);
    if (value === undefined) continue;
    if (typeof value !== 'number') return value;
    if (model.reasoning && endpoint === 'responses') {
      return unsupported(
        `Unsupported parameter: '${name}' is not supported with this model.`,
        name,
        'unsupported_parameter',
      );
    }
    if (model.reasoning && value !== 1) {
      return unsupported(
        `Unsupported value: '${name}' does not support ${String(value)} with this model. Only the default (1) value is supported.`,
        name,
        'unsupported_value',
      );
    }
    if (value < 0 || value > max) {
      return unsupported(
        `Invalid '${name}': decimal ${value < 0 ? 'below minimum' : 'above maximum'} value. Expected a value ${value < 0 ? '>= 0' : `<= ${String(max)}`}, but got ${String(value)} instead.`,
        name,
        value < 0 ? 'decimal_below_min_value' : 'decimal_above_max_value',
      );
    }
  }
  return undefined;
}

/** An output budget over the model's limit, in the words Chat Completions uses for it. */
function budgetCheck(
  budget: number | undefined,
  param: string,
  model: ModelSpec,
  minimum: number,
): ApiErrorSpec | undefined {
  if (budget === undefined) return undefined;
  if (!Number.isInteger(budget) || budget < minimum) {
    return unsupported(
      `Invalid '${param}': integer below minimum value. Expected a value >= ${String(minimum)}, but got ${String(budget)} instead.`,
      param,
      'integer_below_min_value',
    );
  }
  if (budget > model.maxOutputTokens) {
    return unsupported(
      `max_tokens is too large: ${String(budget)}. This model supports at most ${String(model.maxOutputTokens)} completion tokens, whereas you provided ${String(budget)}.`,
      param,
      'invalid_value',
    );
  }
  return undefined;
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
  check({ body }, model) {
    const sampling = samplingChecks(body, model, 'chat');
    if (sampling !== undefined) return sampling;
    const legacy = numberParam(body, 'max_tokens');
    if (legacy !== undefined && typeof legacy !== 'number') return legacy;
    // "max_tokens … is not compatible with o-series models" (openai
    // resources/chat/completions/completions.d.ts): the API names the field to use instead.
    if (legacy !== undefined && model.reasoning) {
      return unsupported(
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        'max_tokens',
        'unsupported_parameter',
      );
    }
    const current = numberParam(body, 'max_completion_tokens');
    if (current !== undefined && typeof current !== 'number') return current;
    return (
      budgetCheck(legacy, 'max_tokens', model, 1) ??
      budgetCheck(current, 'max_completion_tokens', model, 1)
    );
  },
  outputBudget({ body }) {
    const budget = body.max_completion_tokens ?? body.max_tokens;
    return typeof budget === 'number' ? budget : undefined;
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
    // Cut short at the output budget: whatever was written, and `length` as the reason
    // (https://platform.openai.com/docs/api-reference/chat/object).
    if (generated.truncated === true) finishReason = 'length';
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
  check({ body }, model) {
    const sampling = samplingChecks(body, model, 'responses');
    if (sampling !== undefined) return sampling;
    const budget = numberParam(body, 'max_output_tokens');
    if (budget !== undefined && typeof budget !== 'number') return budget;
    return budgetCheck(budget, 'max_output_tokens', model, 16);
  },
  outputBudget({ body }) {
    return typeof body.max_output_tokens === 'number' ? body.max_output_tokens : undefined;
  },
  render(request, snapshot, generated, usage: TokenUsage) {
    const { body } = request;
    const created = Math.floor(Date.now() / 1000);
    const text = isRecord(body.text) ? body.text : {};
    return {
      id: newId('resp_', 40),
      object: 'response',
      created_at: created,
      // Cut short at `max_output_tokens`: an incomplete response that says why.
      status: generated.truncated === true ? 'incomplete' : 'completed',
      completed_at: generated.truncated === true ? null : created,
      background: false,
      error: null,
      incomplete_details: generated.truncated === true ? { reason: 'max_output_tokens' } : null,
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
