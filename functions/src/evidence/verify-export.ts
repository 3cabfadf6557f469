/**
 * Offline verifier of an audit export: the same code the auditor CLI runs against a copy of the
 * locked bucket. It trusts nothing in the export except what the platform key signed, and
 * recomputes everything else (record hashes, order, coverage, batch sizes, Merkle roots, the
 * hash chain), collecting every problem instead of stopping at the first so an auditor sees
 * the full extent of a tampering.
 *
 * Layout (relative to the export root, see `exportPaths`):
 * `{tenantId}/{yyyy}/{mm}/{dd}/{seq6}.jsonl` + `.seal.json`, and beside them what the records
 * name by hash (`evidence/content.ts`): `{tenantId}/content/{sha256}`, whose bytes must hash to
 * its name.
 */
import { isTiledLogPath } from './tiles';
import { canonicalJsonWithout, sha256Hex } from './canonical';
import { checkContentFile, CONTENT_PATH_RE } from './content';
import type { ExportSource } from './export-source';
import { leafHash, MerkleAccumulator } from './merkle';
import { EvidenceRecordSchema, verifyContentHash, type EvidenceRecord } from './record';
import {
  compareRecords,
  EPOCH_ISO,
  exportPaths,
  sealHash,
  SealSchema,
  verifySealSignature,
  type Seal,
} from './seal';

/** PEM of a key version, or undefined when the key version is not a platform sealing key. */
export type PublicKeyResolver = (keyVersion: string) => Promise<string | undefined>;

/** One finding; `seq`, `recordId`, `line` and `path` locate it as precisely as is known. */
export interface VerifyProblem {
  kind:
    | 'record_hash'
    | 'record_shape'
    | 'record_order'
    | 'record_coverage'
    | 'batch_count'
    | 'root_mismatch'
    | 'chain_broken'
    | 'signature_invalid'
    | 'unknown_key'
    | 'seq_gap'
    | 'coverage_gap'
    | 'orphan_file'
    | 'content_hash'
    | 'unreadable';
  tenantId: string;
  seq?: number;
  recordId?: string;
  line?: number;
  path?: string;
  message: string;
}

/** What the export proves for one tenant's log. */
export interface TenantReport {
  tenantId: string;
  /** Seals that parsed. */
  seals: number;
  /** Record lines read. */
  records: number;
  /** Leaves recomputed from the export (equals the last seal's treeSize when ok). */
  treeSize: number;
  /** Root recomputed over those leaves; null when the tenant has no readable seal. */
  rootHash: string | null;
  /** From the first seal's coverage.from to the last seal's coverage.to. */
  coverage: { from: string; to: string } | null;
  problems: VerifyProblem[];
}

/**
 * The verdict: ok only when no tenant has any problem. Tenants are sorted by id and each one's
 * problems are in seq, then line, order; firstProblem is the first problem of the first tenant
 * that has one.
 */
export interface VerifyReport {
  ok: boolean;
  tenants: TenantReport[];
  firstProblem: VerifyProblem | null;
}

const PATH_RE = /^([^/]+)\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{6,})\.(jsonl|seal\.json)$/;

/** The two files of one seal, as found in the export. */
interface Unit {
  /** seq from the file name; the seal's own seq once parsed. */
  seq: number;
  stem: string;
  recordsPath?: string;
  sealPath?: string;
  seal?: Seal;
  /** Problems found while reading the seal, reported when the unit's turn comes. */
  early: VerifyProblem[];
}

interface TenantFiles {
  units: Map<string, Unit>;
  strays: string[];
  /** Content-addressed files (`{tenantId}/content/{sha256}`). */
  content: string[];
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Splits on '\n' keeping exact bytes; one trailing newline ends the file, it adds no line. */
function splitLines(data: Buffer): Buffer[] {
  if (data.length === 0) return [];
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, start)) {
    lines.push(data.subarray(start, i));
    start = i + 1;
  }
  if (start < data.length) lines.push(data.subarray(start));
  return lines;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 byte-order mark, which `TextDecoder` strips by default (WHATWG Encoding, "decode"). */
