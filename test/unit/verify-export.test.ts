import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { canonicalJson, sha256Hex } from '../../functions/src/evidence/canonical';
import { contextBytes } from '../../functions/src/evidence/signing-context';
import { leafHash, rootHash } from '../../functions/src/evidence/merkle';
import {
  contentHash,
  EvidenceRecordSchema,
  verifyContentHash,
  type EvidenceBody,
  type EvidenceRecord,
} from '../../functions/src/evidence/record';
import {
  compareRecords,
  EPOCH_ISO,
  exportLine,
  exportPaths,
  leafData,
  sealFileContent,
  sealHash,
  type Seal,
  type UnsignedSeal,
} from '../../functions/src/evidence/seal';
import { directorySource, type ExportSource } from '../../functions/src/evidence/export-source';
import {
  verifyExport,
  type PublicKeyResolver,
  type VerifyProblem,
  type VerifyReport,
} from '../../functions/src/evidence/verify-export';

const KEY_VERSION = 'projects/p/locations/eu/keyRings/audit/cryptoKeys/seal/cryptoKeyVersions/1';
const platform = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const attacker = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const platformPem = platform.publicKey.export({ type: 'spki', format: 'pem' }).toString();
/** The auditor's resolver knows the platform sealing key and nothing else. */
const resolveKey: PublicKeyResolver = (kv) =>
  Promise.resolve(kv === KEY_VERSION ? platformPem : undefined);

const h = (label: string) => sha256Hex(label);
const HOUR = 3_600_000;
const BASE = Date.parse('2026-03-10T08:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function record(tenantId: string, n: number, createdAt: string): EvidenceRecord {
  const body: EvidenceBody = {
    id: `ev_${tenantId}-ext-${String(n).padStart(3, '0')}`,
    tenantId,
    extractionId: `${tenantId}-ext-${n}`,
    kind: 'extraction',
    request: {
      payloadSha256: h(`payload ${tenantId} ${n}`),
      contentType: 'application/pdf',
      bytes: 1000 + n,
      ciphertextRef: `gs://docs/${tenantId}/documents/doc-${n}`,
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
      rawSha256: h(`raw ${n}`),
      ciphertextRef: `gs://docs/${tenantId}/responses/ext-${n}`,
      usage: { inputTokens: 10, outputTokens: 5 },
      latencyMs: 100,
      attempts: [
        {
          provider: 'openai',
          model: 'gpt-4o-mini',
          outcome: 'ok',
          latencyMs: 100,
          providerRequestId: `req_${n}`,
        },
      ],
    },
    postProcessing: [
      { step: 'parse-output', version: 1, inputSha256: h(`${n}a`), outputSha256: h(`${n}b`) },
    ],
    output: { sha256: h(`out ${n}`), schema: 'invoice', schemaVersion: 1 },
    actor: { kind: 'apiKey', id: 'key-1' },
    subprocessors: ['openai'],
  };
  return { ...body, contentSha256: contentHash(body), createdAt };
}

function signSeal(u: UnsignedSeal, key: KeyObject = platform.privateKey, kv = KEY_VERSION): Seal {
  const value = sign('sha256', contextBytes('seal', canonicalJson(u)), key).toString('base64');
  return { ...u, signature: { keyVersion: kv, algorithm: 'EC_SIGN_P256_SHA256', value } };
}

interface SealedBatch {
  seal: Seal;
  records: EvidenceRecord[];
}

/**
 * A minimal sealer written from the design, independent of the verifier: records in
 * (createdAt, id) order, each seal over all leaves so far, chained and signed.
 */
