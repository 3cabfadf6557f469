/**
 * Sealing: per tenant, the evidence records committed after the last seal and before
 * `now - safety` are appended, in (createdAt, id) order, to the tenant's append-only Merkle log
 * (RFC 6962). The seal — tree size, root, previous seal's hash, coverage window — is signed with
 * the platform's Cloud KMS EC P-256 key, stored create-only, and exported with its records to
 * the audit bucket under a Locked retention.
 *
 * Crash safety: an intent (the unsigned seal) is created before signing. A run that finds an
 * intent without a seal finishes that same seal from the same records; a run that finds a seal
 * without its export writes the export. Records are immutable and the window is closed, so a
 * resumed seal has the same content: nothing lost, duplicated or reordered.
 */
import { errorFields, log } from '../logging';
import { exportRecordContent } from './content-export';
import { expiryTimestamp } from './evidence-writer';
import type { Services } from '../services';
import { isAlreadyExists, isoToTimestamp, type TenantDb } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';
import { leafHash, nodeHash } from '../evidence/merkle';
import { EvidenceRecordSchema, type EvidenceRecord } from '../evidence/record';
import {
  compareRecords,
  exportLine,
  exportPaths,
  leafData,
  EPOCH_ISO,
  SEAL_VERSION,
  sealFileContent,
  SealSchema,
  sealDigest,
  sealHash,
  type Seal,
  type UnsignedSeal,
} from '../evidence/seal';
import { publishSealToTiles } from './tile-log';

const MAX_BATCH = 10_000;

/** Right edge of a Merkle tree: perfect subtrees in decreasing size, enough to append. */
export interface Frontier {
  size: number;
  nodes: { size: number; hash: string }[];
}

/**
 * One leaf appended to a stored frontier. The reference form of the fold: `appendLeaves` is the
 * one the sealer runs, and must give the same frontier (test/unit/sealer.test.ts).
 */
export function appendToFrontier(frontier: Frontier, leaf: Buffer): Frontier {
  const nodes = [...frontier.nodes, { size: 1, hash: leaf.toString('hex') }];
  for (;;) {
    const right = nodes[nodes.length - 1];
    const left = nodes[nodes.length - 2];
    if (!left || !right || left.size !== right.size) break;
    nodes.splice(nodes.length - 2, 2, {
      size: left.size * 2,
      hash: nodeHash(Buffer.from(left.hash, 'hex'), Buffer.from(right.hash, 'hex')).toString('hex'),
    });
  }
  return { size: frontier.size + 1, nodes };
}

/**
 * Many leaves appended to a stored frontier at once: the nodes are decoded from hex once, folded
 * as buffers in a stack that is changed in place, and encoded once at the end. Folding one leaf at
 * a time through the stored (hex) form copied the stack and converted two hashes per merge, which
 * cost about as much as the hashing itself.
 */
export function appendLeaves(frontier: Frontier, leaves: Iterable<Buffer>): Frontier {
  const sizes = frontier.nodes.map((n) => n.size);
  const hashes: Buffer[] = frontier.nodes.map((n) => Buffer.from(n.hash, 'hex'));
  let size = frontier.size;
  for (const leaf of leaves) {
    let hash = leaf;
    let height = 1;
    // Merge while the subtree to the left is as large as the one being carried.
    while (sizes.length > 0 && sizes[sizes.length - 1] === height) {
      sizes.pop();
      hash = nodeHash(hashes.pop() as Buffer, hash);
      height *= 2;
    }
    sizes.push(height);
    hashes.push(hash);
    size += 1;
  }
  return {
    size,
    nodes: sizes.map((s, i) => ({ size: s, hash: (hashes[i] as Buffer).toString('hex') })),
  };
}

/** MTH from the frontier: the subtrees folded right to left, as RFC 6962's split does. */
export function frontierRoot(frontier: Frontier): Buffer {
  const last = frontier.nodes[frontier.nodes.length - 1];
  if (!last) return leafHashOfEmpty();
  let hash: Buffer = Buffer.from(last.hash, 'hex');
  for (let i = frontier.nodes.length - 2; i >= 0; i--) {
    hash = nodeHash(Buffer.from(frontier.nodes[i]?.hash ?? '', 'hex'), hash);
  }
  return hash;
}

function leafHashOfEmpty(): Buffer {
  // MTH({}) = SHA-256 of the empty string.
  return Buffer.from('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex');
}

