/**
 * The worker's unit of work. It may run twice for one message (redelivery, duplicates): the
 * result and its evidence record are committed in one transaction that first checks the
 * extraction is not yet terminal and creates the evidence under an id derived from the
 * extraction, so exactly one result and one record can ever exist.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { commitment, dataKeyId, objectAad, sealBytes, type ObjectRef } from '../crypto/envelope';
import { evidenceDocument, evidenceIdFor, type ExtractionEvidenceBody } from '../evidence/record';
import { log } from '../logging';
import type { LlmProvider, ProviderRequest, ProviderResponse } from '../providers/provider';
import { defaultModels } from '../providers/registry';
import type { Services } from '../services';
import { COMMIT_TIME, isAlreadyExists } from '../tenancy/firestore';
import type { ProviderName } from '../config';
import type { TenantProfile } from '../tenancy/platform';
import { publishExtractionEvent } from '../webhooks/events';
import { runSteps } from './postprocess/registry';
import { InvalidModelOutputError } from './postprocess/types';
import { backoffDelayMs } from '../util/backoff';
import { classifyProviderError, RETRYABLE_OUTCOMES, type AttemptOutcome } from './retry';
import { buildSystemPrompt } from './prompt';
import { documentInput } from './documents';
import { resolveSchema } from './schemas/resolve';
import { ObjectErasedError, openStoredObject } from './stored-object';
import type { ExtractionMessage } from './submit';
import type { Actor } from '../evidence/actor';

type Outcome = AttemptOutcome;

interface Attempt {
  provider: string;
  model: string;
  outcome: Outcome;
  latencyMs: number;
  providerRequestId: string | null;
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

interface Completion {
  response: ProviderResponse;
  provider: LlmProvider;
  attempts: Attempt[];
  result: ReturnType<typeof runSteps>;
  latencyMs: number;
}

async function callModels(
  services: Services,
  tenant: TenantProfile,
  request: {
    system: string;
    documentText: string;
    image?: ProviderRequest['image'];
    schemaName: string;
    jsonSchema: Record<string, unknown>;
  },
  postprocess: (raw: string) => ReturnType<typeof runSteps>,
  ids: { tenantId: string; extractionId: string },
): Promise<Completion> {
  const { config } = services;
  const plan = providerPlan(tenant, request.schemaName, defaultModels(services.providers));
  const policy = {
    baseMs: config.LLM_RETRY_BASE_MS,
    maxMs: config.LLM_RETRY_MAX_BACKOFF_MS,
    retryAfterCapMs: config.LLM_RETRY_AFTER_CAP_MS,
  };
  const attempts: Attempt[] = [];
  let lastOutcome: Outcome = 'error';
  for (const step of plan) {
    const provider = services.providers[step.provider];
    for (let i = 0; i <= config.LLM_MAX_RETRIES; i++) {
      const started = Date.now();
      let response: ProviderResponse | undefined;
      try {
        response = await provider.complete({ ...request, model: step.model });
        if (response.outputText === null) {
          if (response.refusal !== null) {
            // A refusal is the model's answer, not a fault: no retry, no failover.
            attempts.push({
              provider: step.provider,
              model: step.model,
              outcome: 'refused',
              latencyMs: Date.now() - started,
              providerRequestId: response.providerRequestId,
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
        });
        return { response, provider, attempts, result, latencyMs };
      } catch (err) {
        if (err instanceof TerminalExtractionError) throw err;
        const failure = classifyProviderError(err);
        if (!failure) throw err;
        lastOutcome = failure.outcome;
        attempts.push({
          provider: step.provider,
          model: step.model,
          outcome: failure.outcome,
          latencyMs: Date.now() - started,
          providerRequestId: response?.providerRequestId ?? failure.providerRequestId,
        });
        const retry = RETRYABLE_OUTCOMES.has(failure.outcome) && i < config.LLM_MAX_RETRIES;
        const waitMs = retry ? backoffDelayMs(i, failure.retryAfterMs, policy) : undefined;
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
        if (waitMs === undefined) break;
        await sleep(waitMs);
      }
    }
  }
  const code = lastOutcome === 'invalid_output' ? 'invalid_model_output' : 'provider_unavailable';
  throw new TerminalExtractionError(
    code,
    `extraction failed after ${String(attempts.length)} attempt(s)`,
    attempts,
  );
}

export async function processExtraction(
  services: Services,
  message: ExtractionMessage,
): Promise<void> {
  const { tenantId, extractionId } = message;
  const tenant = await services.platform.getTenant(tenantId);
  if (!tenant) {
    log('worker_error', { tenantId, extractionId, reason: 'unknown_tenant' });
    return;
  }
  const db = services.platform.tenantDb(tenant);
  const extraction = await db.get('extractions', extractionId);
  if (!extraction) {
    log('worker_error', { tenantId, extractionId, reason: 'unknown_extraction' });
    return;
  }
  if (extraction.status === 'succeeded' || extraction.status === 'failed') {
    log('extraction_redelivered', { tenantId, extractionId, status: extraction.status });
    // The delivery that finished it may have crashed before announcing it: announce again
    // (webhook events carry a stable id, so receivers see at-least-once, never a new event).
    await publishExtractionEvent(services, {
      tenantId,
      extractionId,
      event: extraction.status === 'succeeded' ? 'extraction.succeeded' : 'extraction.failed',
    });
    return;
  }
  const ids = { tenantId, extractionId };
  // Conditional: a concurrent delivery may have finished it since the read above, and a plain
  // update would turn its `succeeded` back into `processing` for good.
  const claimed = await db.runTransaction(async (tx) => {
    const current = await tx.get('extractions', extractionId);
    if (!current || current.status === 'succeeded' || current.status === 'failed') return false;
    tx.update('extractions', extractionId, { status: 'processing', updatedAt: COMMIT_TIME });
    return true;
  });
  if (!claimed) {
    log('extraction_redelivered', { ...ids, status: 'raced' });
    return;
  }
  log('extraction_processing', ids);

  try {
    const schema = await resolveSchema(db, String(extraction.schema));
    if (!schema)
      throw new TerminalExtractionError('unknown_schema', 'the schema is no longer available');
    const documentMeta = await db.get('documents', extractionId);
    if (!documentMeta)
      throw new TerminalExtractionError('document_erased', 'the document no longer exists');
    const ciphertextRef = String(documentMeta.ciphertextRef);
    const { plaintext: documentBytes } = await openStoredObject(
      services,
      tenant,
      db,
      { kind: 'document', id: extractionId },
      ciphertextRef,
    ).catch((err: unknown) => {
      if (err instanceof ObjectErasedError) {
        throw new TerminalExtractionError('document_erased', 'the document was erased');
      }
      throw err;
    });
    // Text as is, a PDF's text layer, or an image sent as image input (nothing to ground in).
    const { input, documentText } = await documentInput(
      documentBytes,
      String(documentMeta.contentType),
      services.config,
    ).catch((err: unknown) => {
      throw new TerminalExtractionError(
        'document_unreadable',
        err instanceof Error ? err.message : 'the document cannot be read',
      );
    });

    const prompt = buildSystemPrompt(schema);
    const resultRef: ObjectRef = { kind: 'result', id: extractionId };
    const responseRef: ObjectRef = { kind: 'response', id: extractionId };
    const resultKey = await services.keys.newDataKey(tenant, resultRef);
    const commit = (bytes: string) => commitment(resultKey.dataKey.commitmentSecret, bytes);

    const completion = await callModels(
      services,
      tenant,
      {
        system: prompt.system,
        documentText,
        image: input.kind === 'image' ? input : undefined,
        schemaName: schema.name,
        jsonSchema: schema.jsonSchema,
      },
      (raw) => runSteps(raw, { documentText, schema }, commit, schema.steps),
      ids,
    );
    const { response, provider, result } = completion;

    // The raw response is stored under its own data key and a fresh object name per attempt,
    // so a crashed earlier attempt's upload never collides with this one.
    const responseKey = await services.keys.newDataKey(tenant, responseRef);
    const responseObject = `tenants/${tenantId}/responses/${extractionId}/${randomBytes(6).toString('hex')}`;
    const responseCiphertextRef = await services.objects.putNew(
      services.config.DOCUMENTS_BUCKET,
      responseObject,
      sealBytes(
        responseKey.dataKey.key,
        objectAad(tenantId, responseRef),
        Buffer.from(response.raw),
      ),
    );

    const evidenceId = evidenceIdFor(extractionId);
    const body: ExtractionEvidenceBody = {
      id: evidenceId,
      tenantId,
      extractionId,
      kind: 'extraction',
      request: {
        payloadSha256: String(documentMeta.payloadSha256),
        contentType: String(documentMeta.contentType),
        bytes: Number(documentMeta.bytes),
        ciphertextRef,
      },
      model: {
        provider: response.provider,
        model: response.model,
        modelVersion: response.modelVersion,
        systemPromptSha256: prompt.systemSha256,
        promptTemplateVersion: prompt.templateVersion,
        params: provider.params,
        providerSettings: provider.settings,
      },
      response: {
        rawSha256: commitment(responseKey.dataKey.commitmentSecret, response.raw),
        ciphertextRef: responseCiphertextRef,
        usage: response.usage,
        latencyMs: completion.latencyMs,
        attempts: completion.attempts,
      },
      postProcessing: result.records,
      output: {
        sha256: commit(JSON.stringify(result.result)),
        schema: schema.name,
        schemaVersion: schema.version,
      },
      actor: extraction.actor as Actor,
      subprocessors: [response.provider],
    };
    const record = evidenceDocument(body);

    const committed = await db
      .runTransaction(async (tx) => {
        const current = await tx.get('extractions', extractionId);
        if (!current || current.status === 'succeeded' || current.status === 'failed') return false;
        tx.create('evidence', evidenceId, record)
          .create('dataKeys', dataKeyId(responseRef), {
            ...responseKey.wrapped,
            objectRef: responseCiphertextRef,
            createdAt: COMMIT_TIME,
          })
          .create('dataKeys', dataKeyId(resultRef), {
            ...resultKey.wrapped,
            createdAt: COMMIT_TIME,
          })
          .update('extractions', extractionId, {
            status: 'succeeded',
            // Where the tenant asks, the result too is only ciphertext at rest.
            ...(tenant.encryptResults
              ? {
                  resultCiphertext: sealBytes(
                    resultKey.dataKey.key,
                    objectAad(tenantId, resultRef),
                    Buffer.from(JSON.stringify(result.result)),
                  ).toString('base64'),
                }
              : { result: result.result }),
            evidenceId,
            model: {
              provider: response.provider,
              model: response.model,
              modelVersion: response.modelVersion,
            },
            updatedAt: COMMIT_TIME,
            completedAt: COMMIT_TIME,
          });
        return true;
      })
      .catch((err: unknown) => {
        if (isAlreadyExists(err)) return false;
        throw err;
      });
    if (!committed) {
      // Another delivery won the race; this attempt's response object is an unreferenced orphan.
      await services.objects.delete(services.config.DOCUMENTS_BUCKET, responseObject, {
        ignoreNotFound: true,
      });
      log('extraction_redelivered', { ...ids, status: 'raced' });
      return;
    }
    log('evidence_written', { ...ids, evidenceId });
    log('extraction_succeeded', {
      ...ids,
      provider: response.provider,
      modelVersion: response.modelVersion,
      attempts: completion.attempts.length,
      issues: result.result.issues.length,
    });
    await publishExtractionEvent(services, { ...ids, event: 'extraction.succeeded' });
  } catch (err) {
    if (!(err instanceof TerminalExtractionError)) throw err;
    const failed = await db.runTransaction(async (tx) => {
      const current = await tx.get('extractions', extractionId);
      if (!current || current.status === 'succeeded' || current.status === 'failed') return false;
      tx.update('extractions', extractionId, {
        status: 'failed',
        error: { code: err.code, message: err.message },
        // No evidence record exists for a failure: the provider attempts are kept here.
        ...(err.attempts.length > 0 ? { attempts: err.attempts.map((a) => ({ ...a })) } : {}),
        updatedAt: COMMIT_TIME,
        completedAt: COMMIT_TIME,
      });
      return true;
    });
    if (!failed) {
      log('extraction_redelivered', { ...ids, status: 'raced' });
      return;
    }
    log('extraction_failed', { ...ids, code: err.code, attempts: err.attempts.length });
    await publishExtractionEvent(services, { ...ids, event: 'extraction.failed' });
  }
}