function buildLog(tenantId: string, batchSizes: number[]): SealedBatch[] {
  const out: SealedBatch[] = [];
  const leaves: Buffer[] = [];
  let n = 0;
  let t = BASE;
  let prev: Seal | undefined;
  for (const [i, size] of batchSizes.entries()) {
    const records: EvidenceRecord[] = [];
    for (let k = 0; k < size; k++) {
      n += 1;
      // Two records share a commit time in every batch, so the id tie-break is exercised.
      if (k !== 1) t += 5 * HOUR;
      records.push(record(tenantId, n, iso(t)));
    }
    records.sort(compareRecords);
    leaves.push(...records.map((r) => leafHash(leafData(r))));
    // The first seal ends exactly at its last record (coverage is inclusive at `to`).
    const to = iso(i === 0 ? t : t + 7 * 60_000);
    const unsigned: UnsignedSeal = {
      version: 1,
      tenantId,
      seq: i + 1,
      treeSize: leaves.length,
      rootHash: rootHash(leaves).toString('hex'),
      batch: { firstIndex: leaves.length - size, count: size },
      coverage: { from: prev?.coverage.to ?? EPOCH_ISO, to },
      prevSealHash: prev === undefined ? null : sealHash(prev),
      sealedAt: iso(Date.parse(to) + 5 * 60_000),
    };
    const seal = signSeal(unsigned);
    out.push({ seal, records });
    prev = seal;
    t = Date.parse(to);
  }
  return out;
}

const jsonl = (records: readonly EvidenceRecord[]) =>
  records.map((r) => `${exportLine(r)}\n`).join('');

function exportFiles(logs: readonly SealedBatch[][]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const log of logs) {
    for (const { seal, records } of log) {
      const paths = exportPaths('', seal);
      files.set(paths.records, Buffer.from(jsonl(records)));
      files.set(paths.seal, Buffer.from(sealFileContent(seal)));
    }
  }
  return files;
}

function memorySource(files: ReadonlyMap<string, Buffer>): ExportSource {
  return {
    list: () => Promise.resolve([...files.keys()]),
    read: (path) => {
      const data = files.get(path);
      return data === undefined ? Promise.reject(new Error(`no ${path}`)) : Promise.resolve(data);
    },
  };
}

const LOG_A = buildLog('tenant-a', [3, 4, 3]);
const LOG_B = buildLog('tenant-b', [2, 3, 4]);
const pathsOf = (log: SealedBatch[], seq: number) =>
  exportPaths('', (log[seq - 1] as SealedBatch).seal);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'provenant-export-'));
  for (const [path, data] of exportFiles([LOG_A, LOG_B])) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), data);
  }
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const verifyDir = () => verifyExport(directorySource(dir), resolveKey);
const kinds = (r: VerifyReport) =>
  r.tenants.flatMap((t) => t.problems.map((p) => `${t.tenantId}#${p.seq ?? '-'}:${p.kind}`));

async function editLines(path: string, edit: (lines: string[]) => string[]): Promise<void> {
  const text = await readFile(join(dir, path), 'utf8');
  const lines = text.split('\n').slice(0, -1);
  await writeFile(
    join(dir, path),
    edit(lines)
      .map((l) => `${l}\n`)
      .join(''),
  );
}

async function replaceSeal(log: SealedBatch[], seq: number, seal: Seal): Promise<void> {
  await writeFile(join(dir, pathsOf(log, seq).seal), sealFileContent(seal));
}

function sealOf(log: SealedBatch[], seq: number): Seal {
  return structuredClone((log[seq - 1] as SealedBatch).seal);
}

function unsignedOf(seal: Seal): UnsignedSeal {
  const { signature: _signature, ...u } = seal;
  return u;
}

function expectFirst(report: VerifyReport, expected: Partial<VerifyProblem>): void {
  expect(report.ok).toBe(false);
  expect(report.firstProblem).toMatchObject(expected);
}

