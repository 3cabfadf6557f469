/**
 * Replay: decrypt the stored raw response and original, re-run the recorded post-processing
 * step versions, and compare every hash with the evidence record. Reproducibility as one call.
 */
import { randomBytes } from 'node:crypto';
import { commitment } from '../crypto/envelope';
import { CLI_ACTOR, type Actor } from '../evidence/actor';
import { recordEventOnce } from '../ledger/evidence-writer';
import { ExtractionEvidenceRecordSchema } from '../evidence/record';
import { PROVIDERS } from '../config';
import { readStoredOutput } from '../providers/registry';
import type { Services } from '../services';
import type { TenantProfile } from '../tenancy/platform';
import { runSteps } from './postprocess/registry';
import { documentInput } from './documents';
import { resolveSchemaVersion } from './schemas/resolve';
import { ObjectErasedError, openDataKey, openStoredObject } from '../crypto/sealed-object';

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
  /** The schema version the record names, resolved and checked against its hash. */
  schema: { name: string; version: number; sha256: string };
  steps: StepComparison[];
  outputMatches: boolean;
  reproducible: boolean;
}

/**
 * Replays an extraction. Replay decrypts customer content (the original and the raw response),
 * so before anything is decrypted it writes a `content_access` evidence record naming who read
 * what and why, sealed and exported like every record.
 */
export async function replayExtraction(
  services: Services,
  tenant: TenantProfile,
  extractionId: string,
  actor: Actor = CLI_ACTOR,
): Promise<ReplayReport> {
  if (tenant.status !== 'active') {
    throw new ReplayError(
      `tenant ${tenant.id} is offboarded${tenant.offboardedAt ? ` (${tenant.offboardedAt})` : ''}: its keys are destroyed, so nothing of it can be decrypted or replayed; its evidence stays verifiable with \`audit verify\``,
    );
  }
  const db = services.platform.tenantDb(tenant);
  const extraction = await db.get('extractions', extractionId);
  if (!extraction || typeof extraction.evidenceId !== 'string') {
    throw new ReplayError(`extraction ${extractionId} has no evidence record`);
  }
  await recordEventOnce(db, {
    kind: 'content_access',
    key: `replay-${extractionId}-${randomBytes(8).toString('hex')}`,
    subject: { type: 'extraction', id: extractionId },
    details: {
      purpose: 'replay',
      evidenceId: extraction.evidenceId,
      objects: ['document', 'response', 'result'],
      grantId: null,
      ticket: null,
    },
    actor,
  });
  const record = ExtractionEvidenceRecordSchema.parse(
    await db.get('evidence', extraction.evidenceId),
  );
  // The version the record names, never today's: versions are immutable and kept.
  const { schema: schemaName, schemaVersion, schemaSha256 } = record.output;
  const schema = await resolveSchemaVersion(db, schemaName, schemaVersion);
  if (!schema) {
    throw new ReplayError(`schema ${schemaName}@${String(schemaVersion)} is not available`);
  }
  if (schemaSha256 !== undefined && schema.sha256 !== schemaSha256) {
    throw new ReplayError(
      `schema ${schemaName}@${String(schemaVersion)} hashes to ${schema.sha256}, the record names ${schemaSha256}`,
    );
  }
  const open = (kind: 'document' | 'response', uri: string) =>
    openStoredObject(services, tenant, db, { kind, id: extractionId }, uri).catch(
      (err: unknown) => {
        if (err instanceof ObjectErasedError) throw new ReplayError(err.message);
        throw err;
      },
    );
  const document = await open('document', record.request.ciphertextRef);
  const response = await open('response', record.response.ciphertextRef);
  // Grounding ran on the same text the worker saw: a PDF's text layer, nothing for images.
  const { documentText } = await documentInput(
    document.plaintext,
    record.request.contentType,
    services.config,
  );
  const resultKey = await openDataKey(services.keys, tenant, db, {
    kind: 'result',
    id: extractionId,
  });
  if (!resultKey) throw new ReplayError(`the result of ${extractionId} was erased`);

  const raw = response.plaintext.toString('utf8');
  const rawMatches = commitment(response.key.commitmentSecret, raw) === record.response.rawSha256;
  const outputText = extractOutputText(record.model.provider, raw);
  const commit = (bytes: string) => commitment(resultKey.commitmentSecret, bytes);
  const replayed = runSteps(
    outputText,
    { documentText, schema },
    commit,
    // With the settings each step read then (none when none were recorded), never today's.
    record.postProcessing.map(({ step, version, settings }) => ({
      step,
      version,
      settings: settings ?? {},
    })),
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
    schema: { name: schema.name, version: schema.version, sha256: schema.sha256 },
    steps,
    outputMatches,
    reproducible:
      rawMatches && outputMatches && steps.every((s) => s.inputMatches && s.outputMatches),
  };
}

/** The structured output inside a provider's raw response, read as the adapter read it. */
function extractOutputText(provider: string, raw: string): string {
  const known = PROVIDERS.find((name) => name === provider);
  if (!known) throw new ReplayError(`no adapter reads responses of provider ${provider}`);
  return readStoredOutput(known, raw) ?? '';
}