function startsWithBom(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

/**
 * Verifies a whole export: per tenant, in seq order, file pairing, seal shape, seq continuity,
 * hash chain, signature under a resolvable platform key, coverage continuity, every record's
 * shape, content hash, tenant, global `(createdAt, id)` order and coverage window, batch sizes
 * and the Merkle root over all leaves so far. `onProgress(done, total)` reports records
 * verified; total is what the seals declare (raised if the export holds more lines).
 *
 * A log truncated after its last seal cannot be detected from the export alone: compare the last
 * seal with the tenant's `seals` collection or a previously seen head.
 */
export async function verifyExport(
  source: ExportSource,
  resolveKey: PublicKeyResolver,
  onProgress?: (done: number, total: number) => void,
): Promise<VerifyReport> {
  const tenants = new Map<string, TenantFiles>();
  const tenantFiles = (id: string) => {
    let t = tenants.get(id);
    if (t === undefined) {
      t = { units: new Map(), strays: [], content: [] };
      tenants.set(id, t);
    }
    return t;
  };

  for (const path of await source.list()) {
    if (isTiledLogPath(path)) continue;
    const content = CONTENT_PATH_RE.exec(path);
    if (content !== null) {
      tenantFiles(content[1] ?? '').content.push(path);
      continue;
    }
    const m = PATH_RE.exec(path);
    if (m === null) {
      const slash = path.indexOf('/');
      tenantFiles(slash === -1 ? '' : path.slice(0, slash)).strays.push(path);
      continue;
    }
    const [, tenantId = '', yyyy, mm, dd, seq6 = '', ext] = m;
    const stem = `${yyyy}/${mm}/${dd}/${seq6}`;
    const files = tenantFiles(tenantId);
    let unit = files.units.get(stem);
    if (unit === undefined) {
      unit = { seq: Number(seq6), stem, early: [] };
      files.units.set(stem, unit);
    }
    if (ext === 'jsonl') unit.recordsPath = path;
    else unit.sealPath = path;
  }

  // Seals first (they are small): their batch counts give the progress total, and their seq
  // decides the order in which the record files are checked.
  let total = 0;
  for (const [tenantId, files] of tenants) {
    for (const unit of files.units.values()) {
      if (unit.sealPath === undefined) continue;
      const seal = await readSeal(source, tenantId, unit);
      if (seal === undefined) continue;
      unit.seal = seal;
      unit.seq = seal.seq;
      total += seal.batch.count;
    }
  }

  const progress = { done: 0, total };
  const tick = () => {
    progress.done += 1;
    progress.total = Math.max(progress.total, progress.done);
    onProgress?.(progress.done, progress.total);
  };
  const keys = new Map<string, Promise<string | undefined>>();
  const keyFor = (keyVersion: string) => {
    let pem = keys.get(keyVersion);
    if (pem === undefined) {
      pem = resolveKey(keyVersion);
      keys.set(keyVersion, pem);
    }
    return pem;
  };

  const reports: TenantReport[] = [];
  for (const tenantId of [...tenants.keys()].sort()) {
    const files = tenants.get(tenantId) as TenantFiles;
    reports.push(await verifyTenant(source, tenantId, files, keyFor, tick));
  }
  const firstProblem = reports.find((r) => r.problems.length > 0)?.problems[0] ?? null;
  return { ok: firstProblem === null, tenants: reports, firstProblem };
}

async function readSeal(
  source: ExportSource,
  tenantId: string,
  unit: Unit,
): Promise<Seal | undefined> {
  const path = unit.sealPath as string;
  const at = { tenantId, seq: unit.seq, path };
  let text: string;
  try {
    text = utf8.decode(await source.read(path));
  } catch (err) {
    unit.early.push({ ...at, kind: 'unreadable', message: `cannot read seal: ${errorText(err)}` });
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    unit.early.push({
      ...at,
      kind: 'record_shape',
      message: `seal is not JSON: ${errorText(err)}`,
    });
    return undefined;
  }
  const parsed = SealSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    unit.early.push({
      ...at,
      kind: 'record_shape',
      message: `seal has the wrong shape: ${issues}`,
    });
    return undefined;
  }
  return parsed.data;
}