describe('tampering is caught', () => {
  it('one flipped byte in a record line: record_hash naming the record and line', async () => {
    const path = pathsOf(LOG_A, 2).records;
    const target = LOG_A[1]?.records[1] as EvidenceRecord;
    // Record n = 5 (second of seal 2): flip one hex digit of its payload hash, so the line stays
    // JSON of the right shape and only the content hash can tell.
    const payload = h('payload tenant-a 5');
    const flipped = `${payload[0] === 'f' ? 'e' : 'f'}${payload.slice(1)}`;
    await editLines(path, (lines) => {
      expect(lines[1]).toContain(payload);
      return lines.map((l, i) => (i === 1 ? l.replace(payload, flipped) : l));
    });
    const report = await verifyDir();
    expectFirst(report, {
      kind: 'record_hash',
      tenantId: 'tenant-a',
      seq: 2,
      line: 2,
      recordId: target.id,
      path,
    });
    expect(kinds(report)).toEqual(
      expect.arrayContaining(['tenant-a#2:record_hash', 'tenant-a#2:root_mismatch']),
    );
    expect(report.tenants.find((t) => t.tenantId === 'tenant-b')?.problems).toEqual([]);
  });

  it('every single-byte flip anywhere in a line is detected', async () => {
    // A one-seal log keeps the ~1,500 full verifications fast.
    const small = buildLog('tenant-c', [2]);
    const files = exportFiles([small]);
    const path = pathsOf(small, 1).records;
    const original = files.get(path) as Buffer;
    const lineEnd = original.indexOf(0x0a);
    let undetected = 0;
    for (let i = 0; i < lineEnd; i++) {
      const tampered = Buffer.from(original);
      tampered[i] = (tampered[i] as number) ^ 0x01;
      const report = await verifyExport(
        memorySource(new Map([...files, [path, tampered]])),
        resolveKey,
      );
      if (report.ok) undetected++;
    }
    expect({ undetected, checked: lineEnd }).toEqual({ undetected: 0, checked: lineEnd });
  }, 60_000);

  it('a re-serialized line (same record, other bytes): record_shape and root_mismatch', async () => {
    await editLines(pathsOf(LOG_B, 1).records, (lines) =>
      lines.map((l, i) => (i === 0 ? l.replace('{', '{ ') : l)),
    );
    const report = await verifyDir();
    expectFirst(report, { kind: 'record_shape', tenantId: 'tenant-b', seq: 1, line: 1 });
    expect(kinds(report)).toEqual([
      'tenant-b#1:record_shape',
      'tenant-b#1:root_mismatch',
      'tenant-b#2:root_mismatch',
      'tenant-b#3:root_mismatch',
    ]);
  });

  it('a deleted record line: batch_count', async () => {
    await editLines(pathsOf(LOG_B, 2).records, (lines) => lines.filter((_, i) => i !== 1));
    const report = await verifyDir();
    expectFirst(report, { kind: 'batch_count', tenantId: 'tenant-b', seq: 2 });
    expect(kinds(report)).toEqual([
      'tenant-b#2:batch_count',
      'tenant-b#2:root_mismatch',
      'tenant-b#3:root_mismatch',
    ]);
  });

  it('two reordered records: record_order at the later line', async () => {
    await editLines(pathsOf(LOG_A, 3).records, ([a, b, ...rest]) => [
      b as string,
      a as string,
      ...rest,
    ]);
    const report = await verifyDir();
    expectFirst(report, { kind: 'record_order', tenantId: 'tenant-a', seq: 3, line: 2 });
    expect(kinds(report)).toContain('tenant-a#3:root_mismatch');
  });

  it('a dropped middle seal (both files): seq_gap', async () => {
    const { records, seal } = pathsOf(LOG_A, 2);
    await unlink(join(dir, records));
    await unlink(join(dir, seal));
    const report = await verifyDir();
    expectFirst(report, { kind: 'seq_gap', tenantId: 'tenant-a', seq: 3 });
    expect(kinds(report)).toEqual(
      expect.arrayContaining(['tenant-a#3:chain_broken', 'tenant-a#3:coverage_gap']),
    );
  });

  it('a dropped first seal (both files): seq_gap', async () => {
    const { records, seal } = pathsOf(LOG_B, 1);
    await unlink(join(dir, records));
    await unlink(join(dir, seal));
    expectFirst(await verifyDir(), { kind: 'seq_gap', tenantId: 'tenant-b', seq: 2 });
  });

  it('a dropped .seal.json alone: orphan_file', async () => {
    const { records, seal } = pathsOf(LOG_A, 2);
    await unlink(join(dir, seal));
    const report = await verifyDir();
    expectFirst(report, { kind: 'orphan_file', tenantId: 'tenant-a', seq: 2, path: records });
    expect(kinds(report)).toContain('tenant-a#3:seq_gap');
  });

  it('a dropped .jsonl alone: orphan_file, and the batch is missing', async () => {
    const { records, seal } = pathsOf(LOG_B, 3);
    await unlink(join(dir, records));
    const report = await verifyDir();
    expectFirst(report, { kind: 'orphan_file', tenantId: 'tenant-b', seq: 3, path: seal });
    expect(kinds(report)).toEqual(
      expect.arrayContaining(['tenant-b#3:batch_count', 'tenant-b#3:root_mismatch']),
    );
  });

  it('a seal re-signed under another key version: unknown_key, then the chain breaks', async () => {
    const forged = signSeal(unsignedOf(sealOf(LOG_A, 2)), attacker.privateKey, 'attacker/1');
    await replaceSeal(LOG_A, 2, forged);
    const report = await verifyDir();
    expectFirst(report, { kind: 'unknown_key', tenantId: 'tenant-a', seq: 2 });
    expect(kinds(report)).toEqual(['tenant-a#2:unknown_key', 'tenant-a#3:chain_broken']);
  });

  it('a seal re-signed with another key under the platform key version: signature_invalid', async () => {
    const forged = signSeal(unsignedOf(sealOf(LOG_A, 2)), attacker.privateKey, KEY_VERSION);
    await replaceSeal(LOG_A, 2, forged);
    const report = await verifyDir();
    expectFirst(report, { kind: 'signature_invalid', tenantId: 'tenant-a', seq: 2 });
    expect(kinds(report)).toEqual(['tenant-a#2:signature_invalid', 'tenant-a#3:chain_broken']);
  });

  it('a changed rootHash re-signed with the right key: root_mismatch', async () => {
    const u = unsignedOf(sealOf(LOG_B, 2));
    await replaceSeal(LOG_B, 2, signSeal({ ...u, rootHash: h('forged root') }));
    const report = await verifyDir();
    expectFirst(report, { kind: 'root_mismatch', tenantId: 'tenant-b', seq: 2 });
    expect(kinds(report)).toEqual(['tenant-b#2:root_mismatch', 'tenant-b#3:chain_broken']);
  });

  it('a broken prevSealHash: chain_broken (and the signature no longer verifies)', async () => {
    const seal = sealOf(LOG_A, 3);
    await replaceSeal(LOG_A, 3, { ...seal, prevSealHash: h('elsewhere') });
    const report = await verifyDir();
    expectFirst(report, { kind: 'chain_broken', tenantId: 'tenant-a', seq: 3 });
    expect(kinds(report)).toEqual(['tenant-a#3:chain_broken', 'tenant-a#3:signature_invalid']);
  });

  it('a broken prevSealHash re-signed with the right key: still chain_broken', async () => {
    const u = unsignedOf(sealOf(LOG_A, 2));
    await replaceSeal(LOG_A, 2, signSeal({ ...u, prevSealHash: h('elsewhere') }));
    const report = await verifyDir();
    expectFirst(report, { kind: 'chain_broken', tenantId: 'tenant-a', seq: 2 });
    expect(kinds(report)).toEqual(['tenant-a#2:chain_broken', 'tenant-a#3:chain_broken']);
  });

  it('a narrowed coverage window re-signed: record_coverage and coverage_gap', async () => {
    const u = unsignedOf(sealOf(LOG_A, 1));
    const last = LOG_A[0]?.records.at(-1) as EvidenceRecord;
    const to = iso(Date.parse(last.createdAt) - 1);
    await replaceSeal(LOG_A, 1, signSeal({ ...u, coverage: { ...u.coverage, to } }));
    const report = await verifyDir();
    expectFirst(report, { kind: 'record_coverage', tenantId: 'tenant-a', seq: 1, line: 3 });
    expect(kinds(report)).toEqual(
      expect.arrayContaining(['tenant-a#2:chain_broken', 'tenant-a#2:coverage_gap']),
    );
  });

  it('a record moved into another tenant log: record_shape', async () => {
    const intruder = LOG_B[0]?.records[0] as EvidenceRecord;
    await editLines(pathsOf(LOG_A, 1).records, (lines) => [
      ...lines,
      exportLine({ ...intruder, createdAt: (LOG_A[0] as SealedBatch).seal.coverage.to }),
    ]);
    const report = await verifyDir();
    expectFirst(report, { kind: 'record_shape', tenantId: 'tenant-a', seq: 1, line: 4 });
  });

  it('a seal file renamed to fill a gap: orphan_file', async () => {
    const two = pathsOf(LOG_A, 2);
    const three = pathsOf(LOG_A, 3);
    await unlink(join(dir, two.records));
    await unlink(join(dir, two.seal));
    const moved = (p: string) => p.replace(/000003\./, '000002.');
    await writeFile(join(dir, moved(three.records)), await readFile(join(dir, three.records)));
    await writeFile(join(dir, moved(three.seal)), await readFile(join(dir, three.seal)));
    await unlink(join(dir, three.records));
    await unlink(join(dir, three.seal));
    const report = await verifyDir();
    expectFirst(report, { kind: 'orphan_file', tenantId: 'tenant-a', seq: 3 });
    expect(kinds(report)).toContain('tenant-a#3:seq_gap');
  });

  it('a stray file and an unparseable seal are reported', async () => {
    await writeFile(join(dir, 'tenant-b', 'notes.txt'), 'hello');
    await writeFile(join(dir, pathsOf(LOG_A, 1).seal), '{"version":1');
    const report = await verifyDir();
    expectFirst(report, { kind: 'record_shape', tenantId: 'tenant-a', seq: 1 });
    expect(kinds(report)).toContain('tenant-b#-:orphan_file');
  });
});

