/**
 * The models each emulated API serves: the dated snapshot an alias answers as (real APIs report
 * the snapshot that served a request, and evidence records must capture that), what the model
 * accepts and how much it may write, and when it is retired. The emulator refuses what the real
 * API refuses with these, so the product's adapters are held to the real contracts.
 *
 * The lists follow the installed SDKs: OpenAI's `ChatModel` union (openai
 * `resources/shared.d.ts`, the chat models with strict structured outputs) and Anthropic's
 * `Model` union (@anthropic-ai/sdk `resources/messages/messages.d.ts`), with Anthropic's
 * announced end-of-life dates from the SDK's `DEPRECATED_MODELS`
 * (`internal/data/deprecated-models.js`).
 */

/** Which API family a model belongs to. */
export type Provider = 'openai' | 'anthropic';

/** What one model is. */
export interface ModelSpec {
  /** The dated snapshot the model answers as. */
  readonly snapshot: string;
  /** The most output tokens one answer may have; a larger budget is a 400. */
  readonly maxOutputTokens: number;
  /**
   * OpenAI reasoning models (o-series, gpt-5 and later): `temperature`/`top_p` other than the
   * default 1 and the legacy `max_tokens` are refused (https://platform.openai.com/docs/guides/reasoning).
   */
  readonly reasoning: boolean;
  /** Announced end-of-life, `YYYY-MM-DD` (UTC); from that day the API answers 404. */
  readonly endOfLife?: string;
}

const spec = (
  snapshot: string,
  maxOutputTokens: number,
  extra: { reasoning?: boolean; endOfLife?: string } = {},
): ModelSpec => ({
  snapshot,
  maxOutputTokens,
  reasoning: extra.reasoning ?? false,
  ...(extra.endOfLife === undefined ? {} : { endOfLife: extra.endOfLife }),
});

const reasoning = (snapshot: string, maxOutputTokens: number): ModelSpec =>
  spec(snapshot, maxOutputTokens, { reasoning: true });

/** Alias → model, per provider. */
export const MODELS: Readonly<Record<Provider, Readonly<Record<string, ModelSpec>>>> = {
  openai: {
    'gpt-4o-mini': spec('gpt-4o-mini-2024-07-18', 16_384),
    'gpt-4o': spec('gpt-4o-2024-08-06', 16_384),
    'gpt-4o-2024-11-20': spec('gpt-4o-2024-11-20', 16_384),
    'gpt-4.1': spec('gpt-4.1-2025-04-14', 32_768),
    'gpt-4.1-mini': spec('gpt-4.1-mini-2025-04-14', 32_768),
    'gpt-4.1-nano': spec('gpt-4.1-nano-2025-04-14', 32_768),
    o1: reasoning('o1-2024-12-17', 100_000),
    o3: reasoning('o3-2025-04-16', 100_000),
    'o3-mini': reasoning('o3-mini-2025-01-31', 100_000),
    'o4-mini': reasoning('o4-mini-2025-04-16', 100_000),
    'gpt-5': reasoning('gpt-5-2025-08-07', 128_000),
    'gpt-5-mini': reasoning('gpt-5-mini-2025-08-07', 128_000),
    'gpt-5-nano': reasoning('gpt-5-nano-2025-08-07', 128_000),
    'gpt-5.1': reasoning('gpt-5.1-2025-11-13', 128_000),
    'gpt-5.1-mini': reasoning('gpt-5.1-mini', 128_000),
    'gpt-5.2': reasoning('gpt-5.2-2025-12-11', 128_000),
    'gpt-5.4': reasoning('gpt-5.4', 128_000),
    'gpt-5.4-mini': reasoning('gpt-5.4-mini-2026-03-17', 128_000),
    'gpt-5.4-nano': reasoning('gpt-5.4-nano-2026-03-17', 128_000),
    'gpt-5.5': reasoning('gpt-5.5-2026-04-23', 128_000),
    'gpt-5.6-sol': reasoning('gpt-5.6-sol', 128_000),
    'gpt-5.6-terra': reasoning('gpt-5.6-terra', 128_000),
    'gpt-5.6-luna': reasoning('gpt-5.6-luna', 128_000),
    'gpt-6-sol': reasoning('gpt-6-sol', 128_000),
    'gpt-6-luna': reasoning('gpt-6-luna', 128_000),
    'gpt-6-astra': reasoning('gpt-6-astra', 128_000),
    'gpt-6.1-sol': reasoning('gpt-6.1-sol', 128_000),
    'gpt-6.1-terra': reasoning('gpt-6.1-terra', 128_000),
  },
  anthropic: {
    'claude-haiku-4-5': spec('claude-haiku-4-5-20251001', 64_000),
    'claude-sonnet-4-5': spec('claude-sonnet-4-5-20250929', 64_000, { endOfLife: '2026-11-30' }),
    'claude-opus-4-5': spec('claude-opus-4-5-20251101', 64_000, { endOfLife: '2027-01-22' }),
    // From the 4.6 generation on, Anthropic's model IDs carry no date and are themselves pinned.
    'claude-sonnet-4-6': spec('claude-sonnet-4-6', 64_000),
    'claude-opus-4-6': spec('claude-opus-4-6', 128_000),
    'claude-opus-4-7': spec('claude-opus-4-7', 128_000),
    'claude-opus-4-8': spec('claude-opus-4-8', 128_000),
    'claude-mythos-preview': spec('claude-mythos-preview', 128_000, { endOfLife: '2026-06-30' }),
    'claude-sonnet-5': spec('claude-sonnet-5', 64_000),
    'claude-sonnet-5-5': spec('claude-sonnet-5-5', 64_000),
    'claude-haiku-5-5': spec('claude-haiku-5-5', 64_000),
    'claude-opus-5': spec('claude-opus-5', 128_000),
    'claude-opus-5-5': spec('claude-opus-5-5', 128_000),
    'claude-fable-5': spec('claude-fable-5', 128_000),
    'claude-fable-5-1': spec('claude-fable-5-1', 128_000),
    'claude-fable-5-2': spec('claude-fable-5-2', 128_000),
    'claude-mythos-5': spec('claude-mythos-5', 128_000),
    'claude-mythos-5-1': spec('claude-mythos-5-1', 128_000),
    'claude-mythos-5-2': spec('claude-mythos-5-2', 128_000),
  },
};

