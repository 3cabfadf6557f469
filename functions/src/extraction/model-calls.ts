/**
 * Calling the tenant's models for one extraction: each provider of the plan in turn, each with
 * jittered retries that respect `retry-after`, until one answers output that post-processes.
 * Every attempt is kept for the evidence record (or, on failure, for the failed extraction).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProviderName } from '../config';
import { log } from '../logging';
import type { LlmProvider, ProviderRequest, ProviderResponse } from '../providers/provider';
import { defaultModels, tenantModelProblem } from '../providers/registry';
import type { Services } from '../services';
import {
  runtimeRegistry,
  type SubprocessorNotActiveError,
  type SubprocessorRegistry,
} from '../subprocessors/registry';
import type { TenantProfile } from '../tenancy/platform';
import { backoffDelayMs, type BackoffPolicy } from '../util/backoff';
import type { runSteps } from './postprocess/registry';
import { InvalidModelOutputError } from './postprocess/types';
import { classifyProviderError, RETRYABLE_OUTCOMES, type AttemptOutcome } from './retry';

type Outcome = AttemptOutcome;

export interface Attempt {
  provider: string;
  model: string;
  outcome: Outcome;
  latencyMs: number;
  providerRequestId: string | null;
  /** The commitment to the exact request sent (`LlmProvider.requestSha256`). */
  requestSha256?: string;
  /** The output budget the attempt asked for. */
  maxOutputTokens?: number;
}

/** A failure that retrying the message cannot fix: the extraction ends as `failed`. */
export class TerminalExtractionError extends Error {
  override readonly name = 'TerminalExtractionError';
  constructor(
    readonly code: string,
    message: string,
    /** The provider attempts made before giving up, kept on the failed extraction. */
    readonly attempts: readonly Attempt[] = [],
  ) {
    super(message);
  }
}

/** One provider and model alias, in the order they are tried. */
export interface ProviderStep {
  provider: ProviderName;
  model: string;
}

/**
 * The provider order for one request: the schema's override when the tenant has one, else the
 * tenant's own choice; the fallback only when the tenant allows failover. Model aliases come
 * from the override, then the tenant, then the platform's configured default.
 */
export function providerPlan(
  tenant: Pick<TenantProfile, 'providers'>,
  schemaName: string,
  defaults: Record<ProviderName, string>,
): ProviderStep[] {
  const choice = tenant.providers.bySchema?.[schemaName] ?? tenant.providers;
  const models = { ...tenant.providers.models, ...choice.models };
  const names =
    choice.fallback && choice.fallback !== choice.primary
      ? [choice.primary, choice.fallback]
      : [choice.primary];
  return names.map((provider) => ({ provider, model: models[provider] ?? defaults[provider] }));
}

/** What every provider is asked, whichever model answers it. */
export interface ModelRequest {
  system: string;
  documentText: string;
  image?: ProviderRequest['image'];
  /** The document's salted commitment, standing in for it in each attempt's request commitment. */
  documentCommitment: string;
  schemaName: string;
  jsonSchema: Record<string, unknown>;
}

type PostProcessed = ReturnType<typeof runSteps>;

export interface Completion {
  response: ProviderResponse;
  provider: LlmProvider;
  attempts: Attempt[];
  result: PostProcessed;
  latencyMs: number;
}

/** One attempt in progress: which provider step, when it started, and the attempts so far. */
interface AttemptContext {
  step: ProviderStep;
  started: number;
  attempts: Attempt[];
  ids: { tenantId: string; extractionId: string };
  /** What the attempt sent: the request commitment and the output budget. */
  sent: { requestSha256: string; maxOutputTokens: number };
}

/** The terminal code when every attempt failed, by the last attempt's outcome. */
const FAILURE_CODES: Partial<Record<Outcome, string>> = {
  invalid_output: 'invalid_model_output',
  truncated: 'output_truncated',
  quota_exhausted: 'provider_quota_exhausted',
};

/**
 * The larger budget after an answer was cut short at `budget`: four times as much within the
 * model's limit, or undefined when the model has no more to give.
 */
export function largerOutputBudget(budget: number, modelLimit: number): number | undefined {
  const larger = Math.min(budget * 4, modelLimit);
  return larger > budget ? larger : undefined;
}

