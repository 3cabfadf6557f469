/**
 * `provenant audit verify` over an export of 100k records (10 seals of 10k, the sealer's largest
 * batch), through the same function the CLI runs (`verifyExport` on a local folder), against
 * the raw floor on the same bytes: reading the same files and one SHA-256 per record line. The
 * verifier does more per record on purpose (zod shape, canonical JSON, content hash, leaf hash,
 * tree, order and coverage checks); the ratio says how much more it costs.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { canonicalJson, sha256Hex } from '../../functions/src/evidence/canonical';
import { directorySource } from '../../functions/src/evidence/export-source';
import { leafHash, MerkleAccumulator } from '../../functions/src/evidence/merkle';
import {
  contentHash,
  type EvidenceBody,
  type EvidenceRecord,
} from '../../functions/src/evidence/record';
import {
  EPOCH_ISO,
  exportLine,
  exportPaths,
  leafData,
  sealFileContent,
  sealHash,
  type Seal,
  type UnsignedSeal,
} from '../../functions/src/evidence/seal';
import { contextBytes } from '../../functions/src/evidence/signing-context';
import { verifyExport } from '../../functions/src/evidence/verify-export';
import type { BenchEntry } from './entries';

type Progress = (line: string) => void;

const KEY_VERSION =
  'projects/bench/locations/eu/keyRings/audit/cryptoKeys/seal/cryptoKeyVersions/1';
const BASE = Date.parse('2026-03-10T08:00:00.000Z');

function record(n: number, createdAt: string): EvidenceRecord {
  const h = (label: string) => sha256Hex(label);
  const body: EvidenceBody = {
    id: `ev_ex_${String(n).padStart(24, '0')}`,
    tenantId: 'acme',
    extractionId: `ex_${String(n).padStart(24, '0')}`,
    kind: 'extraction',
    request: {
      payloadSha256: h(`payload ${String(n)}`),
      contentType: 'application/pdf',
      bytes: 40_000 + n,
      ciphertextRef: `gs://docs/tenants/acme/documents/ex_${String(n)}`,
    },
    model: {
      provider: 'openai',
      model: 'gpt-4o-mini',
      modelVersion: 'gpt-4o-mini-2024-07-18',
      systemPromptSha256: h('system'),
      promptTemplateVersion: 'invoice@1',
      params: { temperature: 0 },
      providerSettings: { store: false },
    },
    response: {
      rawSha256: h(`raw ${String(n)}`),
      ciphertextRef: `gs://docs/tenants/acme/responses/ex_${String(n)}/0a1b2c`,
      usage: { inputTokens: 1200, outputTokens: 340 },
      latencyMs: 2000,
      attempts: [
        {
          provider: 'openai',
          model: 'gpt-4o-mini',
          outcome: 'ok',
          latencyMs: 2000,
          providerRequestId: `req_${String(n)}`,
        },
      ],
    },
    postProcessing: ['parse-output', 'ground-quotes', 'normalize-amounts'].map((step, i) => ({
      step,
      version: 1,
      inputSha256: h(`${String(n)} ${String(i)} in`),
      outputSha256: h(`${String(n)} ${String(i)} out`),
    })),
    output: { sha256: h(`out ${String(n)}`), schema: 'invoice', schemaVersion: 1 },
    actor: { kind: 'apiKey', id: 'abcdef0123456789' },
    subprocessors: ['openai', 'google-cloud'],
  };
  return { ...body, contentSha256: contentHash(body), createdAt };
}

/** Writes a signed, chained export of `batches` seals of `perSeal` records into `dir`. */
async function writeExport(dir: string, batches: number, perSeal: number): Promise<string> {
  const platform = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const acc = new MerkleAccumulator();
  let prev: Seal | undefined;
  let n = 0;
  for (let b = 0; b < batches; b++) {
    const records: EvidenceRecord[] = [];
    for (let k = 0; k < perSeal; k++) {
      records.push(record(n, new Date(BASE + n).toISOString()));
      n += 1;
    }
    for (const r of records) acc.append(leafHash(leafData(r)));
    const to = records[records.length - 1]?.createdAt ?? EPOCH_ISO;
    const unsigned: UnsignedSeal = {
      version: 1,
      tenantId: 'acme',
      seq: b + 1,
      treeSize: acc.size,
      rootHash: acc.root().toString('hex'),
      batch: { firstIndex: acc.size - perSeal, count: perSeal },
      coverage: { from: prev?.coverage.to ?? EPOCH_ISO, to },
      prevSealHash: prev === undefined ? null : sealHash(prev),
      sealedAt: new Date(Date.parse(to) + 60_000).toISOString(),
    };
    const value = sign(
      'sha256',
      contextBytes('seal', canonicalJson(unsigned)),
      platform.privateKey,
    );
    const seal: Seal = {
      ...unsigned,
      signature: {
        keyVersion: KEY_VERSION,
        algorithm: 'EC_SIGN_P256_SHA256',
        value: value.toString('base64'),
      },
    };
    const paths = exportPaths('', seal);
    await mkdir(path.dirname(path.join(dir, paths.records)), { recursive: true });
    await writeFile(
      path.join(dir, paths.records),
      records.map((r) => `${exportLine(r)}\n`).join(''),
    );
    await writeFile(path.join(dir, paths.seal), sealFileContent(seal));
    prev = seal;
  }
  return platform.publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

async function bestAsync(rounds: number, fn: () => Promise<void>): Promise<number> {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    await fn();
    min = Math.min(min, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return min;
}

export async function verifyBench(
  progress: Progress,
  batches = 10,
  perSeal = 10_000,
): Promise<BenchEntry[]> {
  const total = batches * perSeal;
  const dir = await mkdtemp(path.join(tmpdir(), 'provenant-verify-bench-'));
  try {
    progress(`verify: writing an export of ${total.toLocaleString('en-US')} records`);
    const pem = await writeExport(dir, batches, perSeal);
    const source = directorySource(dir);
    const files = (await source.list()).filter((p) => p.endsWith('.jsonl'));
    progress('verify: raw SHA-256 of every record line');
    const raw = await bestAsync(3, async () => {
      for (const file of files) {
        const bytes = await readFile(path.join(dir, file));
        let start = 0;
        for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, start)) {
          createHash('sha256').update(bytes.subarray(start, nl)).digest();
          start = nl + 1;
        }
      }
    });
    progress('verify: audit verify of the export');
    let verified = 0;
    const ours = await bestAsync(2, async () => {
      const report = await verifyExport(source, (kv) =>
        Promise.resolve(kv === KEY_VERSION ? pem : undefined),
      );
      const tenant = report.tenants[0];
      if (!report.ok || tenant === undefined) {
        throw new Error(`the bench export did not verify: ${JSON.stringify(report).slice(0, 500)}`);
      }
      verified = tenant.records;
    });
    if (verified !== total)
      throw new Error(`verified ${String(verified)} of ${String(total)} records`);
    return [
      {
        name: 'verify_ratio_vs_sha256',
        value: raw / ours,
        unit: 'ratio',
        baseline: raw,
        detail: `audit verify of ${total.toLocaleString('en-US')} records: ${ours.toFixed(0)} ms (${Math.round((total * 1000) / ours).toLocaleString('en-US')} records/s); reading the files and one SHA-256 per record line: ${raw.toFixed(0)} ms (${Math.round((total * 1000) / raw).toLocaleString('en-US')} records/s)`,
      },
      {
        name: 'verify_records_per_s',
        value: (total * 1000) / ours,
        unit: 'records/s',
        detail: 'audit verify throughput on one core',
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
