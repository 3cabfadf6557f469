/**
 * `npm run bench`: every benchmark in scripts/bench, results as tables on stdout and as
 * `.local/bench.json` (an array of `{name, value, unit, baseline?, ratio?}`; figures of the
 * benchmarks run replace those of the same name, others are kept), progress on stderr.
 * Performance goals live here, never in timed tests. `npm run bench -- NAME…` runs only the
 * benchmarks whose key is given (keys: the first word of each heading, e.g. `seal`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { captureBench } from './capture';
import { envelopeBench, proofBench, sealBench, streamMemoryBench } from './cpu';
import { runE2eBench } from './e2e';
import { formatEntries, type BenchEntry } from './entries';
import { formatKmsCache, runKmsCacheBench } from './kms-cache';
import { formatReceiptTiles, receiptTilesEntries, runReceiptTilesBench } from './receipt-tiles';
import { startupBench } from './startup';
import { verifyBench } from './verify';

const progress = (line: string) =>
  process.stderr.write(process.stderr.isTTY ? `\r${line}\u001b[K` : `${line}\n`);

interface Benchmark {
  key: string;
  name: string;
  run: () => Promise<{ lines: string[]; entries: BenchEntry[] }>;
}

const entriesOnly = (entries: BenchEntry[]) => ({ lines: formatEntries(entries), entries });

const BENCHMARKS: Benchmark[] = [
  {
    key: 'capture',
    name: 'capture: evidence capture CPU of one typical invoice (scripts/bench/capture.ts)',
    run: () => Promise.resolve(entriesOnly(captureBench(progress))),
  },
  {
    key: 'seal',
    name: 'seal: folding 1M leaf hashes into the log (scripts/bench/cpu.ts)',
    run: () => Promise.resolve(entriesOnly(sealBench(progress))),
  },
  {
    key: 'proof',
    name: 'proof: inclusion proof verification (scripts/bench/cpu.ts)',
    run: () => Promise.resolve(entriesOnly(proofBench(progress))),
  },
  {
    key: 'envelope',
    name: 'envelope: encryption against raw AES-256-GCM (scripts/bench/cpu.ts)',
    run: async () =>
      entriesOnly([...envelopeBench(progress), ...(await streamMemoryBench(progress))]),
  },
  {
    key: 'kms',
    name: 'kms: KMS unwraps with the wrapping-key cache (scripts/bench/kms-cache.ts)',
    run: async () => {
      const rows = await runKmsCacheBench(progress);
      const burst = rows[0];
      return {
        lines: formatKmsCache(rows),
        entries: burst
          ? [
              {
                name: 'kms_calls_per_1000',
                value: (burst.kmsDecrypts * 1000) / burst.extractions,
                unit: 'calls',
                detail: 'KMS Decrypt calls per 1,000 extractions of one tenant in one instance',
              },
            ]
          : [],
      };
    },
  },
  {
    key: 'receipt',
    name: 'receipt: receipts from the tiled log at 1k and 1M leaves (scripts/bench/receipt-tiles.ts)',
    run: async () => {
      const rows = await runReceiptTilesBench(progress);
      return { lines: formatReceiptTiles(rows), entries: receiptTilesEntries(rows) };
    },
  },
  {
    key: 'startup',
    name: "startup: a function instance's and a CLI command's start (scripts/bench/startup.ts)",
    run: () => Promise.resolve(entriesOnly(startupBench(progress))),
  },
  {
    key: 'verify',
    name: 'verify: audit verify of an export of 100k records (scripts/bench/verify.ts)',
    run: async () => entriesOnly(await verifyBench(progress)),
  },
  {
    key: 'e2e',
    name: 'e2e: the local stack end to end at 1, 8 and 32 clients (scripts/bench/e2e.ts)',
    run: async () => {
      const { entries, lines } = await runE2eBench(progress);
      return { lines: [...lines, ...formatEntries(entries)], entries };
    },
  },
];

/** Keeps the figures of benchmarks not run this time. */
function writeEntries(file: string, entries: BenchEntry[]): void {
  let previous: BenchEntry[] = [];
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (Array.isArray(parsed)) previous = parsed as BenchEntry[];
  } catch {
    previous = [];
  }
  const names = new Set(entries.map((e) => e.name));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify([...previous.filter((e) => !names.has(e.name)), ...entries], null, 2)}\n`,
  );
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !BENCHMARKS.some((b) => b.key === w));
  if (unknown.length > 0) {
    throw new Error(
      `unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.key).join(', ')}`,
    );
  }
  const all: BenchEntry[] = [];
  for (const bench of BENCHMARKS) {
    if (wanted.length > 0 && !wanted.includes(bench.key)) continue;
    progress(`running ${bench.name}`);
    const { lines, entries } = await bench.run();
    all.push(...entries);
    if (process.stderr.isTTY) process.stderr.write('\n');
    process.stdout.write(`\n## ${bench.name}\n\n${lines.join('\n')}\n`);
  }
  const file = path.join(process.cwd(), '.local', 'bench.json');
  writeEntries(file, all);
  process.stdout.write(`\n${String(all.length)} figures written to ${file}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