describe('an intact export', () => {
  it('verifies, with per-tenant heads and progress over every record', async () => {
    const progress: [number, number][] = [];
    const report = await verifyExport(directorySource(dir), resolveKey, (done, total) => {
      progress.push([done, total]);
    });
    expect(report.firstProblem).toBeNull();
    expect(report.ok).toBe(true);
    expect(report.tenants.map((t) => t.tenantId)).toEqual(['tenant-a', 'tenant-b']);
    for (const [tenant, log] of [
      [report.tenants[0], LOG_A],
      [report.tenants[1], LOG_B],
    ] as const) {
      const last = (log.at(-1) as SealedBatch).seal;
      expect(tenant).toEqual({
        tenantId: last.tenantId,
        seals: 3,
        records: last.treeSize,
        treeSize: last.treeSize,
        rootHash: last.rootHash,
        coverage: { from: EPOCH_ISO, to: last.coverage.to },
        problems: [],
      });
    }
    expect(progress).toHaveLength(19);
    expect(progress.at(-1)).toEqual([19, 19]);
    expect(progress.every(([d, t], i) => d === i + 1 && t === 19)).toBe(true);
  });

  it('lists files relative to the export root with / separators', async () => {
    const listed = await directorySource(dir).list();
    expect(listed).toHaveLength(12);
    expect(listed).toContain('tenant-a/2026/03/10/000001.jsonl');
    await expect(directorySource(dir).read('../outside')).rejects.toThrow(/outside the export/);
  });

  it('accepts the same export from any source, and an empty one', async () => {
    expect((await verifyExport(memorySource(exportFiles([LOG_A, LOG_B])), resolveKey)).ok).toBe(
      true,
    );
    expect(await verifyExport(memorySource(new Map()), resolveKey)).toEqual({
      ok: true,
      tenants: [],
      firstProblem: null,
    });
  });
});

