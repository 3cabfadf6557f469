/**
 * RFC 6962 section 2.1 Merkle tree over SHA-256, the structure behind every tenant's evidence
 * log. Leaves and interior nodes are hashed under different one-byte prefixes so a leaf can never
 * be passed off as an interior node (second-preimage resistance). Proof verification follows the
 * iterative algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2: a verifier never rebuilds the
 * tree, and every size, index and proof length is checked before a hash is trusted.
 */
import { createHash } from 'node:crypto';

/** Byte length of every hash in the tree (SHA-256). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}) = SHA-256 of the empty string. */
const EMPTY_ROOT = createHash('sha256').digest();

/** Leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Buffer): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/**
 * The 65 input bytes of an interior node, reused: one `update` over one buffer costs a third of
 * three `update` calls (each crosses into OpenSSL), and sealing is almost only node hashes.
 * Safe to share because hashing is synchronous and copies nothing it is given.
 */
const NODE_INPUT = Buffer.alloc(1 + 2 * HASH_SIZE, 0x01);

/** Interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
  }
  left.copy(NODE_INPUT, 1);
  right.copy(NODE_INPUT, 1 + HASH_SIZE);
  return createHash('sha256').update(NODE_INPUT).digest();
}

/** The root of the empty tree, SHA-256(""). Returns a fresh copy so callers cannot mutate it. */
export function emptyRootHash(): Buffer {
  return Buffer.from(EMPTY_ROOT);
}

/**
 * Append-only accumulator for MTH: it keeps one hash per perfect subtree of the tree so far (one
 * per set bit of the size), so appending is amortised O(1) hashes, memory is O(log n), and the
 * root of the current tree costs O(log n). The export verifier uses it to check the root of every
 * seal without re-hashing the whole log for each one.
 */
export class MerkleAccumulator {
  /** Perfect-subtree hashes from left (largest) to right (smallest). */
  private readonly stack: Buffer[] = [];
  private count = 0;

  /** Number of leaves appended so far. */
  get size(): number {
    return this.count;
  }

  /** Appends one leaf hash (not leaf data). */
  append(leaf: Buffer): void {
    let hash = leaf;
    // Merge with the subtree to the left once per trailing one bit of the old size: those are
    // exactly the perfect subtrees of equal height that the new leaf completes.
    for (let n = this.count; n % 2 === 1; n = Math.floor(n / 2)) {
      const left = this.stack.pop();
      if (left === undefined) throw new Error('merkle accumulator stack underflow');
      hash = nodeHash(left, hash);
    }
    this.stack.push(hash);
    this.count += 1;
  }

  /** MTH of all leaves appended so far. */
  root(): Buffer {
    let root: Buffer | undefined;
    // RFC 6962 splits at the largest power of two, so the perfect subtrees nest right to left.
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const hash = this.stack[i] as Buffer;
      root = root === undefined ? hash : nodeHash(hash, root);
    }
    return root === undefined ? emptyRootHash() : Buffer.from(root);
  }
}

/** MTH(D[n]) over leaf hashes; the empty tree hashes to SHA-256(""). O(log n) extra memory. */
export function rootHash(leafHashes: readonly Buffer[]): Buffer {
  return subtreeRoot(leafHashes, 0, leafHashes.length);
}

function subtreeRoot(leafHashes: readonly Buffer[], start: number, end: number): Buffer {
  const acc = new MerkleAccumulator();
  for (let i = start; i < end; i++) acc.append(leafHashes[i] as Buffer);
  return acc.root();
}

/** Largest power of two strictly smaller than n (n >= 2), the RFC 6962 split point. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** A half-open leaf range `[start, end)` whose Merkle Tree Hash is one node of a proof. */
export type LeafRange = readonly [start: number, end: number];

/**
 * The leaf ranges whose MTHs form PATH(index, D[n]), in the RFC's order (from the leaf's
 * sibling up to the root's child). Separating "which subtrees" from "how their hashes are found"
 * lets the same algorithm run over leaf hashes in memory (`inclusionProof`) and over stored
 * tiles (`evidence/tiles.ts`), which read only the O(log n) nodes the ranges name.
 * @throws RangeError when index is not a leaf of the tree.
 */