/** The state carried from one seal to the next. */
interface LogState {
  prevSeal: Seal | undefined;
  prevRecord: EvidenceRecord | undefined;
  leaves: MerkleAccumulator;
  records: number;
}

async function verifyTenant(
  source: ExportSource,
  tenantId: string,
  files: TenantFiles,
  keyFor: (keyVersion: string) => Promise<string | undefined>,
  tick: () => void,
): Promise<TenantReport> {
  const problems: VerifyProblem[] = [];
  const state: LogState = {
    prevSeal: undefined,
    prevRecord: undefined,
    leaves: new MerkleAccumulator(),
    records: 0,
  };
  const units = [...files.units.values()].sort((a, b) =>
    a.seq !== b.seq ? a.seq - b.seq : a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0,
  );
  let seals = 0;
  let firstSeal: Seal | undefined;

  for (const unit of units) {
    const report = (p: Omit<VerifyProblem, 'tenantId' | 'seq'>) => {
      problems.push({ tenantId, seq: unit.seq, ...p });
    };

    // A seal without its records (or records without their seal) cannot be fully verified.
    if (unit.sealPath === undefined) {
      report({
        kind: 'orphan_file',
        path: unit.recordsPath,
        message: `${unit.recordsPath ?? unit.stem} has no .seal.json beside it`,
      });
    } else if (unit.recordsPath === undefined) {
      report({
        kind: 'orphan_file',
        path: unit.sealPath,
        message: `${unit.sealPath} has no .jsonl beside it`,
      });
    }
    problems.push(...unit.early);

    const seal = unit.seal;
    if (seal !== undefined) {
      seals += 1;
      firstSeal ??= seal;
      await checkSealHeader(tenantId, unit, seal, state, keyFor, report);
    }

    const lines = await checkRecords(source, tenantId, unit, seal, state, tick, report);

    if (seal !== undefined) {
      const prevTreeSize = state.prevSeal?.treeSize ?? 0;
      if (lines !== undefined && seal.batch.count !== lines) {
        report({
          kind: 'batch_count',
          path: unit.recordsPath,
          message: `seal declares ${seal.batch.count} records, the file holds ${lines}`,
        });
      }
      if (seal.batch.firstIndex !== prevTreeSize) {
        report({
          kind: 'batch_count',
          path: unit.sealPath,
          message: `batch starts at leaf ${seal.batch.firstIndex}, the previous seal ended at ${prevTreeSize}`,
        });
      }
      if (seal.treeSize !== seal.batch.firstIndex + seal.batch.count) {
        report({
          kind: 'batch_count',
          path: unit.sealPath,
          message: `treeSize ${seal.treeSize} != firstIndex ${seal.batch.firstIndex} + count ${seal.batch.count}`,
        });
      }
      const root = state.leaves.root().toString('hex');
      if (root !== seal.rootHash) {
        report({
          kind: 'root_mismatch',
          path: unit.sealPath,
          message: `root over ${state.leaves.size} leaves is ${root}, seal signs ${seal.rootHash} over ${seal.treeSize}`,
        });
      }
      state.prevSeal = seal;
    }
  }

  for (const path of files.content) {
    const sha256 = path.slice(path.lastIndexOf('/') + 1);
    let problem: string | undefined;
    try {
      problem = checkContentFile(sha256, await source.read(path));
    } catch (err) {
      problems.push({ tenantId, path, kind: 'unreadable', message: errorText(err) });
      continue;
    }
    if (problem !== undefined)
      problems.push({ tenantId, path, kind: 'content_hash', message: problem });
  }

  for (const path of files.strays) {
    problems.push({
      tenantId,
      path,
      kind: 'orphan_file',
      message: `${path} is not part of the export layout`,
    });
  }

  const last = state.prevSeal;
  return {
    tenantId,
    seals,
    records: state.records,
    treeSize: state.leaves.size,
    rootHash: seals > 0 ? state.leaves.root().toString('hex') : null,
    coverage:
      firstSeal !== undefined && last !== undefined
        ? { from: firstSeal.coverage.from, to: last.coverage.to }
        : null,
    problems,
  };
}

