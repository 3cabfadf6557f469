/**
 * `npm run bench`: every benchmark in scripts/bench, results as tables on stdout, progress on
 * stderr. Performance goals live here, never in timed tests.
 */
import { formatKmsCache, runKmsCacheBench } from './kms-cache';

const progress = (line: string) =>
  process.stderr.write(process.stderr.isTTY ? `\r${line}\u001b[K` : `${line}\n`);

const BENCHMARKS: { name: string; run: () => Promise<string[]> }[] = [
  {
    name: 'KMS unwraps with the wrapping-key cache (scripts/bench/kms-cache.ts)',
    run: async () => formatKmsCache(await runKmsCacheBench(progress)),
  },
];

async function main(): Promise<void> {
  for (const bench of BENCHMARKS) {
    progress(`running ${bench.name}`);
    const lines = await bench.run();
    if (process.stderr.isTTY) process.stderr.write('\n');
    process.stdout.write(`\n## ${bench.name}\n\n${lines.join('\n')}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
