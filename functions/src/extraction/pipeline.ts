/**
 * The worker's unit of work. It may run twice for one message (redelivery, duplicates): the
 * result and its evidence record are committed in one transaction that first checks the
 * extraction is not yet terminal and creates the evidence under an id derived from the
 * extraction, so exactly one result and one record can ever exist.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  commitment,
  dataKeyId,
  objectAad,
  openBytes,
  sealBytes,
  type ObjectRef,
  type WrappedDataKey,
} from '../crypto/envelope';
import { contentHash, evidenceIdFor, type ExtractionEvidenceBody } from '../evidence/record';
import { errorFields, log } from '../logging';
import type { LlmProvider, ProviderResponse } from '../providers/provider';
import type { Services } from '../services';
import { parseGsUri } from '../storage/object-store';
import { COMMIT_TIME, isAlreadyExists, type TenantDb } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';
import { runSteps, InvalidModelOutputError } from './postprocess';
import { buildSystemPrompt } from './prompt';
import { getSchema } from './schemas';
import type { Actor, ExtractionMessage } from './submit';

type Outcome = ExtractionEvidenceBody['response']['attempts'][number]['outcome'];

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
  ) {
    super(message);
  }
}

function classify(err: unknown): { outcome: Outcome; retryAfterMs: number | null } {
  if (err instanceof InvalidModelOutputError)
    return { outcome: 'invalid_output', retryAfterMs: null };
  const e = err as {
    status?: unknown;
    name?: unknown;
    headers?: { get?: (h: string) => string | null };
  };
  if (typeof e.name === 'string' && /Timeout/i.test(e.name))
    return { outcome: 'timeout', retryAfterMs: null };
  const status = typeof e.status === 'number' ? e.status : undefined;
  if (status === 429) {
    const header = e.headers?.get?.('retry-after') ?? null;
    const seconds = header === null ? NaN : Number(header);
    return {
      outcome: 'rate_limited',
      retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : null,
    };
  }
  if (status !== undefined && status >= 500) return { outcome: 'server_error', retryAfterMs: null };
  if (typeof e.name === 'string' && /Connection/i.test(e.name))
    return { outcome: 'server_error', retryAfterMs: null };
  return { outcome: 'error', retryAfterMs: null };
}

const RETRYABLE: ReadonlySet<Outcome> = new Set([
  'rate_limited',
  'server_error',
  'timeout',
  'invalid_output',
]);
const MAX_BACKOFF_MS = 10_000;

function backoff(attempt: number, retryAfterMs: number | null): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, MAX_BACKOFF_MS);
  const base = Math.min(250 * 2 ** attempt, MAX_BACKOFF_MS);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

async function loadDataKey(
  services: Services,
  tenant: TenantProfile,
  db: TenantDb,
  ref: ObjectRef,
) {
  const wrapped = await db.get('dataKeys', dataKeyId(ref));
  if (!wrapped)
    throw new TerminalExtractionError('document_erased', 'the document key no longer exists');
  return services.keys.openDataKey(tenant, ref, wrapped as unknown as WrappedDataKey);
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
    schemaName: string;
    jsonSchema: Record<string, unknown>;
  },
  postprocess: (raw: string) => ReturnType<typeof runSteps>,
  ids: { tenantId: string; extractionId: string },
): Promise<Completion> {
  const order = [
    tenant.providers.primary,
    ...(tenant.providers.fallback ? [tenant.providers.fallback] : []),
  ];
  const attempts: Attempt[] = [];
  let lastOutcome: Outcome = 'error';
  for (const name of order) {
    const provider = services.providers[name];
    for (let i = 0; i <= services.config.LLM_MAX_RETRIES; i++) {
      const started = Date.now();
      let response: ProviderResponse | undefined;
      try {
        response = await provider.complete({ model: provider.model, ...request });
        if (response.outputText === null) {
          if (response.refusal !== null) {
            attempts.push({
              provider: name,
              model: provider.model,
              outcome: 'refused',
              latencyMs: Date.now() - started,
              providerRequestId: response.providerRequestId,
            });
            lastOutcome = 'refused';
            break;
          }
          throw new InvalidModelOutputError('model returned no structured output');
        }
        const result = postprocess(response.outputText);
        const latencyMs = Date.now() - started;
        attempts.push({
          provider: name,
          model: provider.model,
          outcome: 'ok',
          latencyMs,
          providerRequestId: response.providerRequestId,
        });
        return { response, provider, attempts, result, latencyMs };
      } catch (err) {
        if (
          !(err instanceof InvalidModelOutputError) &&
          err instanceof Error &&
          !('status' in err) &&
          !/Timeout|Connection/.test(err.name)
        ) {
          throw err;
        }
        const { outcome, retryAfterMs } = classify(err);
        lastOutcome = outcome;
        attempts.push({
          provider: name,
          model: provider.model,
          outcome,
          latencyMs: Date.now() - started,
          providerRequestId: response?.providerRequestId ?? null,
        });
        log('provider_attempt_failed', {
          ...ids,
          provider: name,
          outcome,
          attempt: i + 1,
          ...errorFields(err),
        });
        if (!RETRYABLE.has(outcome)) break;
        if (i < services.config.LLM_MAX_RETRIES) await sleep(backoff(i, retryAfterMs));
      }
    }
  }
  const code =
    lastOutcome === 'refused'
      ? 'model_refused'
      : lastOutcome === 'invalid_output'
        ? 'invalid_model_output'
        : 'provider_unavailable';
  throw Object.assign(
    new TerminalExtractionError(code, `extraction failed after ${attempts.length} attempt(s)`),
    { attempts },
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
    return;
  }
  const ids = { tenantId, extractionId };
  log('extraction_processing', ids);
  await db.update('extractions', extractionId, { status: 'processing', updatedAt: COMMIT_TIME });

  try {
    const schema = getSchema(String(extraction.schema));
    if (!schema)
      throw new TerminalExtractionError('unknown_schema', 'the schema is no longer available');
    const documentMeta = await db.get('documents', extractionId);
    if (!documentMeta)
      throw new TerminalExtractionError('document_erased', 'the document no longer exists');
    const docRef: ObjectRef = { kind: 'document', id: extractionId };
    const docKey = await loadDataKey(services, tenant, db, docRef);
    const ciphertextRef = String(documentMeta.ciphertextRef);
    const { bucket, name } = parseGsUri(ciphertextRef);
    const documentBytes = openBytes(
      docKey.key,
      objectAad(tenantId, docRef),
      await services.objects.get(bucket, name),
      'document',
    );
    const documentText = documentBytes.toString('utf8');

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
        schemaName: schema.name,
        jsonSchema: schema.jsonSchema,
      },
      (raw) => runSteps(raw, { documentText, schema }, commit),
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
    const record = { ...body, contentSha256: contentHash(body), createdAt: COMMIT_TIME };

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
            result: result.result,
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
  } catch (err) {
    if (!(err instanceof TerminalExtractionError)) throw err;
    await db.runTransaction(async (tx) => {
      const current = await tx.get('extractions', extractionId);
      if (!current || current.status === 'succeeded' || current.status === 'failed') return;
      tx.update('extractions', extractionId, {
        status: 'failed',
        error: { code: err.code, message: err.message },
        updatedAt: COMMIT_TIME,
        completedAt: COMMIT_TIME,
      });
    });
    log('extraction_failed', { ...ids, code: err.code });
  }
}
