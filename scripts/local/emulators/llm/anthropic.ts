/** Anthropic's Messages API (`POST /v1/messages`) request and response shapes. */
import { contentText } from './documents';
import type { OutputSpec, Turn } from './generate';
import { type ApiErrorSpec, type Endpoint, isRecord, newId } from './protocol';
import type { JsonSchema } from './schema';

function invalid(message: string): ApiErrorSpec {
  return { kind: 'invalid_request', message };
}

interface CustomTool {
  readonly name: string;
  readonly schema: JsonSchema;
}

/**
 * The tool the answer must call: the one `tool_choice` names, or the first custom tool for `any`
 * and `auto` (the deterministic model always uses the tool it was given).
 */
function chooseTool(
  tools: readonly CustomTool[],
  choice: unknown,
): CustomTool | ApiErrorSpec | undefined {
  const type = isRecord(choice) ? choice.type : undefined;
  if (tools.length === 0 || type === 'none') return undefined;
  if (type === 'tool') {
    const name = isRecord(choice) ? choice.name : undefined;
    return (
      tools.find((tool) => tool.name === name) ??
      invalid(`tool_choice: tool '${String(name)}' was not found in tools`)
    );
  }
  return tools[0];
}

function systemText(system: unknown): string {
  if (typeof system === 'string') return system;
  return contentText(system).promptText;
}

/** `POST /v1/messages`. */
export const messages: Endpoint = {
  provider: 'anthropic',
  parse(body) {
    if (typeof body.model !== 'string' || body.model === '')
      return invalid('model: Field required');
    if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens)) {
      return invalid('max_tokens: Field required');
    }
    if (body.max_tokens < 1)
      return invalid('max_tokens: Input should be greater than or equal to 1');
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return invalid('messages: at least one message is required');
    }
    if (body.stream === true) return invalid('stream: streaming is not supported by the emulator');
    const turns: Turn[] = [];
    for (const [index, message] of body.messages.entries()) {
      if (!isRecord(message) || (message.role !== 'user' && message.role !== 'assistant')) {
        return invalid(`messages.${index}.role: Input should be 'user' or 'assistant'`);
      }
      turns.push({ role: message.role, ...contentText(message.content) });
    }
    const tools: CustomTool[] = [];
    for (const tool of Array.isArray(body.tools) ? body.tools : []) {
      // Server tools (web search, code execution, ...) have no input_schema and are not called.
      if (!isRecord(tool) || typeof tool.name !== 'string' || !isRecord(tool.input_schema))
        continue;
      tools.push({ name: tool.name, schema: tool.input_schema });
    }
    const chosen = chooseTool(tools, body.tool_choice);
    if (chosen !== undefined && !('name' in chosen)) return chosen;
    const base = { model: body.model, prompt: { system: systemText(body.system), turns }, body };
    if (chosen !== undefined) {
      return { ...base, spec: { kind: 'schema', schema: chosen.schema }, tool: chosen.name };
    }
    const format = isRecord(body.output_config) ? body.output_config.format : undefined;
    let spec: OutputSpec = { kind: 'text' };
    if (isRecord(format)) {
      if (format.type !== 'json_schema' || !isRecord(format.schema)) {
        return invalid('output_config.format: expected a json_schema format with a schema');
      }
      spec = { kind: 'schema', schema: format.schema };
    }
    return { ...base, spec };
  },
  check({ body }, model) {
    // The installed SDK's MessageCreateParams has no sampling parameter (no temperature, top_p
    // or top_k in @anthropic-ai/sdk resources/messages/messages.d.ts): the API refuses them as
    // unknown fields. Validation errors name the field first, as the API's do.
    for (const name of ['temperature', 'top_p', 'top_k'] as const) {
      if (body[name] !== undefined) return invalid(`${name}: Extra inputs are not permitted`);
    }
    const budget = body.max_tokens as number;
    if (budget > model.maxOutputTokens) {
      return invalid(
        `max_tokens: ${String(budget)} > ${String(model.maxOutputTokens)}, which is the maximum allowed number of output tokens for ${model.snapshot}`,
      );
    }
    return undefined;
  },
  outputBudget({ body }) {
    return typeof body.max_tokens === 'number' ? body.max_tokens : undefined;
  },
  render(request, snapshot, generated, usage) {
    let content: unknown[];
    let stopReason: string;
    let stopDetails: unknown = null;
    if (generated.kind === 'refusal') {
      // Anthropic refuses with an empty, successful message and says so in stop_reason.
      content = [];
      stopReason = 'refusal';
      stopDetails = { type: 'refusal', category: null, explanation: null };
    } else if (generated.truncated === true) {
      // Cut short at max_tokens. A forced tool call cut short is an incomplete tool_use block:
      // its input cannot be the answer, and the docs say to retry with a higher max_tokens
      // (https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons).
      content =
        request.tool !== undefined
          ? [{ type: 'tool_use', id: newId('toolu_01'), name: request.tool, input: {} }]
          : [{ type: 'text', text: generated.text, citations: null }];
      stopReason = 'max_tokens';
    } else if (request.tool !== undefined && !generated.malformed) {
      content = [
        { type: 'tool_use', id: newId('toolu_01'), name: request.tool, input: generated.value },
      ];
      stopReason = 'tool_use';
    } else {
      // Tool input must be an object, so a broken tool call can only surface as text.
      content = [{ type: 'text', text: generated.text, citations: null }];
      stopReason = 'end_turn';
    }
    return {
      id: newId('msg_01'),
      type: 'message',
      role: 'assistant',
      model: snapshot,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      stop_details: stopDetails,
      container: null,
      usage: {
        input_tokens: usage.input,
        output_tokens: usage.output,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
        server_tool_use: null,
        service_tier: 'standard',
      },
    };
  },
};
