/**
 * `provenant audit verify` over an export of 100k records (10 seals of 10k, the sealer's largest
 * batch), through the same function the CLI runs (`verifyExport` on a local folder), against
 * the raw floor on the same bytes: reading the same files and one SHA-256 per record line. The
 * verifier does more per record on purpose (zod shape, canonical JSON, content hash, leaf hash,
 * tree, order and coverage checks); the ratio says how much more it costs.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { directorySource } from '../../functions/src/evidence/export-source';
import { verifyExport } from '../../functions/src/evidence/verify-export';
import {
  extractionBody,
  KEY_VERSION,
  platformPem,
  stored,
  writeSealedLog,
  type Stored,
} from '../../test/support/synthetic-log';
import type { BenchEntry } from './entries';

type Progress = (line: string) => void;

const BASE = Date.parse('2026-03-10T08:00:00.000Z');
/** The steps of a typical invoice extraction, so a record is the size of a real one. */
const STEPS: [string, number][] = [
  ['parse-output', 1],
  ['ground-quotes', 1],
  ['normalize-amounts', 1],
];

/**
 * Writes a signed, chained export of `batches` seals of `perSeal` extraction records into `dir`
 * with the builder the evidence tests use (test/support/synthetic-log.ts), one record per
 * millisecond; each seal's coverage ends at its last record.
 */
function writeExport(dir: string, batches: number, perSeal: number): void {
  const sealed: { records: Stored[]; sealedAt: string }[] = [];
  let n = 0;
  for (let b = 0; b < batches; b++) {
    const records: Stored[] = [];
    for (let k = 0; k < perSeal; k++) {
      const id = `ex_${String(n).padStart(24, '0')}`;
      records.push(
        stored(extractionBody('acme', id, { steps: STEPS }), new Date(BASE + n).toISOString()),
      );
      n += 1;
    }
    sealed.push({ records, sealedAt: (records.at(-1) as Stored).createdAt });
  }
  writeSealedLog(dir, 'acme', sealed);
}

async function bestAsync(rounds: number, fn: () => Promise<void>): Promise<number> {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    await fn();
    min = Math.min(min, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return min;
}

export async function verifyBench(
  progress: Progress,
  batches = 10,
  perSeal = 10_000,
): Promise<BenchEntry[]> {
  const total = batches * perSeal;
  const dir = await mkdtemp(path.join(tmpdir(), 'provenant-verify-bench-'));
  try {
    progress(`verify: writing an export of ${total.toLocaleString('en-US')} records`);
    writeExport(dir, batches, perSeal);
    const source = directorySource(dir);
    const files = (await source.list()).filter((p) => p.endsWith('.jsonl'));
    progress('verify: raw SHA-256 of every record line');
    const raw = await bestAsync(3, async () => {
      for (const file of files) {
        const bytes = await readFile(path.join(dir, file));
        let start = 0;
        for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, start)) {
          createHash('sha256').update(bytes.subarray(start, nl)).digest();
          start = nl + 1;
        }
      }
    });
    progress('verify: audit verify of the export');
    let verified = 0;
    const ours = await bestAsync(2, async () => {
      const report = await verifyExport(source, (kv) =>
        Promise.resolve(kv === KEY_VERSION ? platformPem : undefined),
      );
      const tenant = report.tenants[0];
      if (!report.ok || tenant === undefined) {
        throw new Error(`the bench export did not verify: ${JSON.stringify(report).slice(0, 500)}`);
      }
      verified = tenant.records;
    });
    if (verified !== total)
      throw new Error(`verified ${String(verified)} of ${String(total)} records`);
    return [
      {
        name: 'verify_ratio_vs_sha256',
        value: raw / ours,
        unit: 'ratio',
        baseline: raw,
        detail: `audit verify of ${total.toLocaleString('en-US')} records: ${ours.toFixed(0)} ms (${Math.round((total * 1000) / ours).toLocaleString('en-US')} records/s); reading the files and one SHA-256 per record line: ${raw.toFixed(0)} ms (${Math.round((total * 1000) / raw).toLocaleString('en-US')} records/s)`,
      },
      {
        name: 'verify_records_per_s',
        value: (total * 1000) / ours,
        unit: 'records/s',
        detail: 'audit verify throughput on one core',
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