/**
 * The verifier canonicalizes each record once and derives the content hash from the parsed line
 * (`contentHashMatches`), where it used to re-parse the body with zod and canonicalize twice.
 * These tamperings are what the duplicate computations caught; each must still be refused.
 */
describe('record checks after the single canonicalization', () => {
  const TENANT = 'tenant-c';
  /** One sealed batch of these records (already in log order) as export files. */
  function sealedFiles(records: EvidenceRecord[]): Map<string, Buffer> {
    const leaves = records.map((r) => leafHash(leafData(r)));
    const seal = signSeal({
      version: 1,
      tenantId: TENANT,
      seq: 1,
      treeSize: leaves.length,
      rootHash: rootHash(leaves).toString('hex'),
      batch: { firstIndex: 0, count: leaves.length },
      coverage: { from: EPOCH_ISO, to: (records.at(-1) as EvidenceRecord).createdAt },
      prevSealHash: null,
      sealedAt: iso(BASE + 9 * HOUR),
    });
    return exportFiles([[{ seal, records }]]);
  }
  const base = () => record(TENANT, 1, iso(BASE + HOUR));
  const rehashed = (r: EvidenceRecord): EvidenceRecord => {
    const { contentSha256: _c, createdAt, ...body } = r;
    return { ...body, contentSha256: contentHash(body), createdAt };
  };
  const withParams = (params: Record<string, unknown>): EvidenceRecord => {
    const r = base();
    if (r.kind !== 'extraction') throw new Error('an extraction record');
    return rehashed({ ...r, model: { ...r.model, params } } as EvidenceRecord);
  };
  /** Verifies one records file holding `lines` (no seal beside it: only the record checks). */
  async function recordProblems(lines: Buffer[]): Promise<VerifyProblem[]> {
    const path = `${TENANT}/2026/03/10/000001.jsonl`;
    const data = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
    const report = await verifyExport(memorySource(new Map([[path, data]])), resolveKey);
    return (report.tenants[0]?.problems ?? []).filter(
      (p) => p.kind === 'record_hash' || p.kind === 'record_shape',
    );
  }
  /** The record checks as the verifier computed them before: the formulas, written out. */
  function referenceKinds(bytes: Buffer): string[] {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      return ['record_shape'];
    }
    const parsed = EvidenceRecordSchema.safeParse(json);
    if (!parsed.success) return ['record_shape'];
    return [
      ...(verifyContentHash(parsed.data) ? [] : ['record_hash']),
      ...(canonicalJson(json) === bytes.toString('utf8') ? [] : ['record_shape']),
      ...(parsed.data.tenantId === TENANT ? [] : ['record_shape']),
    ];
  }
  /** The same record's members written in reverse key order (the same JSON value). */
  const reversedKeys = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(reversedKeys)
      : typeof value === 'object' && value !== null
        ? Object.fromEntries(
            Object.entries(value)
              .reverse()
              .map(([k, v]) => [k, reversedKeys(v)]),
          )
        : value;
  const lineOf = (r: unknown) => Buffer.from(canonicalJson(r));
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
  const flippedPayload = (r: EvidenceRecord): EvidenceRecord => {
    if (r.kind !== 'extraction') throw new Error('an extraction record');
    const payload = r.request.payloadSha256;
    const flipped = `${payload[0] === 'f' ? 'e' : 'f'}${payload.slice(1)}`;
    return { ...r, request: { ...r.request, payloadSha256: flipped } };
  };

  it('a forged contentSha256 on an otherwise intact, canonical line: record_hash', async () => {
    const forged = { ...base(), contentSha256: h('forged') };
    const problems = await recordProblems([lineOf(forged)]);
    expect(problems.map((p) => [p.kind, p.line, p.recordId])).toEqual([
      ['record_hash', 1, forged.id],
    ]);
  });

  it('a changed field re-serialized out of canonical key order: record_hash and record_shape', async () => {
    const tampered = Buffer.from(JSON.stringify(reversedKeys(flippedPayload(base()))));
    const problems = await recordProblems([tampered]);
    expect(problems.map((p) => [p.kind, p.line])).toEqual([
      ['record_hash', 1],
      ['record_shape', 1],
    ]);
    expect(problems[1]?.message).toMatch(/not the canonical JSON/);
  });

  it('a line behind a byte-order mark: record_shape, though the decoder drops the mark', async () => {
    const problems = await recordProblems([Buffer.concat([BOM, lineOf(base())])]);
    expect(problems.map((p) => [p.kind, p.message])).toEqual([
      ['record_shape', 'line is not the canonical JSON of its record'],
    ]);
  });

  it('integer-like keys in canonical order verify; a changed value among them: record_hash', async () => {
    // JavaScript lists "9" before "10"; RFC 8785 sorts "10" first, so these take the slow path.
    const r = withParams({ '9': 1, '10': 2, temperature: 0 });
    expect(canonicalJson(r)).toContain('"params":{"10":2,"9":1,"temperature":0}');
    const intact = await verifyExport(memorySource(sealedFiles([r])), resolveKey);
    expect(intact.firstProblem).toBeNull();
    const tampered = Buffer.from(canonicalJson(r).replace('"10":2', '"10":3'));
    expect((await recordProblems([tampered])).map((p) => p.kind)).toEqual(['record_hash']);
  });

  it('a key zod drops (__proto__ in a record of params) is hashed as the writer hashed it', async () => {
    // JSON.parse makes __proto__ an own key; zod's record parse skips it, and so did the hash the
    // writer stored (`contentHash` hashes the parse), so the raw line must not be hashed here.
    const params = JSON.parse('{"__proto__":1,"temperature":0}') as Record<string, unknown>;
    const r = withParams(params);
    expect(canonicalJson(r)).toContain('"params":{"__proto__":1,"temperature":0}');
    const intact = await verifyExport(memorySource(sealedFiles([r])), resolveKey);
    expect(intact.firstProblem).toBeNull();
    // A hash over the raw line (with the key) is not the record's hash.
    const rawHashed = {
      ...r,
      contentSha256: sha256Hex(
        canonicalJson({ ...r, contentSha256: undefined, createdAt: undefined }),
      ),
    };
    expect((await recordProblems([lineOf(rawHashed)])).map((p) => p.kind)).toEqual(['record_hash']);
  });

  it('the record schemas transform nothing: a parse equals the JSON it parsed', () => {
    // contentHashMatches hashes the parsed line instead of zod's output; a transform, default or
    // coercion added to EvidenceRecordSchema would make the two differ, and fails here first.
    const full = withParams({ temperature: 0 });
    if (full.kind !== 'extraction') throw new Error('an extraction record');
    const everyOptional = rehashed({
      ...full,
      response: {
        ...full.response,
        attempts: full.response.attempts.map((a) => ({
          ...a,
          requestSha256: h('request'),
          maxOutputTokens: 1000,
        })),
      },
      postProcessing: full.postProcessing.map((p) => ({ ...p, settings: { dateOrder: 'dmy' } })),
      output: { ...full.output, schemaSha256: h('schema') },
    });
    const event = rehashed({
      id: 'ev_erasure_1',
      tenantId: TENANT,
      kind: 'erasure',
      subject: { type: 'document', id: 'doc-1' },
      details: { reason: 'request', count: 2, final: true, none: null, ids: ['a', 'b'] },
      actor: { kind: 'service', id: 'provenant-cli' },
      contentSha256: '',
      createdAt: iso(BASE),
    });
    for (const r of [base(), everyOptional, event]) {
      const json = JSON.parse(canonicalJson(r)) as unknown;
      const parsed = EvidenceRecordSchema.parse(json);
      expect(canonicalJson(parsed)).toBe(canonicalJson(json));
      expect(verifyContentHash(parsed)).toBe(true);
    }
  });

  it('agrees with the former record checks on every one-byte flip and each rewriting', async () => {
    const intact = base();
    const line = lineOf(intact);
    const variants: Buffer[] = [
      line,
      lineOf({ ...intact, contentSha256: h('forged') }),
      lineOf(flippedPayload(intact)),
      lineOf(rehashed(flippedPayload(intact))),
      Buffer.from(JSON.stringify(reversedKeys(intact))),
      Buffer.from(JSON.stringify(reversedKeys(flippedPayload(intact)))),
      Buffer.concat([BOM, line]),
      Buffer.concat([Buffer.from(' '), line]),
      lineOf({ ...intact, expireAt: '2033-01-01T00:00:00.000Z' }),
      lineOf({ ...flippedPayload(intact), expireAt: '2033-01-01T00:00:00.000Z' }),
      lineOf(withParams({ '9': 1, '10': 2 })),
      lineOf({ ...withParams({ '9': 1, '10': 2 }), contentSha256: intact.contentSha256 }),
      lineOf(withParams(JSON.parse('{"__proto__":1}') as Record<string, unknown>)),
      lineOf(rehashed({ ...intact, id: '"__proto__"' })),
      lineOf({ ...intact, tenantId: 'tenant-a' }),
      lineOf(rehashed({ ...intact, tenantId: 'tenant-a' })),
    ];
    for (let i = 0; i < line.length; i++) {
      const flipped = Buffer.from(line);
      flipped[i] = (flipped[i] as number) ^ 0x01;
      variants.push(flipped);
    }
    const problems = await recordProblems(variants);
    const actual = variants.map((_, i) =>
      problems.filter((p) => p.line === i + 1).map((p) => p.kind),
    );
    const expected = variants.map(referenceKinds);
    expect(actual).toEqual(expected);
    // The table is not vacuous: intact lines, each kind alone, and both together all occur.
    const seen = new Set(expected.map((k) => k.join('+')));
    expect([...seen].sort()).toEqual(
      expect.arrayContaining(['', 'record_hash', 'record_shape', 'record_hash+record_shape']),
    );
  }, 60_000);
});
