/**
 * Replay: decrypt the stored raw response and original, re-run the recorded post-processing
 * step versions, and compare every hash with the evidence record. Reproducibility as one call.
 */
import {
  commitment,
  dataKeyId,
  objectAad,
  openBytes,
  type ObjectRef,
  type WrappedDataKey,
} from '../crypto/envelope';
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { ExtractionEvidenceRecordSchema } from '../evidence/record';
import { readAnthropicOutput } from '../providers/anthropic';
import { readOpenAiOutput } from '../providers/openai';
import type { Services } from '../services';
import { parseGsUri } from '../storage/object-store';
import type { TenantDb } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';
import { runSteps } from './postprocess';
import { getSchema } from './schemas';

export class ReplayError extends Error {
  override readonly name = 'ReplayError';
}

export interface StepComparison {
  step: string;
  version: number;
  inputMatches: boolean;
  outputMatches: boolean;
}

export interface ReplayReport {
  extractionId: string;
  evidenceId: string;
  model: string;
  steps: StepComparison[];
  outputMatches: boolean;
  reproducible: boolean;
}

async function openObject(
  services: Services,
  tenant: TenantProfile,
  db: TenantDb,
  ref: ObjectRef,
  uri: string,
) {
  const wrapped = await db.get('dataKeys', dataKeyId(ref));
  if (!wrapped)
    throw new ReplayError(`the ${ref.kind} of ${ref.id} was erased: its data key no longer exists`);
  const key = await services.keys.openDataKey(tenant, ref, wrapped as unknown as WrappedDataKey);
  const { bucket, name } = parseGsUri(uri);
  return {
    key,
    plaintext: openBytes(
      key.key,
      objectAad(tenant.id, ref),
      await services.objects.get(bucket, name),
      ref.kind,
    ),
  };
}

export async function replayExtraction(
  services: Services,
  tenant: TenantProfile,
  extractionId: string,
): Promise<ReplayReport> {
  const db = services.platform.tenantDb(tenant);
  const extraction = await db.get('extractions', extractionId);
  if (!extraction || typeof extraction.evidenceId !== 'string') {
    throw new ReplayError(`extraction ${extractionId} has no evidence record`);
  }
  const record = ExtractionEvidenceRecordSchema.parse(
    await db.get('evidence', extraction.evidenceId),
  );
  const schema = getSchema(record.output.schema);
  if (!schema || schema.version !== record.output.schemaVersion) {
    throw new ReplayError(
      `schema ${record.output.schema}@${String(record.output.schemaVersion)} is not available`,
    );
  }
  const document = await openObject(
    services,
    tenant,
    db,
    { kind: 'document', id: extractionId },
    record.request.ciphertextRef,
  );
  const response = await openObject(
    services,
    tenant,
    db,
    { kind: 'response', id: extractionId },
    record.response.ciphertextRef,
  );
  const resultWrapped = await db.get('dataKeys', dataKeyId({ kind: 'result', id: extractionId }));
  if (!resultWrapped) throw new ReplayError(`the result of ${extractionId} was erased`);
  const resultKey = await services.keys.openDataKey(
    tenant,
    { kind: 'result', id: extractionId },
    resultWrapped as unknown as WrappedDataKey,
  );

  const raw = response.plaintext.toString('utf8');
  const rawMatches = commitment(response.key.commitmentSecret, raw) === record.response.rawSha256;
  const outputText = extractOutputText(record.model.provider, raw);
  const commit = (bytes: string) => commitment(resultKey.commitmentSecret, bytes);
  const replayed = runSteps(
    outputText,
    { documentText: document.plaintext.toString('utf8'), schema },
    commit,
    record.postProcessing.map(({ step, version }) => ({ step, version })),
  );
  const steps = record.postProcessing.map((recorded, i) => ({
    step: recorded.step,
    version: recorded.version,
    inputMatches: replayed.records[i]?.inputSha256 === recorded.inputSha256,
    outputMatches: replayed.records[i]?.outputSha256 === recorded.outputSha256,
  }));
  const outputMatches = commit(JSON.stringify(replayed.result)) === record.output.sha256;
  return {
    extractionId,
    evidenceId: record.id,
    model: `${record.model.provider}/${record.model.modelVersion}`,
    steps,
    outputMatches,
    reproducible:
      rawMatches && outputMatches && steps.every((s) => s.inputMatches && s.outputMatches),
  };
}

/** The structured output inside a provider's raw response, read as the adapter read it. */
function extractOutputText(provider: string, raw: string): string {
  const output =
    provider === 'openai'
      ? readOpenAiOutput(JSON.parse(raw) as OpenAI.ChatCompletion)
      : readAnthropicOutput(JSON.parse(raw) as Anthropic.Message);
  return output.outputText ?? '';
}
