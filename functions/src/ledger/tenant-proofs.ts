/**
 * What a tenant reads to check its own evidence without trusting us: one record, the inclusion
 * receipt of an extraction's record in a signed seal and consistency proofs between seals (both
 * built from the tiled log in the audit bucket, `ledger/tile-log.ts`), and the checkpoints
 * (signed seals, and their C2SP signed-note form) with the public key.
 */
import { z } from 'zod';
import { badRequest, conflict, notFound } from '../errors';
import { ecdsaVerifierKey, logOrigin, p256Spki } from '../evidence/note';
import type { ConsistencyDocument, Receipt } from '../evidence/receipts';
import { EvidenceRecordSchema, evidenceIdFor, type EvidenceRecord } from '../evidence/record';
import { SealSchema, type Seal } from '../evidence/seal';
import { consistencyFromTiles, receiptFromTiles } from '../evidence/tile-proofs';
import type { Services } from '../services';
import { bucketTileReader, readCheckpointNote } from './tile-log';
import { isValidId } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';

function sealingPublicKey(services: Services): Promise<string> {
  return services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION);
}

/** An evidence record of the tenant; unknown ids and other tenants' ids are the same 404. */
export async function readEvidenceRecord(
  services: Services,
  tenant: TenantProfile,
  id: string,
): Promise<EvidenceRecord> {
  const data = isValidId(id)
    ? await services.platform.tenantDb(tenant).get('evidence', id)
    : undefined;
  if (!data) throw notFound('evidence');
  return EvidenceRecordSchema.parse(data);
}

/**
 * The seal whose batch holds a record: the first seal whose coverage ends at or after the
 * record's createdAt (coverage windows are `(from, to]` and contiguous).
 */
async function sealCovering(
  services: Services,
  tenant: TenantProfile,
  record: Pick<EvidenceRecord, 'createdAt'>,
): Promise<Seal | undefined> {
  const [doc] = await services.platform.tenantDb(tenant).list('seals', {
    where: [['seal.coverage.to', '>=', record.createdAt]],
    orderBy: [['seal.coverage.to', 'asc']],
    limit: 1,
  });
  if (!doc) return undefined;
  const seal = SealSchema.parse(doc.data.seal);
  return seal.coverage.from < record.createdAt ? seal : undefined;
}

/**
 * The receipt of an extraction's evidence, built from the tenant's tiled log: the record's
 * seal from Firestore, then O(log n) objects (the entry bundles a binary search over the
 * seal's batch touches, and the tiles of the inclusion path). 409 `not_sealed` until a seal
 * covers it and its tiles are published.
 */
export async function extractionReceipt(
  services: Services,
  tenant: TenantProfile,
  extractionId: string,
): Promise<Receipt> {
  const db = services.platform.tenantDb(tenant);
  const extraction = isValidId(extractionId)
    ? await db.get('extractions', extractionId)
    : undefined;
  if (!extraction) throw notFound('extraction');
  const notSealed = () => conflict('not_sealed', 'the evidence is not sealed yet; retry shortly');
  if (extraction.status !== 'succeeded') {
    throw conflict('not_sealed', 'the extraction has no sealed evidence yet');
  }
  const data = await db.get('evidence', evidenceIdFor(extractionId));
  if (!data) throw notSealed();
  const record = EvidenceRecordSchema.parse(data);
  const seal = await sealCovering(services, tenant, record);
  if (!seal) throw notSealed();
  if ((await readCheckpointNote(services, tenant.id, seal.seq)) === undefined) throw notSealed();
  const receipt = await receiptFromTiles(
    bucketTileReader(services, tenant.id, seal.treeSize),
    seal,
    record,
    await sealingPublicKey(services),
  );
  if (!receipt) throw notSealed();
  return receipt;
}

