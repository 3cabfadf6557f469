/**
 * End to end on the local stack (the same `startStack` as `npm test`: real emulators, the
 * functions as processes), with the LLM emulator answering after a fixed latency. Closed-loop
 * clients (1, 8, 32) each submit the fixture invoice, wait for its result, and submit again.
 *
 * Latency is accepted→completed: from the moment the client sends the submission to the moment
 * the worker committed the result (the `committedAt` of the worker's `stage_timings` line; every
 * process runs on this machine's clock). The bench learns of completion by following the
 * worker's log file rather than polling the API, so waiting adds no load of its own.
 * Overhead = p50 latency − the emulator's fixed model latency. The per-stage breakdown is the
 * median of each `<stage>Ms` field of the `stage_timings` lines of the api and worker functions;
 * `push` (Pub/Sub publish → worker start) is worker `startedAt` − api `publishedAt`, and
 * `auth+body` the api's request time (`request_completed.ms`) minus the submission's stages.
 */
import { readFileSync, rmSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setLogSink } from '../../functions/src/logging';
import { projectRoot } from '../local/stack-file';
import { startStack, type RunningStack } from '../local/stack';
import type { BenchEntry } from './entries';
import { cpuByPart, cpuSpent } from './process-cpu';

type Progress = (line: string) => void;

/** The model latency the emulator adds to every answer. */
export const LLM_LATENCY_MS = 500;
const CLIENT_COUNTS = [1, 8, 32] as const;
const EXTRACTIONS_PER_CLIENT: Record<number, number> = { 1: 20, 8: 6, 32: 3 };

type LogLine = Record<string, unknown>;

/** Reads the lines appended to a log file since the last call. */
class LogFollower {
  private offset = 0;
  private partial = '';
  constructor(readonly file: string) {}

  /** Skips what the file holds now. */
  skipToEnd(): void {
    this.offset = statSync(this.file).size;
    this.partial = '';
  }

  read(): LogLine[] {
    const size = statSync(this.file).size;
    if (size <= this.offset) return [];
    const fd = openSync(this.file, 'r');
    const buf = Buffer.alloc(size - this.offset);
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const text = this.partial + buf.toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const out: LogLine[] = [];
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as LogLine);
      } catch {
        // A framework line that happens to start with a brace.
      }
    }
    return out;
  }
}

const num = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);

