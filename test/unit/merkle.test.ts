import { createHash } from 'node:crypto';
import {
  consistencyProof,
  emptyRootHash,
  inclusionProof,
  leafHash,
  MerkleAccumulator,
  nodeHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from '../../functions/src/evidence/merkle';

const hx = (s: string) => Buffer.from(s, 'hex');

// Certificate Transparency reference test data (RFC 6962 hashing, SHA-256), as published with
// the CT / transparency-dev Merkle tree implementations.
const LEAF_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hx);

const LEAF_HASHES = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
  '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
  '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
  'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
  'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
  '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
];

/** Roots of the trees of the first 1..8 leaves. */
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

const EMPTY_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Published inclusion proofs (0-based leaf index). */
const INCLUSION: { index: number; size: number; proof: string[] }[] = [
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    index: 2,
    size: 3,
    proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'],
  },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

/** Published consistency proofs. */
const CONSISTENCY: { oldSize: number; newSize: number; proof: string[] }[] = [
  { oldSize: 1, newSize: 1, proof: [] },
  {
    oldSize: 1,
    newSize: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    oldSize: 6,
    newSize: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    oldSize: 2,
    newSize: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    oldSize: 6,
    newSize: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

const hexes = (bs: readonly Buffer[]) => bs.map((b) => b.toString('hex'));
const refLeaves = LEAF_INPUTS.map(leafHash);

/** Textbook recursive MTH, used only to cross-check the iterative implementation. */
function naiveRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}

function syntheticLeaves(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf-${i}`)));
}

function flipBit(b: Buffer, bit = 0): Buffer {
  const copy = Buffer.from(b);
  copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
  return copy;
}

const SOME_HASH = hx('abacaba000000000000000000000000000000000000000000060061e00123456');

describe('RFC 6962 known answers', () => {
  it('hashes the reference leaves', () => {
    expect(hexes(refLeaves)).toEqual(LEAF_HASHES);
  });

  it('hashes the empty tree to SHA-256("")', () => {
    expect(rootHash([]).toString('hex')).toBe(EMPTY_ROOT);
    expect(emptyRootHash().toString('hex')).toBe(EMPTY_ROOT);
  });

  it.each(ROOTS.map((root, i) => [i + 1, root] as const))('root of size %i', (size, root) => {
    expect(rootHash(refLeaves.slice(0, size)).toString('hex')).toBe(root);
  });

  it.each(INCLUSION)('inclusion proof for leaf $index of $size', ({ index, size, proof }) => {
    const leaves = refLeaves.slice(0, size);
    expect(hexes(inclusionProof(index, leaves))).toEqual(proof);
    const root = hx(ROOTS[size - 1] as string);
    expect(verifyInclusion(index, size, refLeaves[index] as Buffer, proof.map(hx), root)).toBe(
      true,
    );
  });

  it.each(CONSISTENCY)('consistency proof $oldSize -> $newSize', ({ oldSize, newSize, proof }) => {
    expect(hexes(consistencyProof(oldSize, refLeaves.slice(0, newSize)))).toEqual(proof);
    const oldRoot = hx(ROOTS[oldSize - 1] as string);
    const newRoot = hx(ROOTS[newSize - 1] as string);
    expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof.map(hx))).toBe(true);
  });
});

describe('verifyInclusion rejects', () => {
  const leaves = refLeaves;
  const root = hx(ROOTS[7] as string);
  const proof = inclusionProof(5, leaves);
  const leaf = leaves[5] as Buffer;

  it.each([
    ['index >= size', () => verifyInclusion(8, 8, leaf, proof, root)],
    ['negative index', () => verifyInclusion(-1, 8, leaf, proof, root)],
    ['fractional index', () => verifyInclusion(5.5, 8, leaf, proof, root)],
    ['size 0', () => verifyInclusion(0, 0, leaf, [], emptyRootHash())],
    ['a wrong index', () => verifyInclusion(4, 8, leaf, proof, root)],
    ['size * 2', () => verifyInclusion(5, 16, leaf, proof, root)],
    ['size / 2', () => verifyInclusion(5, 4, leaf, proof, root)],
    ['size 6 (shorter path)', () => verifyInclusion(5, 6, leaf, proof, root)],
    ['size 9 (longer path)', () => verifyInclusion(5, 9, leaf, proof, root)],
    ['an empty-tree root', () => verifyInclusion(5, 8, leaf, proof, emptyRootHash())],
    ['a random root', () => verifyInclusion(5, 8, leaf, proof, SOME_HASH)],
    ['a short leaf', () => verifyInclusion(5, 8, Buffer.from('WrongLeaf'), proof, root)],
    ['a trailing empty node', () => verifyInclusion(5, 8, leaf, [...proof, Buffer.alloc(0)], root)],
    ['a trailing root', () => verifyInclusion(5, 8, leaf, [...proof, root], root)],
    ['a preceding root', () => verifyInclusion(5, 8, leaf, [root, ...proof], root)],
    ['a removed node', () => verifyInclusion(5, 8, leaf, proof.slice(0, -1), root)],
    [
      'an inserted node',
      () => verifyInclusion(5, 8, leaf, [proof[0] as Buffer, SOME_HASH, ...proof.slice(1)], root),
    ],
    [
      'a 31-byte node',
      () => verifyInclusion(5, 8, leaf, [...proof.slice(0, 2), root.subarray(1)], root),
    ],
  ])('%s', (_name, attempt) => {
    expect(attempt()).toBe(false);
  });

  it('a single-leaf tree needs an empty proof and leaf == root', () => {
    const h = leafHash(Buffer.from('data'));
    expect(verifyInclusion(0, 1, h, [], h)).toBe(true);
    expect(verifyInclusion(0, 1, h, [h], h)).toBe(false);
    expect(verifyInclusion(0, 1, h, [], SOME_HASH)).toBe(false);
    expect(verifyInclusion(0, 1, Buffer.alloc(0), [], Buffer.alloc(0))).toBe(false);
  });

  it('refuses to build a proof for a leaf outside the tree', () => {
    expect(() => inclusionProof(8, leaves)).toThrow(RangeError);
    expect(() => inclusionProof(-1, leaves)).toThrow(RangeError);
    expect(() => inclusionProof(0, [])).toThrow(RangeError);
  });
});

describe('verifyConsistency rejects', () => {
  const r6 = hx(ROOTS[5] as string);
  const r8 = hx(ROOTS[7] as string);
  const proof = consistencyProof(6, refLeaves);

  it.each([
    ['old > new', () => verifyConsistency(8, 6, r8, r6, proof)],
    ['old size - 1', () => verifyConsistency(5, 8, r6, r8, proof)],
    ['old size + 1', () => verifyConsistency(7, 8, r6, r8, proof)],
    ['old size ^ 2', () => verifyConsistency(4, 8, r6, r8, proof)],
    ['new size * 2', () => verifyConsistency(6, 16, r6, r8, proof)],
    ['new size / 2 (below old)', () => verifyConsistency(6, 4, r6, r8, proof)],
    ['new size + 1 (longer proof)', () => verifyConsistency(6, 9, r6, r8, proof)],
    ['a wrong old root', () => verifyConsistency(6, 8, SOME_HASH, r8, proof)],
    ['a wrong new root', () => verifyConsistency(6, 8, r6, SOME_HASH, proof)],
    ['swapped roots', () => verifyConsistency(6, 8, r8, r6, proof)],
    ['an empty proof', () => verifyConsistency(6, 8, r6, r8, [])],
    ['a trailing empty node', () => verifyConsistency(6, 8, r6, r8, [...proof, Buffer.alloc(0)])],
    ['a trailing old root', () => verifyConsistency(6, 8, r6, r8, [...proof, r6])],
    ['a trailing new root', () => verifyConsistency(6, 8, r6, r8, [...proof, r8])],
    ['a preceding old root', () => verifyConsistency(6, 8, r6, r8, [r6, ...proof])],
    ['a preceding proof[0]', () => verifyConsistency(6, 8, r6, r8, [proof[0] as Buffer, ...proof])],
    ['a truncated proof', () => verifyConsistency(6, 8, r6, r8, proof.slice(0, -1))],
    ['equal sizes with different roots', () => verifyConsistency(8, 8, r6, r8, [])],
    ['equal sizes with a non-empty proof', () => verifyConsistency(8, 8, r8, r8, [r8])],
    ['old size 0 with a non-empty proof', () => verifyConsistency(0, 8, emptyRootHash(), r8, [r8])],
    ['old size 0 with a non-empty old root', () => verifyConsistency(0, 8, r6, r8, [])],
    ['negative old size', () => verifyConsistency(-1, 8, r6, r8, proof)],
  ])('%s', (_name, attempt) => {
    expect(attempt()).toBe(false);
  });

  it('accepts the trivially consistent cases', () => {
    expect(verifyConsistency(0, 0, emptyRootHash(), emptyRootHash(), [])).toBe(true);
    expect(verifyConsistency(0, 8, emptyRootHash(), r8, [])).toBe(true);
    expect(verifyConsistency(8, 8, r8, r8, [])).toBe(true);
  });

  it('refuses to build a proof for an old size outside the tree', () => {
    expect(() => consistencyProof(9, refLeaves)).toThrow(RangeError);
    expect(() => consistencyProof(-1, refLeaves)).toThrow(RangeError);
    expect(consistencyProof(0, refLeaves)).toEqual([]);
    expect(consistencyProof(8, refLeaves)).toEqual([]);
  });
});

describe('every tree up to 64 leaves', () => {
  const MAX = 64;
  // Twice as many leaves as the largest tree, so proofs for "wrong" sizes up to 2n can be built.
  const all = syntheticLeaves(2 * MAX);
  const pathLength = (i: number, size: number) =>
    i < size ? inclusionProof(i, all.slice(0, size)).length : -1;
  const consistencyLength = (m: number, size: number) =>
    m <= size ? consistencyProof(m, all.slice(0, size)).length : -1;
  const roots = Array.from({ length: MAX + 1 }, (_, n) => rootHash(all.slice(0, n)));

  it('iterative roots equal the recursive definition and the accumulator', () => {
    const acc = new MerkleAccumulator();
    expect(acc.root().equals(emptyRootHash())).toBe(true);
    for (let n = 0; n <= MAX; n++) {
      expect(roots[n]?.equals(naiveRoot(all.slice(0, n)))).toBe(true);
      expect(acc.size).toBe(n);
      expect(acc.root().equals(roots[n] as Buffer)).toBe(true);
      if (n < MAX) acc.append(all[n] as Buffer);
    }
  });

  it('every inclusion proof verifies, and fails when anything is changed', () => {
    let checked = 0;
    for (let n = 1; n <= MAX; n++) {
      const leaves = all.slice(0, n);
      const root = roots[n] as Buffer;
      for (let i = 0; i < n; i++) {
        const leaf = leaves[i] as Buffer;
        const proof = inclusionProof(i, leaves);
        expect(verifyInclusion(i, n, leaf, proof, root)).toBe(true);

        const failures: string[] = [];
        const expectFalse = (desc: string, ok: boolean) => {
          if (ok) failures.push(desc);
        };
        for (const j of [i - 1, i + 1, i ^ 1, i ^ 2]) {
          if (j >= 0 && j !== i)
            expectFalse(`index ${j}`, verifyInclusion(j, n, leaf, proof, root));
        }
        expectFalse('flipped leaf', verifyInclusion(i, n, flipBit(leaf, 5), proof, root));
        expectFalse('other leaf', verifyInclusion(i, n, leafHash(Buffer.from('x')), proof, root));
        expectFalse('flipped root', verifyInclusion(i, n, leaf, proof, flipBit(root, 7)));
        if (proof.length > 0) {
          expectFalse('truncated', verifyInclusion(i, n, leaf, proof.slice(0, -1), root));
          expectFalse('first dropped', verifyInclusion(i, n, leaf, proof.slice(1), root));
        }
        expectFalse('extended', verifyInclusion(i, n, leaf, [...proof, root], root));
        expectFalse('prefixed', verifyInclusion(i, n, leaf, [leaf, ...proof], root));
        proof.forEach((_, k) => {
          const bad = proof.map((p, x) => (x === k ? flipBit(p, 3) : p));
          expectFalse(`proof[${k}] flipped`, verifyInclusion(i, n, leaf, bad, root));
        });
        // RFC 9162 binds the size only through the shape of the path: a size whose path has
        // another length (or that does not contain the index) must fail. Sizes with an identical
        // path shape hash the same way, which is why a seal signs treeSize next to the root.
        for (const m of [n - 1, n + 1, n * 2, Math.floor(n / 2), i]) {
          if (m !== n && pathLength(i, m) !== proof.length) {
            expectFalse(`size ${m}`, verifyInclusion(i, m, leaf, proof, root));
          }
        }
        expect({ n, i, failures }).toEqual({ n, i, failures: [] });
        checked++;
      }
    }
    expect(checked).toBe((MAX * (MAX + 1)) / 2);
  });

  it('every consistency proof verifies, and fails when anything is changed', () => {
    let checked = 0;
    for (let n = 1; n <= MAX; n++) {
      const leaves = all.slice(0, n);
      const newRoot = roots[n] as Buffer;
      for (let m = 1; m <= n; m++) {
        const oldRoot = roots[m] as Buffer;
        const proof = consistencyProof(m, leaves);
        expect(verifyConsistency(m, n, oldRoot, newRoot, proof)).toBe(true);

        const failures: string[] = [];
        const expectFalse = (desc: string, ok: boolean) => {
          if (ok) failures.push(desc);
        };
        expectFalse('flipped old root', verifyConsistency(m, n, flipBit(oldRoot), newRoot, proof));
        expectFalse('flipped new root', verifyConsistency(m, n, oldRoot, flipBit(newRoot), proof));
        expectFalse('extended', verifyConsistency(m, n, oldRoot, newRoot, [...proof, newRoot]));
        expectFalse('prefixed', verifyConsistency(m, n, oldRoot, newRoot, [oldRoot, ...proof]));
        if (proof.length > 0) {
          expectFalse('truncated', verifyConsistency(m, n, oldRoot, newRoot, proof.slice(0, -1)));
          expectFalse('first dropped', verifyConsistency(m, n, oldRoot, newRoot, proof.slice(1)));
          proof.forEach((_, k) => {
            const bad = proof.map((p, x) => (x === k ? flipBit(p, 4) : p));
            expectFalse(`proof[${k}] flipped`, verifyConsistency(m, n, oldRoot, newRoot, bad));
          });
        }
        for (const [m2, n2] of [
          [m - 1, n],
          [m + 1, n],
          [m, n + 1],
          [m, n - 1],
          [m, n * 2],
        ] as const) {
          if (m2 < 1 || n2 < 1 || (m2 === m && n2 === n)) continue;
          // As for inclusion, sizes are bound through the proof's shape (see above).
          if (consistencyLength(m2, n2) !== proof.length) {
            expectFalse(`sizes ${m2}/${n2}`, verifyConsistency(m2, n2, oldRoot, newRoot, proof));
          }
        }
        if (m < n) {
          const other = roots[m === 1 ? 2 : m - 1] as Buffer;
          expectFalse('old root of another size', verifyConsistency(m, n, other, newRoot, proof));
        }
        expect({ m, n, failures }).toEqual({ m, n, failures: [] });
        checked++;
      }
    }
    expect(checked).toBe((MAX * (MAX + 1)) / 2);
  });
});

describe('scale', () => {
  // Speed belongs to `npm run bench`; this checks correctness at a realistic size.
  it('roots and proves within 100k leaves', () => {
    const leaves = syntheticLeaves(100_000);
    const root = rootHash(leaves);
    expect(root).toHaveLength(32);
    const proof = inclusionProof(77_777, leaves);
    expect(verifyInclusion(77_777, leaves.length, leaves[77_777] as Buffer, proof, root)).toBe(
      true,
    );
    const cproof = consistencyProof(65_537, leaves);
    const oldRoot = rootHash(leaves.slice(0, 65_537));
    expect(verifyConsistency(65_537, leaves.length, oldRoot, root, cproof)).toBe(true);
  });
});
