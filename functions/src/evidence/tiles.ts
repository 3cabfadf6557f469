/**
 * A tenant's Merkle log stored as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): the tree's
 * hashes as immutable "tiles" of 256 hashes, the leaves as entry bundles. Any inclusion or
 * consistency proof, and any root, is computed from the few tiles on the paths it needs: a proof
 * in a tree of n leaves reads O(log_256 n) objects, never the whole log.
 *
 * Facts from the spec this module relies on:
 * - `tile/<L>/<N>[.p/<W>]`: the n-th tile at level l holds, for i in 0..255,
 *   MTH(D[(n*256 + i) * 256**l : (n*256 + i + 1) * 256**l]); level 0 holds leaf hashes.
 * - `<N>` is written in 3-digit groups, all but the last prefixed with `x` (1234067 is
 *   `x001/x234/067`); `.p/<W>` marks a partial tile of width 1..255. A partial tile is never
 *   hashed into the level above, and the partial tile at level l of a tree of size s has
 *   `floor(s / 256**l) mod 256` hashes.
 * - `tile/entries/<N>[.p/<W>]`: entry bundles, each entry a big-endian uint16 length and the
 *   entry bytes; entry i hashes (RFC 6962 leaf hash) to hash i of the level-0 tile.
 * Hashing is RFC 6962 over SHA-256 (`evidence/merkle.ts`), so tiles are another encoding of the
 * same tree the seals sign.
 */
import { leafHash, nodeHash, HASH_SIZE, splitPoint, type LeafRange } from './merkle';
import { inclusionRanges, consistencyRanges } from './merkle';

/** Hashes per full tile, and levels of the tree per tile level (256 = 2^8). */
export const TILE_WIDTH = 256;
export const TILE_HEIGHT = 8;
/** Entries are length-prefixed with a uint16. */
export const MAX_ENTRY_BYTES = 0xffff;