function seqId(seq: number): string {
  return String(seq).padStart(6, '0');
}

interface StoredSeal {
  seal: Seal;
  frontier: Frontier;
}

async function latestSeal(db: TenantDb): Promise<StoredSeal | undefined> {
  const [doc] = await db.list('seals', { orderBy: [['seal.seq', 'desc']], limit: 1 });
  if (!doc) return undefined;
  return { seal: SealSchema.parse(doc.data.seal), frontier: doc.data.frontier as Frontier };
}

const msAfter = (iso: string) => new Date(Date.parse(iso) + 1).toISOString();

/**
 * The records whose millisecond createdAt lies in (from, to], in log order. Commit times have
 * microseconds but records carry milliseconds, so the query bounds are whole milliseconds:
 * [from + 1 ms, to + 1 ms) holds exactly the records a verifier will place in this window.
 */
export async function recordsInWindow(
  db: TenantDb,
  from: string,
  to: string,
  limit?: number,
): Promise<EvidenceRecord[]> {
  const docs = await db.list('evidence', {
    where: [
      ['createdAt', '>=', isoToTimestamp(msAfter(from))],
      ['createdAt', '<', isoToTimestamp(msAfter(to))],
    ],
    orderBy: [
      ['createdAt', 'asc'],
      ['id', 'asc'],
    ],
    ...(limit === undefined ? {} : { limit }),
  });
  return docs.map((d) => EvidenceRecordSchema.parse(d.data)).sort(compareRecords);
}

export interface SealOutcome {
  tenantId: string;
  seq: number | null;
  records: number;
  exported: boolean;
  resumed: boolean;
  /** Set when this tenant's seal failed (seq is then null): the error's message. */
  error?: string;
  /**
   * Set when another sealer instance holds the intent for this seq (seq is then null): that
   * instance seals and exports it, and records newer than its cutoff wait for the next pass.
   */
  contendedSeq?: number;
}

/** Crash-injection points for tests; production passes none. */
export interface SealHooks {
  afterIntent?: () => Promise<void>;
  afterSign?: () => Promise<void>;
  afterSealWrite?: () => Promise<void>;
}

