/**
 * Injected failures: what they are, the queue that scopes them to matching requests, and the
 * corrupted payloads the "200 but wrong" faults answer with.
 */
import { type JsonSchema, resolveSchema, validateBySchema } from './schema';

/** A failure the emulator can inject into one request. */
export type Fault =
  | { readonly kind: 'latency'; readonly ms: number }
  | { readonly kind: 'rate_limit'; readonly seconds: number }
  | { readonly kind: 'insufficient_quota' }
  | { readonly kind: 'server_error' }
  | { readonly kind: 'overloaded' }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'malformed_json' }
  | { readonly kind: 'schema_violation' }
  | { readonly kind: 'refusal' };

/** The fault names accepted by `POST /admin/faults` and the `x-emulator-fault` header. */
export type FaultKind = Fault['kind'];

const SIMPLE_FAULTS = new Set<FaultKind>([
  'insufficient_quota',
  'server_error',
  'overloaded',
  'timeout',
  'malformed_json',
  'schema_violation',
  'refusal',
]);

/**
 * Parses `latency:<ms>`, `rate_limit:<seconds>` (default 1 s) or a bare fault name; `undefined`
 * when the spec names no known fault.
 */
export function parseFault(spec: string): Fault | undefined {
  const [name = '', argument] = spec.trim().split(':', 2);
  const number = argument === undefined ? undefined : Number(argument);
  if (number !== undefined && !(Number.isFinite(number) && number >= 0)) return undefined;
  switch (name) {
    case 'latency':
      return number === undefined ? undefined : { kind: 'latency', ms: number };
    case 'rate_limit':
      return { kind: 'rate_limit', seconds: number ?? 1 };
    default: {
      const kind = SIMPLE_FAULTS.has(name as FaultKind) ? (name as FaultKind) : undefined;
      if (kind === undefined || argument !== undefined) return undefined;
      return { kind } as Fault;
    }
  }
}

/** A queued fault as `GET /admin/faults` reports it. */
export interface QueuedFault {
  readonly fault: string;
  remaining: number;
  readonly match: string | undefined;
}

/**
 * Faults waiting for requests. Each applies to the next `times` requests whose raw body contains
 * its `match` text, so tests running side by side can each target only their own requests.
 */
export class FaultQueue {
  readonly #queued: QueuedFault[] = [];

  /** Queues `spec` for the next `times` matching requests. */
  add(spec: string, times: number, match: string | undefined): void {
    this.#queued.push({ fault: spec, remaining: times, match });
  }

  /** Takes the first queued fault matching `rawBody`, spending one of its uses. */
  take(rawBody: string): Fault | undefined {
    const index = this.#queued.findIndex(
      (queued) => queued.match === undefined || rawBody.includes(queued.match),
    );
    const queued = this.#queued[index];
    if (queued === undefined) return undefined;
    queued.remaining -= 1;
    if (queued.remaining <= 0) this.#queued.splice(index, 1);
    return parseFault(queued.fault);
  }

  /** The faults still waiting, oldest first. */
  list(): QueuedFault[] {
    return this.#queued.map((queued) => ({ ...queued }));
  }

  clear(): void {
    this.#queued.length = 0;
  }
}

/**
 * Cuts valid JSON text short so that it no longer parses, as a model stopped mid-answer would.
 */
export function truncateJson(text: string): string {
  const cut = text.slice(0, Math.max(1, Math.ceil(text.length / 2)));
  try {
    JSON.parse(cut);
  } catch {
    return cut;
  }
  // A short scalar can stay valid when halved; a dangling comma never is.
  return `${cut},`;
}

const WRONG_VALUES: readonly unknown[] = [12345, 'not-a-valid-value', true, [], {}, null];

function wrongValue(schema: JsonSchema, root: JsonSchema): unknown {
  return WRONG_VALUES.find((value) => validateBySchema(value, schema, root).length > 0) ?? 12345;
}

/**
 * Returns a copy of a valid output that still parses but breaks its schema: the first required
 * property is dropped and the next one gets a value of the wrong type (an object with no required
 * properties is replaced by a value of the wrong type).
 */
export function violateSchema(value: unknown, schema: JsonSchema): unknown {
  const resolved = resolveSchema(schema, schema);
  if (resolved.type !== 'object' || typeof value !== 'object' || value === null) {
    return wrongValue(schema, schema);
  }
  const properties = resolved.schema.properties ?? {};
  const required = resolved.schema.required ?? Object.keys(properties);
  const [dropped, retyped] = required;
  // Nothing is required, so only a wrong type at the root is certain to break the schema.
  if (dropped === undefined) return wrongValue(schema, schema);
  const entries = Object.entries(value as Record<string, unknown>);
  if (retyped === undefined) {
    return {
      ...Object.fromEntries(entries),
      [dropped]: wrongValue(properties[dropped] ?? {}, schema),
    };
  }
  const kept = Object.fromEntries(entries.filter(([key]) => key !== dropped));
  return { ...kept, [retyped]: wrongValue(properties[retyped] ?? {}, schema) };
}