export function inclusionRanges(index: number, n: number): LeafRange[] {
  if (!isSize(n) || !isSize(index) || index >= n) {
    throw new RangeError(`leaf index ${index} is not in a tree of size ${n}`);
  }
  // Walk down from the root; each step records the sibling subtree on the other side of the
  // split. The RFC appends siblings after the deeper path, so the list is reversed at the end.
  const ranges: LeafRange[] = [];
  let start = 0;
  let end = n;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      ranges.push([start + k, end]);
      end = start + k;
    } else {
      ranges.push([start, start + k]);
      start += k;
      m -= k;
    }
  }
  return ranges.reverse();
}

/**
 * The leaf ranges whose MTHs form PROOF(oldSize, D[n]), in the RFC's order. Empty when oldSize
 * is 0 or n.
 * @throws RangeError when oldSize is not within [0, n].
 */
export function consistencyRanges(oldSize: number, n: number): LeafRange[] {
  if (!isSize(n) || !isSize(oldSize) || oldSize > n) {
    throw new RangeError(`old size ${oldSize} is not within a tree of size ${n}`);
  }
  if (oldSize === 0 || oldSize === n) return [];
  // Iterative SUBPROOF(m, D[start:end], b); like PATH, nodes are collected top-down and the
  // RFC lists them bottom-up.
  const ranges: LeafRange[] = [];
  let start = 0;
  let end = n;
  let m = oldSize;
  let complete = true;
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      ranges.push([start + k, end]);
      end = start + k;
    } else {
      ranges.push([start, start + k]);
      start += k;
      m -= k;
      complete = false;
    }
  }
  // SUBPROOF(m, D[m], false) = {MTH(D[m])}: the old tree's subtree is only needed when it is
  // not the old tree itself, which the verifier already holds as its old root.
  if (!complete) ranges.push([start, end]);
  return ranges.reverse();
}

/**
 * PATH(m, D[n]): the audit path proving that leaf `index` is in the tree of `leafHashes`,
 * ordered from the leaf's sibling up to the root's child.
 * @throws RangeError when index is not a leaf of the tree.
 */
export function inclusionProof(index: number, leafHashes: readonly Buffer[]): Buffer[] {
  return inclusionRanges(index, leafHashes.length).map(([a, b]) => subtreeRoot(leafHashes, a, b));
}

/**
 * PROOF(m, D[n]) with n = leafHashes.length: the consistency proof that the tree of the first
 * `oldSize` leaves is a prefix of the whole tree. Empty when oldSize is 0 or n.
 * @throws RangeError when oldSize is not within [0, n].
 */
export function consistencyProof(oldSize: number, leafHashes: readonly Buffer[]): Buffer[] {
  return consistencyRanges(oldSize, leafHashes.length).map(([a, b]) =>
    subtreeRoot(leafHashes, a, b),
  );
}

function allHashes(proof: readonly Buffer[]): boolean {
  return proof.every((p) => Buffer.isBuffer(p) && p.length === HASH_SIZE);
}

function isHash(b: Buffer): boolean {
  return Buffer.isBuffer(b) && b.length === HASH_SIZE;
}

/**
 * Verifies an inclusion proof (RFC 9162 section 2.1.3.2). False for index >= treeSize, a proof
 * with missing or extra nodes, nodes or hashes that are not 32 bytes, or a root mismatch.
 */
export function verifyInclusion(
  index: number,
  treeSize: number,
  leaf: Buffer,
  proof: readonly Buffer[],
  root: Buffer,
): boolean {
  if (!isSize(index) || !isSize(treeSize) || index >= treeSize) return false;
  if (!isHash(leaf) || !isHash(root) || !allHashes(proof)) return false;
  // Arithmetic instead of bitwise operators: JS bit operations truncate to 32 bits.
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false; // more nodes than the path has levels
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // A right-edge node with no sibling at this level is promoted: skip those levels.
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/**
 * Verifies a consistency proof between two tree heads (RFC 9162 section 2.1.4.2). Equal sizes
 * need an empty proof and equal roots; oldSize 0 needs an empty proof and the empty-tree root as
 * oldRoot (the only root a tree of size 0 can have); everything else a non-empty proof.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Buffer,
  newRoot: Buffer,
  proof: readonly Buffer[],
): boolean {
  if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !allHashes(proof)) return false;
  if (oldSize === newSize) return proof.length === 0 && oldRoot.equals(newRoot);
  if (oldSize === 0) return proof.length === 0 && oldRoot.equals(EMPTY_ROOT);
  if (proof.length === 0) return false;

  // When the old tree is a perfect subtree of the new one, the proof omits its root: the
  // verifier supplies it as the starting node.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Buffer;
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Buffer;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}