function assertIndex(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} ${String(n)} is invalid`);
}

/** `<N>` of a tile path: 3-digit groups, every group but the last prefixed with `x`. */
export function encodeTileIndex(index: number): string {
  assertIndex(index, 'tile index');
  const groups: string[] = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

function widthSuffix(width: number): string {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new RangeError(`tile width ${String(width)} is not within 1..${String(TILE_WIDTH)}`);
  }
  return width === TILE_WIDTH ? '' : `.p/${String(width)}`;
}

/** `tile/<L>/<N>[.p/<W>]`, relative to the log's prefix. */
export function tilePath(level: number, index: number, width: number = TILE_WIDTH): string {
  if (!Number.isInteger(level) || level < 0 || level > 63)
    throw new RangeError(`tile level ${String(level)} is not within 0..63`);
  return `tile/${String(level)}/${encodeTileIndex(index)}${widthSuffix(width)}`;
}

/** `tile/entries/<N>[.p/<W>]`, relative to the log's prefix. */
export function entryBundlePath(index: number, width: number = TILE_WIDTH): string {
  return `tile/entries/${encodeTileIndex(index)}${widthSuffix(width)}`;
}

/** Number of tree nodes at height 8*level in a tree of `size` leaves (complete subtrees only). */
function nodesAtLevel(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/** Width of tile (level, index) in a tree of `size` leaves: 0 when absent, 256 when full. */
export function tileWidth(level: number, index: number, size: number): number {
  const w = nodesAtLevel(size, level) - index * TILE_WIDTH;
  return Math.max(0, Math.min(TILE_WIDTH, w));
}

/** Entry bundle encoding: each entry as a big-endian uint16 length followed by its bytes. */
export function encodeEntryBundle(entries: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.length > MAX_ENTRY_BYTES) {
      throw new RangeError(
        `log entry of ${String(entry.length)} bytes exceeds the ${String(MAX_ENTRY_BYTES)} an entry bundle holds`,
      );
    }
    const len = Buffer.alloc(2);
    len.writeUInt16BE(entry.length);
    parts.push(len, entry);
  }
  return Buffer.concat(parts);
}

/** Splits an entry bundle back into its entries; throws on a truncated bundle. */
export function decodeEntryBundle(bytes: Buffer): Buffer[] {
  const entries: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) throw new Error('entry bundle is truncated');
    const len = bytes.readUInt16BE(at);
    if (at + 2 + len > bytes.length) throw new Error('entry bundle is truncated');
    entries.push(bytes.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return entries;
}

function splitHashes(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += HASH_SIZE) out.push(bytes.subarray(i, i + HASH_SIZE));
  return out;
}

/** MTH of a perfect (power-of-two) run of node hashes. */
function perfectRoot(hashes: readonly Buffer[]): Buffer {
  let level = [...hashes];
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(nodeHash(level[i] as Buffer, level[i + 1] as Buffer));
    }
    level = next;
  }
  const root = level[0];
  if (root === undefined) throw new RangeError('no hashes to fold');
  return root;
}

/** One object the log writer asks to create. */
export interface LogObject {
  path: string;
  bytes: Buffer;
}

/** Reads an object of the log by its path relative to the log's prefix. */
export type LogRead = (path: string) => Promise<Buffer>;

/**
 * The objects to create when `entries` are appended to a tiled log of `oldSize` leaves: every
 * entry bundle and tile (full or partial) that the new tree has and the old one did not.
 * Only the old tree's partial tiles and partial entry bundle are read (one per level at most):
 * they hold the hashes that the new tiles start with.
 */
export async function appendToTiles(
  read: LogRead,
  oldSize: number,
  entries: readonly Buffer[],
): Promise<LogObject[]> {
  assertIndex(oldSize, 'tree size');
  const newSize = oldSize + entries.length;
  if (entries.length === 0) return [];
  const writes: LogObject[] = [];

  // Entry bundles: the old partial bundle's entries, then the new ones.
  const firstBundle = Math.floor(oldSize / TILE_WIDTH);
  const oldBundleWidth = oldSize % TILE_WIDTH;
  const bundleEntries: Buffer[] =
    oldBundleWidth === 0
      ? []
      : decodeEntryBundle(await read(entryBundlePath(firstBundle, oldBundleWidth)));
  if (bundleEntries.length !== oldBundleWidth) {
    throw new Error(`entry bundle ${entryBundlePath(firstBundle, oldBundleWidth)} is malformed`);
  }
  bundleEntries.push(...entries);
  for (let i = 0; i < bundleEntries.length; i += TILE_WIDTH) {
    const chunk = bundleEntries.slice(i, i + TILE_WIDTH);
    writes.push({
      path: entryBundlePath(firstBundle + i / TILE_WIDTH, chunk.length),
      bytes: encodeEntryBundle(chunk),
    });
  }

  // Hash tiles, level by level: `hashes` holds the level-8L node hashes from the start of the
  // first tile that changes up to the new tree's last complete node at that height.
  let newHashes: Buffer[] = entries.map((e) => leafHash(e));
  for (let level = 0; ; level++) {
    const oldCount = nodesAtLevel(oldSize, level);
    const newCount = nodesAtLevel(newSize, level);
    if (newCount === oldCount) break;
    const firstTile = Math.floor(oldCount / TILE_WIDTH);
    const oldWidth = oldCount % TILE_WIDTH;
    const hashes =
      oldWidth === 0 ? [] : splitHashes(await read(tilePath(level, firstTile, oldWidth)));
    if (hashes.length !== oldWidth || hashes.some((h) => h.length !== HASH_SIZE)) {
      throw new Error(`tile ${tilePath(level, firstTile, oldWidth)} is malformed`);
    }
    hashes.push(...newHashes);
    const above: Buffer[] = [];
    for (let i = 0; i < hashes.length; i += TILE_WIDTH) {
      const chunk = hashes.slice(i, i + TILE_WIDTH);
      writes.push({
        path: tilePath(level, firstTile + i / TILE_WIDTH, chunk.length),
        bytes: Buffer.concat(chunk),
      });
      // Only full tiles are hashed into the level above.
      if (chunk.length === TILE_WIDTH) above.push(perfectRoot(chunk));
    }
    newHashes = above;
  }
  return writes;
}

/** A log object source with a read counter: what a proof costs, in objects. */
export class TileReader {
  private readonly cache = new Map<string, Promise<Buffer>>();
  /** Distinct objects read so far. */
  reads = 0;

  constructor(
    private readonly read: LogRead,
    /** The tree size every tile is read for (a checkpoint's size). */
    readonly size: number,
  ) {
    assertIndex(size, 'tree size');
  }

  private object(path: string): Promise<Buffer> {
    let pending = this.cache.get(path);
    if (pending === undefined) {
      this.reads += 1;
      pending = this.read(path);
      this.cache.set(path, pending);
    }
    return pending;
  }

  /** The hashes of tile (level, index) as the tree of `size` has it. */
  async tile(level: number, index: number): Promise<Buffer[]> {
    const width = tileWidth(level, index, this.size);
    if (width === 0) {
      throw new RangeError(
        `tile ${String(level)}/${String(index)} is not in a tree of size ${String(this.size)}`,
      );
    }
    const path = tilePath(level, index, width);
    const bytes = await this.object(path);
    if (bytes.length !== width * HASH_SIZE) throw new Error(`tile ${path} is malformed`);
    return splitHashes(bytes);
  }

  /** Entry `index` of the log, from its entry bundle. */
  async entry(index: number): Promise<Buffer> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`entry ${String(index)} is not in a tree of size ${String(this.size)}`);
    }
    const bundle = Math.floor(index / TILE_WIDTH);
    const width = Math.min(TILE_WIDTH, this.size - bundle * TILE_WIDTH);
    const path = entryBundlePath(bundle, width);
    const entries = decodeEntryBundle(await this.object(path));
    const entry = entries[index % TILE_WIDTH];
    if (entries.length !== width || entry === undefined)
      throw new Error(`entry bundle ${path} is malformed`);
    return entry;
  }

  /** Hash of the perfect subtree of height `height` whose leaves start at `index * 2**height`. */
  async nodeHash(height: number, index: number): Promise<Buffer> {
    const span = 2 ** height;
    if ((index + 1) * span > this.size) {
      throw new RangeError(
        `node ${String(height)}/${String(index)} is not complete in a tree of size ${String(this.size)}`,
      );
    }
    const level = Math.floor(height / TILE_HEIGHT);
    const width = 2 ** (height % TILE_HEIGHT);
    const first = index * width; // index of its first node at height 8*level
    const tile = Math.floor(first / TILE_WIDTH);
    const hashes = await this.tile(level, tile);
    const offset = first - tile * TILE_WIDTH;
    return perfectRoot(hashes.slice(offset, offset + width));
  }

  /**
   * MTH(D[start:end]) for a range whose start is aligned to the largest power of two below its
   * length, as every range of an RFC 6962 proof is: split as MTH does into perfect subtrees.
   */
  async rangeRoot(start: number, end: number): Promise<Buffer> {
    const n = end - start;
    if (n < 1) throw new RangeError(`empty range ${String(start)}..${String(end)}`);
    if (isPowerOfTwo(n)) {
      if (start % n !== 0) throw new RangeError(`range ${String(start)}..${String(end)} unaligned`);
      return this.nodeHash(Math.log2(n), start / n);
    }
    const k = splitPoint(n);
    const [left, right] = await Promise.all([
      this.rangeRoot(start, start + k),
      this.rangeRoot(start + k, end),
    ]);
    return nodeHash(left, right);
  }

  /** The root hash of the tree of `size` leaves. */
  root(): Promise<Buffer> {
    return this.rangeRoot(0, this.size);
  }

  private ranges(ranges: readonly LeafRange[]): Promise<Buffer[]> {
    return Promise.all(ranges.map(([a, b]) => this.rangeRoot(a, b)));
  }

  /** PATH(index, D[size]) from tiles. */
  inclusionProof(index: number): Promise<Buffer[]> {
    return this.ranges(inclusionRanges(index, this.size));
  }

  /** PROOF(oldSize, D[size]) from tiles. */
  consistencyProof(oldSize: number): Promise<Buffer[]> {
    return this.ranges(consistencyRanges(oldSize, this.size));
  }
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * Index of the entry in [from, to) for which `compare(entry)` is 0, by binary search over a
 * sorted run of entries (the log is in `(createdAt, id)` order): O(log (to - from)) entries,
 * and at most that many entry bundles, are read. Undefined when no entry compares equal.
 */
export async function findEntry(
  reader: TileReader,
  from: number,
  to: number,
  compare: (entry: Buffer) => number,
): Promise<number | undefined> {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const c = compare(await reader.entry(mid));
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
}

/**
 * True for an export path inside a tenant's tiled log (`{tenantId}/tlog/...`, see
 * `ledger/tile-log.ts`): those objects are checked against the seals, not read as seal files.
 */
export function isTiledLogPath(path: string): boolean {
  return /^[^/]+\/tlog\//.test(path);
}
