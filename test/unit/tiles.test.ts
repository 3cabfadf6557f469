/**
 * The tiled log (C2SP tlog-tiles) against the spec's own examples and an independent, naive
 * computation of every tile from its definition: the n-th tile at level l holds
 * MTH(D[(n*256 + i) * 256**l : (n*256 + i + 1) * 256**l]) for i in 0..255.
 */
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from '../../functions/src/evidence/merkle';
import {
  appendToTiles,
  decodeEntryBundle,
  encodeEntryBundle,
  encodeTileIndex,
  entryBundlePath,
  findEntry,
  TileReader,
  tilePath,
  tileWidth,
} from '../../functions/src/evidence/tiles';

const entry = (i: number) => Buffer.from(`entry ${String(i).padStart(8, '0')}`);

/** A tiled log in memory, grown by the same appends the sealer makes, create-only. */
async function buildLog(
  batches: number[],
): Promise<{ objects: Map<string, Buffer>; size: number }> {
  const objects = new Map<string, Buffer>();
  let size = 0;
  for (const count of batches) {
    const entries = Array.from({ length: count }, (_, k) => entry(size + k));
    const read = (path: string) => {
      const bytes = objects.get(path);
      return bytes ? Promise.resolve(bytes) : Promise.reject(new Error(`no ${path}`));
    };
    for (const { path, bytes } of await appendToTiles(read, size, entries)) {
      const existing = objects.get(path);
      if (existing && !existing.equals(bytes)) throw new Error(`${path} rewritten`);
      objects.set(path, bytes);
    }
    size += count;
  }
  return { objects, size };
}

const reader = (objects: Map<string, Buffer>, size: number) =>
  new TileReader((path) => {
    const bytes = objects.get(path);
    return bytes ? Promise.resolve(bytes) : Promise.reject(new Error(`no ${path}`));
  }, size);

describe('tile paths (tlog-tiles)', () => {
  it.each([
    [0, '000'],
    [7, '007'],
    [999, '999'],
    [1000, 'x001/000'],
    [1234067, 'x001/x234/067'],
  ])('index %d is written %s', (index, encoded) => {
    expect(encodeTileIndex(index)).toBe(encoded);
  });

  it('full tiles have no suffix, partial tiles .p/<W>, entries live under tile/entries', () => {
    expect(tilePath(0, 1234067)).toBe('tile/0/x001/x234/067');
    expect(tilePath(2, 5, 17)).toBe('tile/2/005.p/17');
    expect(entryBundlePath(1000, 112)).toBe('tile/entries/x001/000.p/112');
    expect(() => tilePath(0, 0, 0)).toThrow(RangeError);
    expect(() => tilePath(64, 0)).toThrow(RangeError);
  });

  it("a tree of 70,000 has the spec's tiles: 273 full level-0, width 112, one full level-1, width 17, level-2 width 1", async () => {
    expect(tileWidth(0, 272, 70_000)).toBe(256);
    expect(tileWidth(0, 273, 70_000)).toBe(112);
    expect(tileWidth(0, 274, 70_000)).toBe(0);
    expect(tileWidth(1, 0, 70_000)).toBe(256);
    expect(tileWidth(1, 1, 70_000)).toBe(17);
    expect(tileWidth(2, 0, 70_000)).toBe(1);
    const { objects } = await buildLog([70_000]);
    const tiles = [...objects.keys()].filter((p) => !p.startsWith('tile/entries/'));
    expect(tiles.filter((p) => p.startsWith('tile/0/') && !p.includes('.p/'))).toHaveLength(273);
    expect(tiles).toContain('tile/0/273.p/112');
    expect(tiles).toContain('tile/1/000');
    expect(tiles).toContain('tile/1/001.p/17');
    expect(tiles).toContain('tile/2/000.p/1');
    expect(tiles).toHaveLength(273 + 1 + 1 + 1 + 1);
  });

  it('a tree of 256 is one full level-0 tile and a level-1 tile of width 1', async () => {
    const { objects } = await buildLog([256]);
    expect([...objects.keys()].sort()).toEqual([
      'tile/0/000',
      'tile/1/000.p/1',
      'tile/entries/000',
    ]);
  });
});

describe('entry bundles', () => {
  it('round-trip big-endian uint16 length-prefixed entries and refuse oversize ones', () => {
    const entries = [Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(300, 7)];
    const bundle = encodeEntryBundle(entries);
    expect(bundle.subarray(0, 2).toString('hex')).toBe('0000');
    expect(bundle.subarray(2, 4).toString('hex')).toBe('0001');
    expect(bundle.subarray(5, 7).toString('hex')).toBe('012c');
    expect(decodeEntryBundle(bundle)).toEqual(entries);
    expect(() => decodeEntryBundle(bundle.subarray(0, bundle.length - 1))).toThrow('truncated');
    expect(() => encodeEntryBundle([Buffer.alloc(0x10000)])).toThrow(RangeError);
  });
});