/** Alias → dated snapshot, per provider (every model, retired ones included). */
export const MODEL_SNAPSHOTS: Readonly<Record<Provider, Readonly<Record<string, string>>>> = {
  openai: Object.fromEntries(Object.entries(MODELS.openai).map(([a, m]) => [a, m.snapshot])),
  anthropic: Object.fromEntries(Object.entries(MODELS.anthropic).map(([a, m]) => [a, m.snapshot])),
};

const DATE_SUFFIX: Readonly<Record<Provider, RegExp>> = {
  openai: /-\d{4}-\d{2}-\d{2}$/,
  anthropic: /-\d{8}$/,
};

/** Whether `model` is retired at `now`: from its end-of-life day on. */
export function isRetired(model: ModelSpec, now: Date = new Date()): boolean {
  return (
    model.endOfLife !== undefined && now.getTime() >= Date.parse(`${model.endOfLife}T00:00:00Z`)
  );
}

/**
 * The model a requested name is, or undefined when the API would answer 404: a known alias, a
 * known snapshot, or a dated name of a known alias (echoed as its own snapshot). A retired
 * model is gone: the API answers it as it answers a name it never had.
 */
export function findModel(
  provider: Provider,
  requested: string,
  now: Date = new Date(),
): ModelSpec | undefined {
  const table = MODELS[provider];
  let found: ModelSpec | undefined = Object.hasOwn(table, requested) ? table[requested] : undefined;
  found ??= Object.values(table).find((model) => model.snapshot === requested);
  if (found === undefined && DATE_SUFFIX[provider].test(requested)) {
    const alias = requested.replace(DATE_SUFFIX[provider], '');
    const base = Object.hasOwn(table, alias) ? table[alias] : undefined;
    if (base !== undefined) found = { ...base, snapshot: requested };
  }
  return found === undefined || isRetired(found, now) ? undefined : found;
}

/** The snapshot a requested model name answers as, or undefined when the API would answer 404. */
export function resolveModel(provider: Provider, requested: string): string | undefined {
  return findModel(provider, requested)?.snapshot;
}

/** Every alias and snapshot a provider's `GET /v1/models` lists (retired ones not), sorted. */
export function listModels(provider: Provider, now: Date = new Date()): string[] {
  const live = Object.entries(MODELS[provider]).filter(([, model]) => !isRetired(model, now));
  return [...new Set(live.flatMap(([alias, model]) => [alias, model.snapshot]))].sort();
}