export async function callModels(
  services: Services,
  tenant: TenantProfile,
  request: ModelRequest,
  postprocess: (raw: string) => PostProcessed,
  ids: { tenantId: string; extractionId: string },
  registry: SubprocessorRegistry = runtimeRegistry(),
): Promise<Completion> {
  const { config } = services;
  const plan = providerPlan(tenant, request.schemaName, defaultModels(services.providers));
  const policy: BackoffPolicy = {
    baseMs: config.LLM_RETRY_BASE_MS,
    maxMs: config.LLM_RETRY_MAX_BACKOFF_MS,
    retryAfterCapMs: config.LLM_RETRY_AFTER_CAP_MS,
  };
  const attempts: Attempt[] = [];
  let lastOutcome: Outcome = 'error';
  let refused: SubprocessorNotActiveError | undefined;
  for (const step of plan) {
    // A vendor not in force today (docs/subprocessors.md) is never sent the document.
    const refusal = registry.refusal(step.provider, new Date());
    if (refusal) {
      refused ??= refusal;
      log('subprocessor_refused', {
        ...ids,
        provider: step.provider,
        status: refusal.registryStatus,
      });
      continue;
    }
    const provider = services.providers[step.provider];
    const capabilities = provider.capabilities(step.model);
    const problem = tenantModelProblem(step.provider, step.model);
    if (!capabilities || problem !== undefined) {
      // A tenant's model we cannot shape a request for (unknown, or retired): nothing is sent.
      attempts.push({
        provider: step.provider,
        model: step.model,
        outcome: 'error',
        latencyMs: 0,
        providerRequestId: null,
      });
      log('provider_attempt_failed', {
        ...ids,
        provider: step.provider,
        outcome: 'error',
        attempt: attempts.length,
        reason: 'model_unusable',
      });
      lastOutcome = 'error';
      continue;
    }
    let budget = Math.min(config.LLM_MAX_OUTPUT_TOKENS, capabilities.maxOutputTokens);
    let raisedBudget = false;
    let retries = 0;
    for (;;) {
      const providerRequest: ProviderRequest = {
        ...request,
        model: step.model,
        maxOutputTokens: budget,
      };
      const sent = {
        requestSha256: provider.requestSha256(providerRequest),
        maxOutputTokens: budget,
      };
      const context: AttemptContext = { step, started: Date.now(), attempts, ids, sent };
      let response: ProviderResponse | undefined;
      try {
        response = await provider.complete(providerRequest);
        if (response.truncated) {
          recordTruncation(response, context);
          lastOutcome = 'truncated';
          const larger = raisedBudget
            ? undefined
            : largerOutputBudget(budget, capabilities.maxOutputTokens);
          if (larger === undefined) break;
          budget = larger;
          raisedBudget = true;
          continue;
        }
        const { result, latencyMs } = acceptResponse(response, postprocess, context);
        return { response, provider, attempts, result, latencyMs };
      } catch (err) {
        const retriesLeft = retries < config.LLM_MAX_RETRIES;
        const failure = recordFailure(err, response, context, {
          attempt: retries,
          retriesLeft,
          policy,
        });
        lastOutcome = failure.outcome;
        if (failure.waitMs === undefined) break;
        retries += 1;
        await sleep(failure.waitMs);
      }
    }
  }
  if (refused && attempts.length === 0) {
    throw new TerminalExtractionError(refused.code, refused.message);
  }
  const code = FAILURE_CODES[lastOutcome] ?? 'provider_unavailable';
  throw new TerminalExtractionError(
    code,
    `extraction failed after ${String(attempts.length)} attempt(s)`,
    attempts,
  );
}

/** An answer cut short at its output budget, recorded as a `truncated` attempt. */
function recordTruncation(
  response: ProviderResponse,
  { step, started, attempts, ids, sent }: AttemptContext,
): void {
  attempts.push({
    provider: step.provider,
    model: step.model,
    outcome: 'truncated',
    latencyMs: Date.now() - started,
    providerRequestId: response.providerRequestId,
    ...sent,
  });
  log('provider_attempt_failed', {
    ...ids,
    provider: step.provider,
    outcome: 'truncated',
    attempt: attempts.length,
    maxOutputTokens: sent.maxOutputTokens,
  });
}

/**
 * A provider's answer post-processed, recorded as an `ok` attempt. Throws on no output: a
 * refusal ends the extraction, anything else is invalid output (retried).
 */
function acceptResponse(
  response: ProviderResponse,
  postprocess: (raw: string) => PostProcessed,
  { step, started, attempts, ids, sent }: AttemptContext,
): { result: PostProcessed; latencyMs: number } {
  if (response.outputText === null) {
    if (response.refusal !== null) {
      // A refusal is the model's answer, not a fault: no retry, no failover.
      attempts.push({
        provider: step.provider,
        model: step.model,
        outcome: 'refused',
        latencyMs: Date.now() - started,
        providerRequestId: response.providerRequestId,
        ...sent,
      });
      log('provider_attempt_failed', {
        ...ids,
        provider: step.provider,
        outcome: 'refused',
        attempt: attempts.length,
      });
      throw new TerminalExtractionError('model_refused', 'the model refused', attempts);
    }
    throw new InvalidModelOutputError('model returned no structured output');
  }
  const result = postprocess(response.outputText);
  const latencyMs = Date.now() - started;
  attempts.push({
    provider: step.provider,
    model: step.model,
    outcome: 'ok',
    latencyMs,
    providerRequestId: response.providerRequestId,
    ...sent,
  });
  return { result, latencyMs };
}

/**
 * Records and logs a failed attempt: its outcome, and the wait before retrying the same
 * provider (undefined: move on to the next one). Rethrows a terminal error, and any error that
 * is not a provider failure at all.
 */
function recordFailure(
  err: unknown,
  response: ProviderResponse | undefined,
  { step, started, attempts, ids, sent }: AttemptContext,
  retry: { attempt: number; retriesLeft: boolean; policy: BackoffPolicy },
): { outcome: Outcome; waitMs: number | undefined } {
  if (err instanceof TerminalExtractionError) throw err;
  const failure = classifyProviderError(err);
  if (!failure) throw err;
  attempts.push({
    provider: step.provider,
    model: step.model,
    outcome: failure.outcome,
    latencyMs: Date.now() - started,
    providerRequestId: response?.providerRequestId ?? failure.providerRequestId,
    ...sent,
  });
  const retrying = RETRYABLE_OUTCOMES.has(failure.outcome) && retry.retriesLeft;
  const waitMs = retrying
    ? backoffDelayMs(retry.attempt, failure.retryAfterMs, retry.policy)
    : undefined;
  // Provider error messages may quote the request: only the class and status are logged.
  log('provider_attempt_failed', {
    ...ids,
    provider: step.provider,
    outcome: failure.outcome,
    attempt: attempts.length,
    status: failure.status,
    retryAfterMs: failure.retryAfterMs,
    backoffMs: waitMs,
    errorName: err instanceof Error ? err.constructor.name : typeof err,
  });
  return { outcome: failure.outcome, waitMs };
}
