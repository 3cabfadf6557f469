/**
 * Every LLM provider the platform can call, by name: how its adapter is built from the config,
 * which models it knows and retires, how its raw response is read back (replay reads the
 * stored response without a call) and what its failures mean. Adding a provider is its adapter
 * file, its entry here, its settings in `config.ts` and its entry in
 * `subprocessors/registry.yaml`.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { ConfigError, PROVIDERS, type Config, type ProviderName } from '../config';
import {
  ANTHROPIC_MODEL_FAMILIES,
  ANTHROPIC_RETIREMENTS,
  AnthropicProvider,
  classifyAnthropicError,
  readAnthropicOutput,
} from './anthropic';
import {
  classifyOpenAiError,
  OPENAI_MODEL_FAMILIES,
  OPENAI_RETIREMENTS,
  OpenAiProvider,
  readOpenAiOutput,
} from './openai';
import {
  type ClassifiedFailure,
  type LlmProvider,
  type ModelFamily,
  modelProblem,
  type Retirement,
} from './provider';

interface ProviderEntry {
  create(config: Config): LlmProvider;
  /** The config variable naming the platform's default model, and its value. */
  configuredModel(config: Config): { variable: string; model: string };
  families: readonly ModelFamily[];
  retirements: Readonly<Record<string, Retirement>>;
  /** The structured output inside a stored raw response, read as the adapter read it. */
  readOutput(raw: string): { outputText: string | null };
  /** What a failed call means, or undefined when the error is not this provider's. */
  classifyError(err: unknown, now: number): ClassifiedFailure | undefined;
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
    configuredModel: (config) => ({ variable: 'OPENAI_MODEL', model: config.OPENAI_MODEL }),
    families: OPENAI_MODEL_FAMILIES,
    retirements: OPENAI_RETIREMENTS,
    readOutput: (raw) => readOpenAiOutput(JSON.parse(raw) as OpenAI.ChatCompletion),
    classifyError: classifyOpenAiError,
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
    configuredModel: (config) => ({ variable: 'ANTHROPIC_MODEL', model: config.ANTHROPIC_MODEL }),
    families: ANTHROPIC_MODEL_FAMILIES,
    retirements: ANTHROPIC_RETIREMENTS,
    readOutput: (raw) => readAnthropicOutput(JSON.parse(raw) as Anthropic.Message),
    classifyError: classifyAnthropicError,
    host: 'api.anthropic.com', // @anthropic-ai/sdk client.js: baseURL || `https://api.anthropic.com`
  },
};

function byProvider<T>(make: (name: ProviderName) => T): Record<ProviderName, T> {
  return Object.fromEntries(PROVIDERS.map((name) => [name, make(name)])) as Record<ProviderName, T>;
}

/**
 * Every configured default model that cannot be used at `now`, named by its variable: one past
 * its announced end-of-life (with its successor), or one no capability table knows.
 */
export function configuredModelProblems(config: Config, now: Date = new Date()): string[] {
  return PROVIDERS.flatMap((name) => {
    const entry = REGISTRY[name];
    const { variable, model } = entry.configuredModel(config);
    const problem = modelProblem(model, entry.families, entry.retirements, now);
    return problem ? [`${variable}: ${problem}`] : [];
  });
}

/**
 * The adapters of every provider. A configured model past its end-of-life or unknown is refused
 * here, at cold start, with a ConfigError naming the variable and the successor.
 */
export function createProviders(
  config: Config,
  now: Date = new Date(),
): Record<ProviderName, LlmProvider> {
  const problems = configuredModelProblems(config, now);
  if (problems.length > 0) throw new ConfigError(problems);
  return byProvider((name) => REGISTRY[name].create(config));
}

/** Why a tenant's chosen model cannot be called at `now`, or undefined when it can. */
export function tenantModelProblem(
  provider: ProviderName,
  model: string,
  now: Date = new Date(),
): string | undefined {
  const entry = REGISTRY[provider];
  return modelProblem(model, entry.families, entry.retirements, now);
}

/** The structured output text of a stored raw response of `provider`. */
export function readStoredOutput(provider: ProviderName, raw: string): string | null {
  return REGISTRY[provider].readOutput(raw).outputText;
}

/**
 * What a failed provider call means, asked of every provider in turn (each recognises only its
 * own SDK's errors); undefined when it is no provider's failure at all.
 */
export function classifyProviderFailure(
  err: unknown,
  now: number = Date.now(),
): ClassifiedFailure | undefined {
  for (const name of PROVIDERS) {
    const failure = REGISTRY[name].classifyError(err, now);
    if (failure) return failure;
  }
  return undefined;
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
