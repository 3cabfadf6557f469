/**
 * The provider-neutral core of a model call: a prompt in, a deterministic answer out, with the
 * content faults (malformed JSON, schema violation, refusal) applied, and deterministic token
 * counts.
 */
import { extractBySchema, extractLabelledObject, readLabelledLines } from './extract';
import { type Fault, truncateJson, violateSchema } from './faults';
import type { JsonSchema } from './schema';

/** One message of the conversation, already reduced to text. */
export interface Turn {
  readonly role: string;
  /** Everything readable in the message, image text included. */
  readonly text: string;
  /** Only the typed text, for token counting. */
  readonly promptText: string;
  readonly images: number;
}

/** A request reduced to what the deterministic model reads. */
export interface Prompt {
  /** System prompt / instructions, all blocks joined. */
  readonly system: string;
  readonly turns: readonly Turn[];
}

/** The shape the caller asked the answer to take. */
export type OutputSpec =
  | { readonly kind: 'schema'; readonly schema: JsonSchema }
  | { readonly kind: 'json_object' }
  | { readonly kind: 'text' };

/** A deterministic answer. */
export interface Generated {
  /** `refusal` when the refusal fault fired; the text then is the refusal message. */
  readonly kind: 'output' | 'refusal';
  /** The answer text: JSON text for structured outputs (possibly truncated by a fault). */
  readonly text: string;
  /** The structured value, when the answer is JSON that parses. */
  readonly value?: unknown;
  /** Whether the malformed_json fault cut the JSON short. */
  readonly malformed: boolean;
  /** Whether the answer was cut short at the request's output budget. */
  readonly truncated?: boolean;
}

/**
 * The answer as a model with `budget` output tokens writes it: unchanged when it fits, else its
 * first `budget` tokens ({@link countTokens}: four bytes each), no longer a complete answer.
 */
export function limitOutput(generated: Generated, budget: number): Generated {
  if (generated.kind === 'refusal' || countTokens(generated.text) <= budget) return generated;
  const text = Buffer.from(generated.text, 'utf8')
    .subarray(0, budget * 4)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return { kind: 'output', text, malformed: true, truncated: true };
}

/** What the refusal fault makes the model say. */
export const REFUSAL_TEXT = "I'm sorry, but I can't help with that request.";

// A flat per-image charge, like the providers' low-detail image rate, keeps counts deterministic.
const TOKENS_PER_IMAGE = 85;

/** Deterministic token count: a quarter of the UTF-8 bytes, rounded up. */
export function countTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
}

/**
 * Input tokens of a prompt: {@link countTokens} of the system text and every message's typed text
 * joined by newlines, plus a flat charge per image. Schemas and tool definitions are not billed.
 */
export function countInputTokens(prompt: Prompt): number {
  const text = [prompt.system, ...prompt.turns.map((turn) => turn.promptText)]
    .filter((part) => part !== '')
    .join('\n');
  const images = prompt.turns.reduce((sum, turn) => sum + turn.images, 0);
  return countTokens(text) + images * TOKENS_PER_IMAGE;
}

/** The document the model works on: the content of the last user message. */
export function documentOf(prompt: Prompt): string {
  for (let index = prompt.turns.length - 1; index >= 0; index -= 1) {
    const turn = prompt.turns[index];
    if (turn?.role === 'user') return turn.text;
  }
  return '';
}

function plainAnswer(document: string): string {
  const lines = readLabelledLines(document).map(({ label, value }) => `${label}: ${value}`);
  return lines.length > 0 ? lines.join('\n') : 'The document contains no labelled fields.';
}

/** Answers `prompt` in the requested shape, applying a content fault if one fired. */
export function generate(prompt: Prompt, spec: OutputSpec, fault: Fault | undefined): Generated {
  if (fault?.kind === 'refusal') return { kind: 'refusal', text: REFUSAL_TEXT, malformed: false };
  const document = documentOf(prompt);
  if (spec.kind === 'text') {
    const text = plainAnswer(document);
    return fault?.kind === 'malformed_json'
      ? { kind: 'output', text: text.slice(0, Math.ceil(text.length / 2)), malformed: true }
      : { kind: 'output', text, malformed: false };
  }
  const schema: JsonSchema = spec.kind === 'schema' ? spec.schema : { type: 'object' };
  let value =
    spec.kind === 'schema' ? extractBySchema(document, schema) : extractLabelledObject(document);
  if (fault?.kind === 'schema_violation') value = violateSchema(value, schema);
  const text = JSON.stringify(value);
  if (fault?.kind === 'malformed_json') {
    return { kind: 'output', text: truncateJson(text), malformed: true };
  }
  return { kind: 'output', text, value, malformed: false };
}