type Report = (p: Omit<VerifyProblem, 'tenantId' | 'seq'>) => void;

async function checkSealHeader(
  tenantId: string,
  unit: Unit,
  seal: Seal,
  state: LogState,
  keyFor: (keyVersion: string) => Promise<string | undefined>,
  report: Report,
): Promise<void> {
  const path = unit.sealPath;
  // The file must sit exactly where the sealer would have written this seal: a seal copied from
  // another tenant, renamed to fill a gap or moved to another date is caught here.
  const wanted = exportPaths('', seal);
  if (seal.tenantId !== tenantId) {
    report({
      kind: 'orphan_file',
      path,
      message: `seal belongs to tenant ${seal.tenantId}, found under ${tenantId}`,
    });
  } else if (path !== wanted.seal) {
    report({
      kind: 'orphan_file',
      path,
      message: `seal ${seal.seq} belongs at ${wanted.seal}`,
    });
  }

  const prev = state.prevSeal;
  const expectedSeq = (prev?.seq ?? 0) + 1;
  if (seal.seq !== expectedSeq) {
    report({
      kind: 'seq_gap',
      path,
      message:
        seal.seq < expectedSeq
          ? `seq ${seal.seq} repeats or goes back (expected ${expectedSeq})`
          : `seq ${seal.seq} follows ${prev?.seq ?? 'the start of the log'}: seals ${expectedSeq}..${seal.seq - 1} are missing`,
    });
  }

  const expectedPrev = prev === undefined ? null : sealHash(prev);
  if (seal.prevSealHash !== expectedPrev) {
    report({
      kind: 'chain_broken',
      path,
      message:
        expectedPrev === null
          ? `first seal links to ${seal.prevSealHash ?? 'null'} instead of null`
          : `prevSealHash ${seal.prevSealHash ?? 'null'} != hash ${expectedPrev} of seal ${prev?.seq ?? '?'}`,
    });
  }

  let pem: string | undefined;
  let keyError = '';
  try {
    pem = await keyFor(seal.signature.keyVersion);
  } catch (err) {
    keyError = `: ${errorText(err)}`;
  }
  if (pem === undefined) {
    report({
      kind: 'unknown_key',
      path,
      message: `key version ${seal.signature.keyVersion} is not a known sealing key${keyError}`,
    });
  } else if (!verifySealSignature(seal, pem)) {
    report({
      kind: 'signature_invalid',
      path,
      message: `signature does not verify under ${seal.signature.keyVersion}`,
    });
  }

  const expectedFrom = prev?.coverage.to ?? EPOCH_ISO;
  if (seal.coverage.from !== expectedFrom) {
    report({
      kind: 'coverage_gap',
      path,
      message: `coverage starts at ${seal.coverage.from}, the previous seal ended at ${expectedFrom}`,
    });
  }
  if (seal.coverage.to < seal.coverage.from) {
    report({
      kind: 'coverage_gap',
      path,
      message: `coverage ends (${seal.coverage.to}) before it starts (${seal.coverage.from})`,
    });
  }
}

/** Checks every line of the unit's records file; returns the number of lines, if readable. */
async function checkRecords(
  source: ExportSource,
  tenantId: string,
  unit: Unit,
  seal: Seal | undefined,
  state: LogState,
  tick: () => void,
  report: Report,
): Promise<number | undefined> {
  const path = unit.recordsPath;
  if (path === undefined) return seal === undefined ? undefined : 0;
  let data: Buffer;
  try {
    data = await source.read(path);
  } catch (err) {
    report({ kind: 'unreadable', path, message: `cannot read records: ${errorText(err)}` });
    return undefined;
  }
  const lines = splitLines(data);
  lines.forEach((bytes, i) => {
    const line = i + 1;
    // The leaf is the line exactly as stored: any changed byte changes the root.
    state.leaves.append(leafHash(bytes));
    state.records += 1;
    checkLine(tenantId, seal, state, bytes, line, path, report);
    tick();
  });
  return lines.length;
}