export const CheckpointsQuery = z.strictObject({
  pageSize: z.coerce.number().int().min(1).max(100).default(50),
  pageToken: z.string().max(64).optional(),
});
export type CheckpointsQuery = z.infer<typeof CheckpointsQuery>;

export interface Checkpoints {
  tenantId: string;
  publicKeyPem: string;
  /** The tiled log's origin line and the signed-note verifier key of its checkpoints. */
  origin: string;
  verifierKey: string;
  checkpoints: Seal[];
  /** Null on the last page. */
  nextPageToken: string | null;
}

/**
 * Page tokens carry the last seq of the page. They need no MAC, unlike the extractions
 * listing's: seals are numbered 1, 2, 3... and a tenant may read every one of them, so a
 * hand-made token can only skip to a page the tenant could list anyway.
 */
const encodePageToken = (seq: number) => Buffer.from(`seq:${String(seq)}`).toString('base64url');

function decodePageToken(token: string): number {
  const m = /^seq:([1-9][0-9]{0,14})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m?.[1] || encodePageToken(Number(m[1])) !== token) {
    throw badRequest('invalid_page_token', 'pageToken is not a token this API issued');
  }
  return Number(m[1]);
}

/** The seals of the tenant's log, oldest first, one page at a time, with the signing key. */
export async function tenantCheckpoints(
  services: Services,
  tenant: TenantProfile,
  query: CheckpointsQuery = { pageSize: 50 },
): Promise<Checkpoints> {
  const after = query.pageToken === undefined ? 0 : decodePageToken(query.pageToken);
  const docs = await services.platform.tenantDb(tenant).list('seals', {
    where: [['seal.seq', '>', after]],
    orderBy: [['seal.seq', 'asc']],
    limit: query.pageSize + 1,
  });
  const checkpoints = docs.slice(0, query.pageSize).map((d) => SealSchema.parse(d.data.seal));
  const last = checkpoints[checkpoints.length - 1];
  const publicKeyPem = await sealingPublicKey(services);
  const origin = logOrigin(tenant.id);
  return {
    tenantId: tenant.id,
    publicKeyPem,
    origin,
    verifierKey: ecdsaVerifierKey(origin, p256Spki(publicKeyPem)),
    checkpoints,
    nextPageToken: docs.length > query.pageSize && last ? encodePageToken(last.seq) : null,
  };
}

async function sealBySeq(services: Services, tenant: TenantProfile, seq: number): Promise<Seal> {
  const doc = await services.platform.tenantDb(tenant).get('seals', String(seq).padStart(6, '0'));
  if (!doc) throw notFound('checkpoint');
  return SealSchema.parse(doc.seal);
}

/** The signed checkpoint (C2SP signed note) of seal `seq`; 404 until it is published. */
export async function checkpointNote(
  services: Services,
  tenant: TenantProfile,
  seq: number,
): Promise<{ seq: number; note: string }> {
  const note = await readCheckpointNote(services, tenant.id, seq);
  if (note === undefined) throw notFound('checkpoint');
  return { seq, note };
}

export const ConsistencyQuery = z.strictObject({
  from: z.coerce.number().int().positive(),
  to: z.coerce.number().int().positive(),
});

/**
 * The consistency document between seals `from` and `to` (either order of sizes refused),
 * from the tiles of the newer tree: O(log n) objects.
 */
export async function consistencyBetween(
  services: Services,
  tenant: TenantProfile,
  from: number,
  to: number,
): Promise<ConsistencyDocument> {
  if (from > to) throw badRequest('invalid_range', '`from` must not be after `to`');
  const [older, newer] = await Promise.all([
    sealBySeq(services, tenant, from),
    sealBySeq(services, tenant, to),
  ]);
  if ((await readCheckpointNote(services, tenant.id, to)) === undefined) {
    throw conflict('not_sealed', 'the checkpoint is not published yet; retry shortly');
  }
  return consistencyFromTiles(bucketTileReader(services, tenant.id, newer.treeSize), older, newer);
}
