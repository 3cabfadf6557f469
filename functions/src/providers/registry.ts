/**
 * Every LLM provider the platform can call, by name: how its adapter is built from the config
 * and how its raw response is read back (replay reads the stored response without a call).
 * Adding a provider is its adapter file, its entry here and its settings in `config.ts`.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { PROVIDERS, type Config, type ProviderName } from '../config';
import { AnthropicProvider, readAnthropicOutput } from './anthropic';
import { OpenAiProvider, readOpenAiOutput } from './openai';
import type { LlmProvider } from './provider';

interface ProviderEntry {
  create(config: Config): LlmProvider;
  /** The structured output inside a stored raw response, read as the adapter read it. */
  readOutput(raw: string): { outputText: string | null };
  /** The host its SDK calls with no base URL set; the sub-processor gate checks it is listed. */
  host: string;
}

const REGISTRY: Record<ProviderName, ProviderEntry> = {
  openai: {
    create: (config) =>
      new OpenAiProvider({
        apiKey: config.OPENAI_API_KEY,
        model: config.OPENAI_MODEL,
        timeoutMs: config.LLM_TIMEOUT_MS,
        ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
      }),
    readOutput: (raw) => readOpenAiOutput(JSON.parse(raw) as OpenAI.ChatCompletion),
    host: 'api.openai.com', // openai client.js: baseURL || `https://api.openai.com/v1`
  },
  anthropic: {
    create: (config) =>
      new AnthropicProvider({
        apiKey: config.ANTHROPIC_API_KEY,
        model: config.ANTHROPIC_MODEL,
        timeoutMs: config.LLM_TIMEOUT_MS,
        ...(config.ANTHROPIC_BASE_URL ? { baseURL: config.ANTHROPIC_BASE_URL } : {}),
      }),
    readOutput: (raw) => readAnthropicOutput(JSON.parse(raw) as Anthropic.Message),
    host: 'api.anthropic.com', // @anthropic-ai/sdk client.js: baseURL || `https://api.anthropic.com`
  },
};

function byProvider<T>(make: (name: ProviderName) => T): Record<ProviderName, T> {
  return Object.fromEntries(PROVIDERS.map((name) => [name, make(name)])) as Record<ProviderName, T>;
}

export function createProviders(config: Config): Record<ProviderName, LlmProvider> {
  return byProvider((name) => REGISTRY[name].create(config));
}

/** The structured output text of a stored raw response of `provider`. */
export function readStoredOutput(provider: ProviderName, raw: string): string | null {
  return REGISTRY[provider].readOutput(raw).outputText;
}

/** The production host of each provider, for the sub-processor gate (`subprocessors check`). */
export function providerHosts(): Record<ProviderName, string> {
  return byProvider((name) => REGISTRY[name].host);
}

/** The model alias each provider is configured with, for the provider plan's defaults. */
export function defaultModels(
  providers: Record<ProviderName, LlmProvider>,
): Record<ProviderName, string> {
  return byProvider((name) => providers[name].model);
}