function checkLine(
  tenantId: string,
  seal: Seal | undefined,
  state: LogState,
  bytes: Buffer,
  line: number,
  path: string,
  report: Report,
): void {
  let json: unknown;
  let text: string;
  try {
    text = utf8.decode(bytes);
    json = JSON.parse(text);
  } catch (err) {
    report({ kind: 'record_shape', line, path, message: `not a JSON line: ${errorText(err)}` });
    return;
  }
  const maybeId =
    typeof json === 'object' && json !== null && typeof (json as { id?: unknown }).id === 'string'
      ? (json as { id: string }).id
      : undefined;
  const parsed = EvidenceRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    report({
      kind: 'record_shape',
      recordId: maybeId,
      line,
      path,
      message: `not an evidence record: ${issues}`,
    });
    return;
  }
  const record = parsed.data;
  const at = { recordId: record.id, line, path };
  // The line's text exactly as stored (what `bytes.toString('utf8')` gives), decoded once: the
  // decoder drops a leading byte-order mark, which the line itself keeps (and which makes it
  // not canonical JSON).
  const lineText = startsWithBom(bytes) ? `\uFEFF${text}` : text;
  const canonicalText = canonicalJsonWithout(json as Record<string, unknown>, STORED_FIELDS);
  const canonical = canonicalText.full === lineText;
  if (!contentHashMatches(record, canonicalText.without, canonical, lineText)) {
    report({ ...at, kind: 'record_hash', message: `contentSha256 does not match the record` });
  }
  if (!canonical) {
    report({
      ...at,
      kind: 'record_shape',
      message: 'line is not the canonical JSON of its record',
    });
  }
  if (record.tenantId !== tenantId) {
    report({ ...at, kind: 'record_shape', message: `record of tenant ${record.tenantId}` });
  }
  const prev = state.prevRecord;
  if (prev !== undefined && compareRecords(prev, record) >= 0) {
    report({
      ...at,
      kind: 'record_order',
      message: `(${record.createdAt}, ${record.id}) does not come after (${prev.createdAt}, ${prev.id})`,
    });
  }
  state.prevRecord = record;
  if (
    seal !== undefined &&
    !(record.createdAt > seal.coverage.from && record.createdAt <= seal.coverage.to)
  ) {
    report({
      ...at,
      kind: 'record_coverage',
      message: `createdAt ${record.createdAt} is outside (${seal.coverage.from}, ${seal.coverage.to}]`,
    });
  }
}

/** What a stored record holds beside its body: outside the content hash (`verifyContentHash`). */
const STORED_FIELDS: ReadonlySet<string> = new Set(['contentSha256', 'createdAt', 'expireAt']);

/**
 * `verifyContentHash(record)`, without a second zod parse or a second canonicalization where the
 * line already proves what they would compute.
 *
 * `verifyContentHash` re-parses the body with `EvidenceBodySchema` and hashes the canonical JSON
 * of that parse. Both are implied here: `record` passed `EvidenceRecordSchema`, whose variants are
 * the body variants extended with `contentSha256` and `createdAt`, all strict, so the record
 * without those two keys passes the body schema (same discriminator, same field schemas, no
 * extra key). And the schemas transform nothing (no transform, default or coercion; a unit test
 * in verify-export.test.ts holds them to it), so the parse is the parsed JSON itself minus
 * what zod drops: the top-level `expireAt` (`withoutStorageFields`) and a `__proto__` key inside
 * a `z.record` (zod 4 skips it so it cannot replace the result's prototype: `$ZodRecord` in
 * zod/v4/core/schemas.cjs). So when the line is
 * canonical and names no `__proto__` key, the body's canonical JSON is `bodyText`, that of the
 * parsed line without `STORED_FIELDS`. A canonical line writes every key literally, so looking
 * for `"__proto__"` in its text finds every such key (a string value of that text also matches;
 * it only costs the slow path). Anything else takes `verifyContentHash`.
 */
function contentHashMatches(
  record: EvidenceRecord,
  bodyText: string,
  lineIsCanonical: boolean,
  lineText: string,
): boolean {
  if (!lineIsCanonical || lineText.includes('"__proto__"')) return verifyContentHash(record);
  return sha256Hex(bodyText) === record.contentSha256;
}