export async function sealTenantEvidence(
  services: Services,
  tenant: TenantProfile,
  now: Date = new Date(),
  hooks: SealHooks = {},
): Promise<SealOutcome> {
  const db = services.platform.tenantDb(tenant);
  const started = Date.now();
  const previous = await latestSeal(db);
  const nextSeq = (previous?.seal.seq ?? 0) + 1;

  // Finish the last seal's export first: a crash may have stopped after the seal was stored.
  let exported = false;
  if (previous && !(await isExported(services, previous.seal))) {
    await exportSeal(services, db, tenant, previous.seal);
    exported = true;
  }
  // And its tiles and checkpoint: a crash may have stopped between the export and those.
  if (previous) await publishToTiles(services, db, tenant, previous.seal);

  const intentDoc = await db.get('sealIntents', seqId(nextSeq));
  let unsigned: UnsignedSeal;
  let records: EvidenceRecord[];
  let frontier: Frontier = previous?.frontier ?? { size: 0, nodes: [] };
  const resumed = intentDoc !== undefined;
  if (intentDoc) {
    unsigned = intentDoc.unsigned as UnsignedSeal;
    records = await recordsInWindow(db, unsigned.coverage.from, unsigned.coverage.to);
  } else {
    const from = previous?.seal.coverage.to ?? EPOCH_ISO;
    const cutoff = new Date(
      now.getTime() - services.config.SEAL_SAFETY_SECONDS * 1000,
    ).toISOString();
    if (cutoff <= from)
      return { tenantId: tenant.id, seq: null, records: 0, exported, resumed: false };
    records = await recordsInWindow(db, from, cutoff, MAX_BATCH + 1);
    let to = cutoff;
    if (records.length > MAX_BATCH) {
      // Too many for one seal: end this window at a commit time, keeping ties together.
      const boundary = records[MAX_BATCH - 1]?.createdAt ?? cutoff;
      records = records.filter((r) => r.createdAt <= boundary);
      to = boundary;
    }
    if (records.length === 0)
      return { tenantId: tenant.id, seq: null, records: 0, exported, resumed: false };
    unsigned = {
      version: SEAL_VERSION,
      tenantId: tenant.id,
      seq: nextSeq,
      treeSize: 0,
      rootHash: '',
      batch: { firstIndex: frontier.size, count: records.length },
      coverage: { from, to },
      prevSealHash: previous ? sealHash(previous.seal) : null,
      sealedAt: now.toISOString(),
    };
  }

  frontier = appendLeaves(
    frontier,
    records.map((record) => leafHash(leafData(record))),
  );
  unsigned = {
    ...unsigned,
    treeSize: frontier.size,
    rootHash: frontierRoot(frontier).toString('hex'),
  };
  if (unsigned.batch.count !== records.length) {
    throw new Error(
      `seal ${String(unsigned.seq)} of ${tenant.id}: intent counted ${String(unsigned.batch.count)} records, found ${String(records.length)}`,
    );
  }
  if (!intentDoc) {
    try {
      await db.create('sealIntents', seqId(nextSeq), { unsigned });
    } catch (err) {
      // Another sealer instance is on this seq; it will finish it.
      if (isAlreadyExists(err)) {
        return {
          tenantId: tenant.id,
          seq: null,
          records: 0,
          exported,
          resumed: false,
          contendedSeq: nextSeq,
        };
      }
      throw err;
    }
  }
  await hooks.afterIntent?.();

  const keyVersion = services.config.SEALING_KEY_VERSION;
  const signature = await services.keyManager.asymmetricSign(keyVersion, sealDigest(unsigned));
  let seal: Seal = SealSchema.parse({
    ...unsigned,
    signature: {
      keyVersion,
      algorithm: 'EC_SIGN_P256_SHA256',
      value: signature.toString('base64'),
    },
  });
  await hooks.afterSign?.();
  // `expireAt`: the TTL policy's field (evidence-writer.ts), at or after the export's lock.
  const sealDoc = { seal, frontier, expireAt: expiryTimestamp(retentionDays(services, tenant)) };
  if (!(await db.createIfAbsent('seals', seqId(seal.seq), sealDoc))) {
    // Another instance finished this seal first (ECDSA signatures differ run to run): its
    // stored copy is the seal, and the only one that may be exported.
    const stored = await db.get('seals', seqId(seal.seq));
    seal = SealSchema.parse(stored?.seal);
  }
  await hooks.afterSealWrite?.();
  await exportSeal(services, db, tenant, seal, records);
  await publishToTiles(services, db, tenant, seal, records);
  log('evidence_sealed', {
    tenantId: tenant.id,
    seq: seal.seq,
    records: records.length,
    treeSize: seal.treeSize,
    lagMs: records[0] ? now.getTime() - Date.parse(records[0].createdAt) : 0,
    ms: Date.now() - started,
    resumed,
  });
  return { tenantId: tenant.id, seq: seal.seq, records: records.length, exported: true, resumed };
}

async function isExported(services: Services, seal: Seal): Promise<boolean> {
  const paths = exportPaths(services.config.AUDIT_EXPORT_PREFIX, seal);
  const bucket = services.config.AUDIT_BUCKET;
  const [records, sealFile] = await Promise.all([
    services.objects.exists(bucket, paths.records),
    services.objects.exists(bucket, paths.seal),
  ]);
  return records && sealFile;
}

/** The seal's tiles and signed checkpoint (C2SP tlog-tiles), Locked like its export. */
function publishToTiles(
  services: Services,
  db: TenantDb,
  tenant: TenantProfile,
  seal: Seal,
  records?: EvidenceRecord[],
): Promise<void> {
  const retainUntil = new Date(Date.now() + retentionDays(services, tenant) * 86_400_000);
  return publishSealToTiles(services, db, tenant, seal, retainUntil, records);
}

/** The platform minimum, or the tenant's longer retention. */
export function retentionDays(
  services: Services,
  tenant: Pick<TenantProfile, 'retentionDays'>,
): number {
  return Math.max(services.config.EVIDENCE_RETENTION_DAYS, tenant.retentionDays ?? 0);
}

/**
 * Writes `{seq}.jsonl` then `{seq}.seal.json`, create-only and Locked. An object that already
 * exists must hold exactly these bytes (a resumed export), or the run fails loudly.
 */
