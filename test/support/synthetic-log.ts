/**
 * A synthetic sealed export for the evidence-pack tests: records of any kind (including kinds
 * this build does not know yet), sealed in batches by a minimal sealer written from the design
 * (records in (createdAt, id) order, each seal over all leaves so far, chained and signed with
 * a test key), written to a folder in the export layout.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalJson, canonicalSha256, sha256Hex } from '../../functions/src/evidence/canonical';
import { leafHash, MerkleAccumulator } from '../../functions/src/evidence/merkle';
import {
  EPOCH_ISO,
  exportPaths,
  sealFileContent,
  sealHash,
  type Seal,
  type UnsignedSeal,
} from '../../functions/src/evidence/seal';
import { contextBytes } from '../../functions/src/evidence/signing-context';

export const KEY_VERSION =
  'projects/p/locations/eu/keyRings/audit/cryptoKeys/seal/cryptoKeyVersions/1';
export const platformKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
export const platformPem = platformKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();

export const h = (label: string) => sha256Hex(label);

export interface ExtractionSpec {
  model?: string;
  modelVersion?: string;
  prompt?: string;
  schema?: string;
  schemaVersion?: number;
  steps?: [string, number][];
}

/** An extraction record body (without createdAt/contentSha256). */
export function extractionBody(tenantId: string, id: string, spec: ExtractionSpec = {}) {
  return {
    id: `ev_${id}`,
    tenantId,
    extractionId: id,
    kind: 'extraction',
    request: {
      payloadSha256: h(`payload ${id}`),
      contentType: 'text/plain',
      bytes: 100,
      ciphertextRef: `gs://docs/${tenantId}/documents/${id}`,
    },
    model: {
      provider: 'openai',
      model: spec.model ?? 'gpt-4o-mini',
      modelVersion: spec.modelVersion ?? 'gpt-4o-mini-2024-07-18',
      systemPromptSha256: h(spec.prompt ?? 'prompt v1'),
      promptTemplateVersion: 'invoice@1',
      params: { temperature: 0 },
      providerSettings: { store: false },
    },
    response: {
      rawSha256: h(`raw ${id}`),
      ciphertextRef: `gs://docs/${tenantId}/responses/${id}`,
      usage: { inputTokens: 10, outputTokens: 5 },
      latencyMs: 100,
      attempts: [
        {
          provider: 'openai',
          model: spec.model ?? 'gpt-4o-mini',
          outcome: 'ok',
          latencyMs: 100,
          providerRequestId: `req_${id}`,
        },
      ],
    },
    postProcessing: (spec.steps ?? [['parse-output', 1]]).map(([step, version]) => ({
      step,
      version,
      inputSha256: h(`${id} ${step} in`),
      outputSha256: h(`${id} ${step} out`),
    })),
    output: {
      sha256: h(`out ${id}`),
      schema: spec.schema ?? 'invoice',
      schemaVersion: spec.schemaVersion ?? 1,
    },
    actor: { kind: 'apiKey', id: 'key-1' },
    subprocessors: ['openai'],
  };
}

/** An event record body of any kind. */
export function eventBody(
  tenantId: string,
  id: string,
  kind: string,
  subject: { type: string; id: string },
  details: Record<string, unknown>,
) {
  return { id, tenantId, kind, subject, details, actor: { kind: 'service', id: 'test' } };
}

export type Body = Record<string, unknown> & { id: string };
export interface Stored extends Body {
  createdAt: string;
  contentSha256: string;
}

export function stored(body: Body, createdAt: string): Stored {
  return { ...body, contentSha256: canonicalSha256(body), createdAt };
}

function signSeal(u: UnsignedSeal): Seal {
  const value = sign('sha256', contextBytes('seal', canonicalJson(u)), platformKey.privateKey);
  return {
    ...u,
    signature: {
      keyVersion: KEY_VERSION,
      algorithm: 'EC_SIGN_P256_SHA256',
      value: value.toString('base64'),
    },
  };
}

/**
 * Seals `batches` (each: the records it adds and when it is signed) into `dir` in the export
 * layout. A batch's coverage ends at its sealedAt; records must be in order. The tests and the
 * verify bench (scripts/bench/verify.ts, 100k records) both build their exports here.
 */
export function writeSealedLog(
  dir: string,
  tenantId: string,
  batches: { records: Stored[]; sealedAt: string }[],
): Seal[] {
  // An accumulator, not rootHash over every leaf so far: each seal's root costs O(log n), so a
  // log of many large batches is built in linear time.
  const leaves = new MerkleAccumulator();
  const seals: Seal[] = [];
  let prev: Seal | undefined;
  for (const batch of batches) {
    const lines = batch.records.map((r) => canonicalJson(r));
    for (const line of lines) leaves.append(leafHash(Buffer.from(line, 'utf8')));
    const seal = signSeal({
      version: 1,
      tenantId,
      seq: (prev?.seq ?? 0) + 1,
      treeSize: leaves.size,
      rootHash: leaves.root().toString('hex'),
      batch: { firstIndex: leaves.size - lines.length, count: lines.length },
      coverage: { from: prev?.coverage.to ?? EPOCH_ISO, to: batch.sealedAt },
      prevSealHash: prev === undefined ? null : sealHash(prev),
      sealedAt: batch.sealedAt,
    });
    const paths = exportPaths('', seal);
    mkdirSync(dirname(join(dir, paths.records)), { recursive: true });
    writeFileSync(join(dir, paths.records), lines.map((l) => l + '\n').join(''));
    writeFileSync(join(dir, paths.seal), sealFileContent(seal));
    seals.push(seal);
    prev = seal;
  }
  return seals;
}