function percentile(values: number[], p: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

interface RunResult {
  clients: number;
  completed: number;
  failed: number;
  rateLimited: number;
  wallMs: number;
  latencies: number[];
  api: LogLine[];
  worker: LogLine[];
  requestMs: number[];
  /** CPU-seconds each part of the stack (and the bench) spent during the run, largest first. */
  cpu: [string, number][];
}

async function runClients(
  stack: RunningStack,
  clients: number,
  perClient: number,
  document: string,
  progress: Progress,
): Promise<RunResult> {
  const worker = new LogFollower(path.join(stack.logDir, 'extractWorker.log'));
  const api = new LogFollower(path.join(stack.logDir, 'api.log'));
  worker.skipToEnd();
  api.skipToEnd();
  const waiting = new Map<string, (line: LogLine | undefined) => void>();
  const workerLines: LogLine[] = [];
  const state = { following: true };
  const follow = (async () => {
    while (state.following) {
      for (const line of worker.read()) {
        const id = line.extractionId;
        if (typeof id !== 'string') continue;
        if (line.event === 'stage_timings') {
          workerLines.push(line);
          waiting.get(id)?.(line);
        } else if (line.event === 'extraction_failed') waiting.get(id)?.(undefined);
      }
      await sleep(5);
    }
  })();

  const result: RunResult = {
    clients,
    completed: 0,
    failed: 0,
    rateLimited: 0,
    wallMs: 0,
    latencies: [],
    api: [],
    worker: workerLines,
    requestMs: [],
    cpu: [],
  };
  const tenants = stack.stack.tenants;
  const client = async (c: number) => {
    const tenant = tenants[c % tenants.length];
    if (!tenant) throw new Error('the stack has no tenant');
    for (let i = 0; i < perClient; i++) {
      for (;;) {
        const sentAt = Date.now();
        const res = await fetch(`${stack.stack.apiUrl}/v1/extractions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            document: { contentType: 'text/plain', text: document },
            schema: 'invoice',
          }),
        });
        const body = (await res.json()) as { id?: string };
        if (res.status === 429) {
          result.rateLimited += 1;
          await sleep(Number(res.headers.get('retry-after') ?? '1') * 1000);
          continue;
        }
        if (res.status !== 202 || typeof body.id !== 'string') {
          throw new Error(`submission answered ${String(res.status)}: ${JSON.stringify(body)}`);
        }
        const id = body.id;
        const line = await Promise.race([
          new Promise<LogLine | undefined>((resolve) => waiting.set(id, resolve)),
          sleep(120_000).then(() => undefined),
        ]);
        waiting.delete(id);
        if (line === undefined) result.failed += 1;
        else {
          result.completed += 1;
          result.latencies.push(num(line.committedAt) - sentAt);
        }
        break;
      }
    }
  };
  progress(`e2e: ${String(clients)} client(s), ${String(clients * perClient)} extractions`);
  const started = Date.now();
  const cpuBefore = cpuByPart();
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  result.wallMs = Date.now() - started;
  result.cpu = cpuSpent(cpuBefore, cpuByPart());
  state.following = false;
  await follow;
  // The api's lines of this run (a short wait for its last lines to reach the file).
  await sleep(200);
  for (const line of api.read()) {
    if (line.event === 'stage_timings') result.api.push(line);
    else if (
      line.event === 'request_completed' &&
      line.route === '/v1/extractions' &&
      line.method === 'POST' &&
      line.status === 202
    )
      result.requestMs.push(num(line.ms));
  }
  return result;
}

const median = (values: number[]) => percentile(values, 50);

/**
 * How many extractions the worker ran at once: the most of its runs (`startedAt` to
 * `startedAt + totalMs` of each `stage_timings` line) that overlapped, and the mean (their
 * summed time over the run's wall time). Far below the number of clients while cores are idle,
 * the limit is how fast deliveries arrive, not the worker or the machine.
 */
function workerConcurrency(run: RunResult): { max: number; mean: number } {
  const edges: [number, number][] = [];
  let busyMs = 0;
  for (const line of run.worker) {
    const start = num(line.startedAt);
    const total = num(line.totalMs);
    edges.push([start, 1], [start + total, -1]);
    busyMs += total;
  }
  // Ends before starts at the same instant: touching runs did not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let max = 0;
  for (const [, delta] of edges) {
    current += delta;
    max = Math.max(max, current);
  }
  return { max, mean: busyMs / Math.max(run.wallMs, 1) };
}

/** Median of each `<stage>Ms` field over the lines. */
function stageMedians(lines: LogLine[]): Map<string, number> {
  const stages = new Map<string, number[]>();
  for (const line of lines) {
    for (const [key, value] of Object.entries(line)) {
      if (!key.endsWith('Ms') || key === 'totalMs' || typeof value !== 'number') continue;
      const stage = key.slice(0, -2);
      stages.set(stage, [...(stages.get(stage) ?? []), value]);
    }
  }
  return new Map([...stages].map(([stage, values]) => [stage, median(values)]));
}

export interface E2eReport {
  entries: BenchEntry[];
  lines: string[];
}

function breakdown(run: RunResult): { rows: [string, number][]; largest: string } {
  const api = stageMedians(run.api);
  const worker = stageMedians(run.worker);
  const byId = new Map(run.api.map((l) => [l.extractionId, l]));
  const push = run.worker.map((w) => num(w.startedAt) - num(byId.get(w.extractionId)?.publishedAt));
  const apiTotal = median(run.api.map((l) => num(l.totalMs)));
  const rows: [string, number][] = [
    ['api auth+body (request − submission)', median(run.requestMs) - apiTotal],
    ...[...api].map(([s, ms]): [string, number] => [`api ${s}`, ms]),
    ['push (publish → worker start)', median(push)],
    ...[...worker].map(([s, ms]): [string, number] => [`worker ${s}`, ms]),
  ];
  const candidates = rows.filter(([s]) => s !== 'worker model');
  const largest = candidates.reduce((a, b) => (b[1] > a[1] ? b : a), ['none', 0])[0];
  return { rows, largest };
}

export async function runE2eBench(progress: Progress): Promise<E2eReport> {
  const root = projectRoot();
  const stateDir = path.join(root, '.local', `bench-e2e-${String(process.pid)}`);
  const document = readFileSync(
    path.join(root, 'test', 'fixtures', 'documents', 'invoice-acme.txt'),
    'utf8',
  );
  const started = Date.now();
  // The orchestrator onboards the demo tenants through the functions' modules, which log to
  // stdout: those lines go to stderr, so stdout stays the tables.
  setLogSink((line) => process.stderr.write(`${line}\n`));
  const stack = await startStack({
    root,
    stateDir,
    stackFile: path.join(stateDir, 'stack.json'),
    fixedPorts: false,
    progress: (line) => {
      progress(`e2e: ${line}`);
    },
  });
  progress(`e2e: stack ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  try {
    const faults = await fetch(`http://${stack.stack.emulators.llm}/admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fault: `latency:${String(LLM_LATENCY_MS)}`, times: 1_000_000 }),
    });
    if (!faults.ok)
      throw new Error(`the LLM emulator refused the latency fault: ${String(faults.status)}`);
    // Warm-up: first calls pay for connections, JIT and the wrapping-key cache.
    await runClients(stack, 2, 3, document, progress);
    const runs: RunResult[] = [];
    for (const clients of CLIENT_COUNTS) {
      runs.push(
        await runClients(stack, clients, EXTRACTIONS_PER_CLIENT[clients] ?? 3, document, progress),
      );
    }
    const entries: BenchEntry[] = [];
    const lines: string[] = [
      `LLM emulator latency ${String(LLM_LATENCY_MS)} ms; latency = client send → worker commit`,
      '',
      'clients  done  failed  429s  extractions/s  p50 ms  p99 ms  overhead p50 ms',
    ];
    for (const run of runs) {
      const p50 = percentile(run.latencies, 50);
      const p99 = percentile(run.latencies, 99);
      const rate = (run.completed * 1000) / run.wallMs;
      lines.push(
        `${String(run.clients).padStart(7)}  ${String(run.completed).padStart(4)}  ${String(run.failed).padStart(6)}  ${String(run.rateLimited).padStart(4)}  ${rate.toFixed(2).padStart(13)}  ${p50.toFixed(0).padStart(6)}  ${p99.toFixed(0).padStart(6)}  ${(p50 - LLM_LATENCY_MS).toFixed(0).padStart(15)}`,
      );
      const { rows, largest } = breakdown(run);
      entries.push({
        name: `e2e_overhead_ms_p50_c${String(run.clients)}`,
        value: p50 - LLM_LATENCY_MS,
        unit: 'ms',
        detail: `p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, ${rate.toFixed(2)} extractions/s; largest stage: ${largest}`,
      });
      if (run.clients === 32) {
        entries.push({
          name: 'e2e_extractions_per_s_c32',
          value: rate,
          unit: 'extractions/s',
          detail: `${String(run.completed)} extractions by 32 closed-loop clients in ${(run.wallMs / 1000).toFixed(1)} s`,
        });
      }
      const overlap = workerConcurrency(run);
      const cpuTotal = run.cpu.reduce((sum, [, seconds]) => sum + seconds, 0);
      const coresUsed = cpuTotal / (run.wallMs / 1000);
      const perExtraction = (seconds: number) => (seconds * 1000) / Math.max(run.completed, 1);
      if (run.clients === 32) {
        entries.push({
          name: 'e2e_cpu_ms_per_extraction_c32',
          value: perExtraction(cpuTotal),
          unit: 'ms',
          detail: `CPU of the whole stack and the load generator per extraction at 32 clients; ${coresUsed.toFixed(2)} of ${String(availableParallelism())} cores busy with it; largest: ${run.cpu[0]?.[0] ?? 'none'}`,
        });
      }
      lines.push(
        '',
        `  stage medians at ${String(run.clients)} client(s) (ms; largest besides the model: ${largest}):`,
        ...rows.map(([stage, ms]) => `    ${stage.padEnd(40)} ${ms.toFixed(1).padStart(8)}`),
        '',
        `  worker runs at once: at most ${String(overlap.max)}, ${overlap.mean.toFixed(2)} on average`,
        '',
        `  CPU per extraction at ${String(run.clients)} client(s) (ms; the run kept ${coresUsed.toFixed(2)} of ${String(availableParallelism())} cores busy):`,
        ...run.cpu.map(
          ([part, seconds]) =>
            `    ${part.padEnd(40)} ${perExtraction(seconds).toFixed(1).padStart(8)}`,
        ),
        '',
      );
    }
    const single = runs[0];
    if (single) {
      const writes = single.api.map((l) => {
        const w = single.worker.find((x) => x.extractionId === l.extractionId);
        return num(l.firestoreWrites) + num(w?.firestoreWrites);
      });
      entries.push({
        name: 'firestore_writes_per_extraction',
        value: median(writes),
        unit: 'writes',
        detail:
          'document writes through the tenancy layer (api submission + worker), counted in process, median at 1 client',
      });
    }
    return { entries, lines };
  } finally {
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