describe('tiles hold the RFC 6962 tree, whatever the append batches', () => {
  const batches = [1, 2, 253, 1, 300, 511, 1, 3_000, 7];
  const total = batches.reduce((a, b) => a + b, 0);
  let objects: Map<string, Buffer>;
  let leaves: Buffer[];
  beforeAll(async () => {
    ({ objects } = await buildLog(batches));
    leaves = Array.from({ length: total }, (_, i) => leafHash(entry(i)));
  });

  it('every full and final partial tile is the naive MTH of its leaf range', () => {
    for (let level = 0; level <= 2; level++) {
      for (let n = 0; tileWidth(level, n, total) > 0; n++) {
        const width = tileWidth(level, n, total);
        const bytes = objects.get(tilePath(level, n, width));
        expect(bytes).toBeDefined();
        const span = 256 ** level;
        for (const i of [0, width - 1]) {
          const start = (n * 256 + i) * span;
          const expected = rootHash(leaves.slice(start, start + span));
          expect(bytes?.subarray(i * 32, i * 32 + 32).toString('hex')).toBe(
            expected.toString('hex'),
          );
        }
      }
    }
  });

  it('each entry of a bundle hashes to its level-0 tile hash', () => {
    const bundle = decodeEntryBundle(objects.get('tile/entries/001') as Buffer);
    const tile = objects.get('tile/0/001') as Buffer;
    bundle.forEach((e, i) => {
      expect(leafHash(e).equals(tile.subarray(i * 32, i * 32 + 32))).toBe(true);
    });
  });

  // Partial tiles exist for checkpoint sizes only: the sizes after each batch.
  it.each([1, 3, 256, 257, 557, 1068, 1069, 4069, total])(
    'root, inclusion and consistency at checkpoint size %d equal the in-memory RFC 6962 ones',
    async (size) => {
      const r = reader(objects, size);
      const prefix = leaves.slice(0, size);
      expect((await r.root()).equals(rootHash(prefix))).toBe(true);
      for (const index of [0, Math.floor(size / 2), size - 1]) {
        const proof = await r.inclusionProof(index);
        expect(proof.map((h) => h.toString('hex'))).toEqual(
          inclusionProof(index, prefix).map((h) => h.toString('hex')),
        );
        expect(verifyInclusion(index, size, leaves[index] as Buffer, proof, rootHash(prefix))).toBe(
          true,
        );
      }
      for (const old of [1, Math.floor(size / 3), size]) {
        if (old > size || old < 1) continue;
        const proof = await r.consistencyProof(old);
        expect(proof.map((h) => h.toString('hex'))).toEqual(
          consistencyProof(old, prefix).map((h) => h.toString('hex')),
        );
        expect(
          verifyConsistency(old, size, rootHash(leaves.slice(0, old)), rootHash(prefix), proof),
        ).toBe(true);
      }
    },
  );
});

describe('proofs from tiles read O(log n) objects', () => {
  it('an inclusion or consistency proof reads a few tiles at each of the three levels of a 66,000-leaf tree, never the log', async () => {
    const size = 66_000;
    const { objects } = await buildLog([size]);
    const tileLevels = 3; // 256^2 < 66,000 <= 256^3
    for (const index of [0, 1, 12_345, 65_535, 65_536, size - 1]) {
      const r = reader(objects, size);
      await r.inclusionProof(index);
      expect(r.reads).toBeGreaterThan(0);
      // One tile on the leaf's path per level, plus the right edge's partial tiles.
      expect(r.reads).toBeLessThanOrEqual(2 * tileLevels);
    }
    for (const old of [1, 255, 1000, 65_536, 65_999]) {
      const r = reader(objects, size);
      await r.consistencyProof(old);
      expect(r.reads).toBeLessThanOrEqual(2 * tileLevels + 1);
    }
    expect(objects.size).toBeGreaterThan(500);
  });

  it('finding an entry by binary search reads O(log n) entry bundles', async () => {
    const size = 10_000;
    const { objects } = await buildLog([size]);
    const target = entry(7_777);
    const r = reader(objects, size);
    const found = await findEntry(r, 0, size, (e) => Buffer.compare(e, target));
    expect(found).toBe(7_777);
    expect(r.reads).toBeLessThanOrEqual(Math.ceil(Math.log2(size)));
    const missing = reader(objects, size);
    expect(
      await findEntry(missing, 0, size, (e) => Buffer.compare(e, Buffer.from('entry 9'))),
    ).toBeUndefined();
  });
});
