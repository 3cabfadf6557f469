/**
 * `npm run bench`: every benchmark in scripts/bench, results as tables on stdout, progress on
 * stderr, and `{name, value, unit}` entries in `.local/bench.json` (entries of the same name are
 * replaced, others kept). Performance goals live here, never in timed tests.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatKmsCache, runKmsCacheBench } from './kms-cache';
import { formatReceiptTiles, receiptTilesEntries, runReceiptTilesBench } from './receipt-tiles';

const progress = (line: string) =>
  process.stderr.write(process.stderr.isTTY ? `\r${line}\u001b[K` : `${line}\n`);

interface BenchEntry {
  name: string;
  value: number;
  unit: string;
}

interface BenchResult {
  lines: string[];
  entries: BenchEntry[];
}

const BENCHMARKS: { name: string; run: () => Promise<BenchResult> }[] = [
  {
    name: 'KMS unwraps with the wrapping-key cache (scripts/bench/kms-cache.ts)',
    run: async () => ({ lines: formatKmsCache(await runKmsCacheBench(progress)), entries: [] }),
  },
  {
    name: 'Receipts from the tiled log at 1k and 1M leaves (scripts/bench/receipt-tiles.ts)',
    run: async () => {
      const rows = await runReceiptTilesBench(progress);
      return { lines: formatReceiptTiles(rows), entries: receiptTilesEntries(rows) };
    },
  },
];

const BENCH_JSON = path.join('.local', 'bench.json');

function writeEntries(entries: BenchEntry[]): void {
  let previous: BenchEntry[] = [];
  try {
    const parsed: unknown = JSON.parse(readFileSync(BENCH_JSON, 'utf8'));
    if (Array.isArray(parsed)) previous = parsed as BenchEntry[];
  } catch {
    previous = [];
  }
  const names = new Set(entries.map((e) => e.name));
  mkdirSync(path.dirname(BENCH_JSON), { recursive: true });
  writeFileSync(
    BENCH_JSON,
    `${JSON.stringify([...previous.filter((e) => !names.has(e.name)), ...entries], null, 2)}\n`,
  );
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY;
  const entries: BenchEntry[] = [];
  for (const bench of BENCHMARKS) {
    if (only && !bench.name.includes(only)) continue;
    progress(`running ${bench.name}`);
    const result = await bench.run();
    if (process.stderr.isTTY) process.stderr.write('\n');
    process.stdout.write(`\n## ${bench.name}\n\n${result.lines.join('\n')}\n`);
    entries.push(...result.entries);
  }
  writeEntries(entries);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
