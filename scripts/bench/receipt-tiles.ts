/**
 * Receipts from the tiled log at 1k and 1M leaves: the tiles and entry bundles are built
 * directly in memory by the sealer's own `appendToTiles` (not through the API), then receipts
 * are built by the receipt builder's steps (`proveEntry`: binary search over the seal's batch in
 * the entry bundles, the entry, its inclusion path from tiles) through a `TileReader` over an
 * in-memory source, which counts the objects a proof reads. Objects read grow with log n (one
 * tile per 8 tree levels, one bundle per halving of the batch), not with n; the latency is the
 * CPU cost of building the proof, with no network in it.
 */
import { performance } from 'node:perf_hooks';
import { appendToTiles, TileReader } from '../../functions/src/evidence/tiles';
import { proveEntry } from '../../functions/src/evidence/tile-proofs';

/** Leaves per seal at most (the sealer's MAX_BATCH): receipts search the seal's batch. */
const SEAL_BATCH = 10_000;
const SAMPLES = 200;

export interface ReceiptBenchRow {
  leaves: number;
  objectsMean: number;
  objectsMax: number;
  latencyMedianUs: number;
  latencyP95Us: number;
  buildSeconds: number;
}

/** Entries sort like the log's `(createdAt, id)` keys: fixed-width, so byte order is log order. */
const entryOf = (i: number) => Buffer.from(`{"createdAt":"${String(i).padStart(12, '0')}"}`);

async function benchSize(
  leaves: number,
  progress: (line: string) => void,
): Promise<ReceiptBenchRow> {
  const started = performance.now();
  const objects = new Map<string, Buffer>();
  const source = (path: string) => {
    const bytes = objects.get(path);
    return bytes ? Promise.resolve(bytes) : Promise.reject(new Error(`no object ${path}`));
  };
  // Build in seal-sized batches, as the sealer appends, so partial tiles exist at each size.
  for (let size = 0; size < leaves;) {
    const count = Math.min(SEAL_BATCH, leaves - size);
    const entries = Array.from({ length: count }, (_, k) => entryOf(size + k));
    for (const { path, bytes } of await appendToTiles(source, size, entries)) {
      objects.set(path, bytes);
    }
    size += count;
    progress(`receipt bench: built ${String(size)}/${String(leaves)} leaves`);
  }
  const buildSeconds = (performance.now() - started) / 1000;

  // The last seal's batch, as a receipt for a recent extraction would search.
  const batch = {
    firstIndex: Math.max(0, leaves - (leaves % SEAL_BATCH || SEAL_BATCH)),
    count: leaves % SEAL_BATCH || Math.min(SEAL_BATCH, leaves),
  };
  const reads: number[] = [];
  const latencies: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const index = batch.firstIndex + Math.floor(((s + 0.5) / SAMPLES) * batch.count);
    const target = entryOf(index);
    const reader = new TileReader(source, leaves);
    const t0 = performance.now();
    const found = await proveEntry(reader, batch, (e) => Buffer.compare(e, target));
    latencies.push((performance.now() - t0) * 1000);
    if (found?.index !== index) throw new Error(`receipt bench: leaf ${String(index)} not found`);
    reads.push(reader.reads);
  }
  latencies.sort((a, b) => a - b);
  return {
    leaves,
    objectsMean: reads.reduce((a, b) => a + b, 0) / reads.length,
    objectsMax: Math.max(...reads),
    latencyMedianUs: latencies[Math.floor(latencies.length / 2)] ?? 0,
    latencyP95Us: latencies[Math.floor(latencies.length * 0.95)] ?? 0,
    buildSeconds,
  };
}

export async function runReceiptTilesBench(
  progress: (line: string) => void,
): Promise<ReceiptBenchRow[]> {
  const rows: ReceiptBenchRow[] = [];
  for (const leaves of [1_000, 1_000_000]) rows.push(await benchSize(leaves, progress));
  return rows;
}

export function formatReceiptTiles(rows: ReceiptBenchRow[]): string[] {
  const lines = [
    '| leaves | log2(n) | objects read (mean / max) | receipt latency median / p95 | tiles built in |',
    '| -----: | ------: | ------------------------: | ---------------------------: | -------------: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.leaves.toLocaleString('en-US')} | ${Math.log2(r.leaves).toFixed(1)} | ${r.objectsMean.toFixed(1)} / ${String(r.objectsMax)} | ${(r.latencyMedianUs / 1000).toFixed(2)} ms / ${(r.latencyP95Us / 1000).toFixed(2)} ms | ${r.buildSeconds.toFixed(1)} s |`,
    );
  }
  lines.push(
    '',
    `Each receipt: binary search over the last seal's batch (at most ${SEAL_BATCH.toLocaleString('en-US')} leaves) in entry bundles, the entry, and its inclusion path from tiles; ${String(SAMPLES)} receipts per size, in-memory objects (no network).`,
  );
  return lines;
}

/** `.local/bench.json` entries. */
export function receiptTilesEntries(
  rows: ReceiptBenchRow[],
): { name: string; value: number; unit: string }[] {
  const label = (n: number) =>
    n >= 1_000_000 ? `${String(n / 1_000_000)}M` : `${String(n / 1000)}k`;
  return rows.flatMap((r) => [
    { name: `receipt_objects_read_${label(r.leaves)}`, value: r.objectsMean, unit: 'objects' },
    { name: `receipt_objects_read_max_${label(r.leaves)}`, value: r.objectsMax, unit: 'objects' },
    {
      name: `receipt_latency_median_${label(r.leaves)}`,
      value: Number((r.latencyMedianUs / 1000).toFixed(3)),
      unit: 'ms',
    },
  ]);
}