async function exportSeal(
  services: Services,
  db: TenantDb,
  tenant: TenantProfile,
  seal: Seal,
  known?: EvidenceRecord[],
): Promise<void> {
  const records = known ?? (await recordsInWindow(db, seal.coverage.from, seal.coverage.to));
  const paths = exportPaths(services.config.AUDIT_EXPORT_PREFIX, seal);
  const retainUntil = new Date(Date.now() + retentionDays(services, tenant) * 86_400_000);
  // What the records' hashes name, first: an exported record never names content the export lacks.
  await exportRecordContent(services, db, records, retainUntil);
  const files: [string, Buffer, string][] = [
    [
      paths.records,
      Buffer.from(records.map((r) => exportLine(r) + '\n').join('')),
      'application/x-ndjson',
    ],
    [paths.seal, Buffer.from(sealFileContent(seal)), 'application/json'],
  ];
  for (const [name, bytes, contentType] of files) {
    const bucket = services.config.AUDIT_BUCKET;
    try {
      await services.objects.putNew(bucket, name, bytes, {
        contentType,
        retainUntil,
        retentionMode: 'Locked',
      });
    } catch (err) {
      if ((err as { code?: unknown }).code !== 412) throw err;
      const existing = await services.objects.get(bucket, name);
      if (!existing.equals(bytes)) {
        // Never overwritten (it is Locked, and create-only besides): the conflict is raised for
        // a person, since every later seal of this tenant waits on this one.
        log('audit_object_conflict', { tenantId: tenant.id, seq: seal.seq, bucket, object: name });
        throw new Error(`audit object ${name} exists with other content: refusing to continue`, {
          cause: err,
        });
      }
    }
  }
}

/** Tenants sealed at once in a pass (docs/scale.md: one after another, ~2,000 fit a pass). */
export const PARALLEL_TENANTS = 16;
/**
 * A pass starts no new seal after this long, leaving time to finish the ones under way before
 * the function's timeout (540 s, terraform/modules/functions/fn-sealer.tf).
 */
export const PASS_BUDGET_MS = 420_000;

export interface SealPassOptions {
  parallel?: number;
  /** Epoch ms after which no tenant starts another seal. */
  deadline?: number;
  /** A seal of this many records was cut at the batch limit: the tenant has more waiting. */
  fullBatch?: number;
  clock?: () => number;
}

/**
 * One pass over `tenants`, `parallel` at a time. A tenant whose seal took a full batch is sealed
 * again at once, until a seal is not full or the deadline passes: a tenant writing faster than
 * one batch per pass would otherwise fall further behind every pass (docs/scale.md works the
 * numbers). A tenant that fails does not stop the others. Outcomes come in tenant order, each
 * tenant's seals in sequence.
 */
export async function runSealPass<T extends { id: string }>(
  tenants: readonly T[],
  sealOne: (tenant: T) => Promise<SealOutcome>,
  failed: (tenant: T, err: unknown) => SealOutcome,
  options: SealPassOptions = {},
): Promise<SealOutcome[]> {
  const parallel = Math.max(1, options.parallel ?? PARALLEL_TENANTS);
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const fullBatch = options.fullBatch ?? MAX_BATCH;
  const clock = options.clock ?? Date.now;
  const results: SealOutcome[][] = tenants.map(() => []);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < tenants.length; i = next++) {
      const tenant = tenants[i];
      const outcomes = results[i];
      if (tenant === undefined || outcomes === undefined) continue;
      try {
        for (;;) {
          const outcome = await sealOne(tenant);
          outcomes.push(outcome);
          if (outcome.seq === null || outcome.records < fullBatch || clock() >= deadline) break;
        }
      } catch (err) {
        outcomes.push(failed(tenant, err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, tenants.length) }, lane));
  return results.flat();
}

/**
 * One sealing pass over every tenant (see runSealPass). Offboarded tenants are included:
 * evidence is not under the tenant's keys, and a record a worker committed while the tenant was
 * being offboarded must still reach the locked log.
 */
export async function sealAllTenants(
  services: Services,
  now: Date = new Date(),
): Promise<SealOutcome[]> {
  const tenants = await services.platform.listTenants();
  return runSealPass(
    tenants,
    (tenant) => sealTenantEvidence(services, tenant, now),
    (tenant, err) => {
      log('seal_failed', { tenantId: tenant.id, ...errorFields(err) });
      return {
        tenantId: tenant.id,
        seq: null,
        records: 0,
        exported: false,
        resumed: false,
        error: err instanceof Error ? err.message : String(err),
      };
    },
    { deadline: Date.now() + PASS_BUDGET_MS },
  );
}
