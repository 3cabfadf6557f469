/**
 * The evidence record of a succeeded extraction: what was asked (the document, by commitment
 * and ciphertext reference), who answered (provider, model, prompt, every attempt), what came
 * back (the raw response, by commitment), each post-processing step and the output.
 */
import { commitment, type DataKey } from '../crypto/envelope';
import type { Actor } from '../evidence/actor';
import { evidenceIdFor, type ExtractionEvidenceBody } from '../evidence/record';
import { runtimeRegistry } from '../subprocessors/registry';
import type { DocData } from '../tenancy/firestore';
import type { Completion } from './model-calls';
import type { BuiltPrompt } from './prompt';
import type { ExtractionSchema } from './schemas/types';

export interface ExtractionEvidenceInputs {
  tenantId: string;
  extractionId: string;
  /** The document's metadata record and the reference of its ciphertext. */
  document: { meta: DocData; ciphertextRef: string };
  schema: ExtractionSchema;
  prompt: BuiltPrompt;
  completion: Completion;
  /** The stored raw response: its data key and the reference of its ciphertext. */
  stored: { responseKey: { dataKey: DataKey }; responseCiphertextRef: string };
  /** Commitment under the result's data key. */
  commit: (bytes: string) => string;
  actor: Actor;
}

export function extractionEvidenceBody({
  tenantId,
  extractionId,
  document,
  schema,
  prompt,
  completion,
  stored,
  commit,
  actor,
}: ExtractionEvidenceInputs): ExtractionEvidenceBody {
  const { response, provider, result } = completion;
  const documentMeta = document.meta;
  return {
    id: evidenceIdFor(extractionId),
    tenantId,
    extractionId,
    kind: 'extraction',
    request: {
      payloadSha256: String(documentMeta.payloadSha256),
      contentType: String(documentMeta.contentType),
      bytes: Number(documentMeta.bytes),
      ciphertextRef: document.ciphertextRef,
    },
    model: {
      provider: response.provider,
      model: response.model,
      modelVersion: response.modelVersion,
      systemPromptSha256: prompt.systemSha256,
      promptTemplateVersion: prompt.templateVersion,
      params: response.params,
      providerSettings: provider.settings,
    },
    response: {
      rawSha256: commitment(stored.responseKey.dataKey.commitmentSecret, response.raw),
      ciphertextRef: stored.responseCiphertextRef,
      usage: response.usage,
      latencyMs: completion.latencyMs,
      attempts: completion.attempts,
    },
    postProcessing: result.records,
    output: {
      sha256: commit(JSON.stringify(result.result)),
      schema: schema.name,
      schemaVersion: schema.version,
      schemaSha256: schema.sha256,
    },
    actor,
    // Who processed this request: hosting, and every provider it was sent to, by registry id.
    subprocessors: runtimeRegistry().processorsOf(
      completion.attempts.map((a) => a.provider),
      new Date(),
    ),
  };
}
