/**
 * Receipts and consistency proofs built from the tiled log (`evidence/tiles.ts`): the same
 * documents `evidence/receipts.ts` defines and verifies, at a cost of O(log n) objects read
 * instead of the whole log. The receipt's record is the leaf itself, read from its entry bundle.
 */
import { leafHash, verifyConsistency, verifyInclusion } from './merkle';
import { EvidenceRecordSchema, type EvidenceRecord } from './record';
import type { ConsistencyDocument, Receipt } from './receipts';
import { compareRecords, type Seal } from './seal';
import { findEntry, type TileReader } from './tiles';

export interface EntryProof {
  index: number;
  entry: Buffer;
  proof: Buffer[];
}

/**
 * Locates an entry among the leaves `[firstIndex, firstIndex + count)` of the reader's tree by
 * binary search (`compare(entry)` < 0 when the entry sorts before the target), reads it and
 * proves its inclusion. Undefined when no entry compares equal.
 */
export async function proveEntry(
  reader: TileReader,
  batch: { firstIndex: number; count: number },
  compare: (entry: Buffer) => number,
): Promise<EntryProof | undefined> {
  const index = await findEntry(reader, batch.firstIndex, batch.firstIndex + batch.count, compare);
  if (index === undefined) return undefined;
  const [entry, proof] = await Promise.all([reader.entry(index), reader.inclusionProof(index)]);
  return { index, entry, proof };
}

function parseEntry(entry: Buffer): EvidenceRecord {
  return EvidenceRecordSchema.parse(JSON.parse(entry.toString('utf8')));
}

/**
 * The receipt of the record `target` in `seal`, whose batch holds it; `reader` reads the tree
 * of `seal.treeSize`. Throws when the tiles disagree with the signed seal: a receipt that
 * would not verify is never handed out.
 */
export async function receiptFromTiles(
  reader: TileReader,
  seal: Seal,
  target: Pick<EvidenceRecord, 'createdAt' | 'id'>,
  publicKeyPem: string,
): Promise<Receipt | undefined> {
  if (reader.size !== seal.treeSize) throw new RangeError('reader and seal sizes differ');
  const found = await proveEntry(reader, seal.batch, (entry) =>
    compareRecords(parseEntry(entry), target),
  );
  if (found === undefined) return undefined;
  const root = Buffer.from(seal.rootHash, 'hex');
  if (!verifyInclusion(found.index, seal.treeSize, leafHash(found.entry), found.proof, root)) {
    throw new Error(`tiles of ${seal.tenantId} disagree with seal ${String(seal.seq)}`);
  }
  return {
    version: 1,
    record: parseEntry(found.entry),
    leafIndex: found.index,
    inclusionProof: found.proof.map((h) => h.toString('hex')),
    seal,
    publicKeyPem,
  };
}

/**
 * The consistency document between two seals of a tenant, from the tiles of the newer tree
 * (`reader.size === newer.treeSize`). Throws when the proof does not verify between the two
 * signed roots: that would be a forked log, never something to hand out.
 */
export async function consistencyFromTiles(
  reader: TileReader,
  older: Seal,
  newer: Seal,
): Promise<ConsistencyDocument> {
  if (reader.size !== newer.treeSize) throw new RangeError('reader and seal sizes differ');
  if (older.treeSize > newer.treeSize) throw new RangeError('the old seal is the larger tree');
  const proof = await reader.consistencyProof(older.treeSize);
  const ok = verifyConsistency(
    older.treeSize,
    newer.treeSize,
    Buffer.from(older.rootHash, 'hex'),
    Buffer.from(newer.rootHash, 'hex'),
    proof,
  );
  if (!ok) {
    throw new Error(
      `seals ${String(older.seq)} and ${String(newer.seq)} of ${older.tenantId} are not consistent`,
    );
  }
  return {
    version: 1,
    tenantId: newer.tenantId,
    old: older,
    new: newer,
    proof: proof.map((h) => h.toString('hex')),
  };
}
