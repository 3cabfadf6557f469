/**
 * Model aliases and the dated snapshots they answer as. Real APIs report the snapshot that served
 * a request, and evidence records must capture that, so the emulator does the same.
 */

/** Which API family a model belongs to. */
export type Provider = 'openai' | 'anthropic';

/** Alias → dated snapshot, per provider. */
export const MODEL_SNAPSHOTS: Readonly<Record<Provider, Readonly<Record<string, string>>>> = {
  openai: {
    'gpt-4o-mini': 'gpt-4o-mini-2024-07-18',
    'gpt-4o': 'gpt-4o-2024-08-06',
    'gpt-4.1': 'gpt-4.1-2025-04-14',
    'gpt-4.1-mini': 'gpt-4.1-mini-2025-04-14',
    'gpt-4.1-nano': 'gpt-4.1-nano-2025-04-14',
    'o4-mini': 'o4-mini-2025-04-16',
    'gpt-5': 'gpt-5-2025-08-07',
    'gpt-5-mini': 'gpt-5-mini-2025-08-07',
    'gpt-5-nano': 'gpt-5-nano-2025-08-07',
  },
  anthropic: {
    'claude-sonnet-4-5': 'claude-sonnet-4-5-20250929',
    'claude-haiku-4-5': 'claude-haiku-4-5-20251001',
    'claude-opus-4-5': 'claude-opus-4-5-20251101',
    'claude-opus-4-1': 'claude-opus-4-1-20250805',
    'claude-sonnet-4-0': 'claude-sonnet-4-20250514',
    'claude-3-5-haiku-latest': 'claude-3-5-haiku-20241022',
    // From the 4.6 generation on, Anthropic's model IDs carry no date and are themselves pinned.
    'claude-sonnet-4-6': 'claude-sonnet-4-6',
    'claude-opus-4-6': 'claude-opus-4-6',
    'claude-opus-4-7': 'claude-opus-4-7',
    'claude-opus-4-8': 'claude-opus-4-8',
    'claude-sonnet-5': 'claude-sonnet-5',
    'claude-opus-5': 'claude-opus-5',
  },
};

const DATED: Readonly<Record<Provider, RegExp>> = {
  openai: /^(?:gpt-|o\d|chatgpt-).*-\d{4}-\d{2}-\d{2}$/,
  anthropic: /^claude-.*-\d{8}$/,
};

/**
 * The snapshot a requested model name answers as: a known alias maps through the table, a name
 * that already carries its provider's date suffix is echoed, anything else is unknown.
 */
export function resolveModel(provider: Provider, requested: string): string | undefined {
  const table = MODEL_SNAPSHOTS[provider];
  if (Object.hasOwn(table, requested)) return table[requested];
  return DATED[provider].test(requested) ? requested : undefined;
}

/** Every alias and snapshot a provider's `GET /v1/models` lists, sorted. */
export function listModels(provider: Provider): string[] {
  const table = MODEL_SNAPSHOTS[provider];
  return [...new Set([...Object.keys(table), ...Object.values(table)])].sort();
}
