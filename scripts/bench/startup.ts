/**
 * Start-up: what a new process pays before it can serve or answer. A function instance's cold
 * start loads the functions' entry (every client library it imports, and the services built at
 * load); every `provenant` command starts a Node process that loads the CLI. Each is timed in a
 * fresh child process, the median of RUNS after one warm-up run (which fills the OS file cache
 * and, for the CLI, Node's compile cache).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { BenchEntry } from './entries';

const RUNS = 15;
const root = path.resolve(__dirname, '..', '..', '..');
const functionsEntry = path.join(root, 'build', 'functions', 'src', 'index.js');
const cliBin = path.join(root, 'scripts', 'provenant.js');

/** A configuration the functions accept at load; nothing is called, so nothing need exist. */
const FUNCTIONS_ENV = {
  GOOGLE_CLOUD_PROJECT: 'provenant-bench',
  DOCUMENTS_BUCKET: 'bench-documents',
  AUDIT_BUCKET: 'bench-audit',
  KMS_KEY_RING: 'projects/provenant-bench/locations/europe-west1/keyRings/tenants',
  SEALING_KEY_VERSION:
    'projects/provenant-bench/locations/europe-west1/keyRings/tenants/cryptoKeys/s/cryptoKeyVersions/1',
  OPENAI_API_KEY: 'sk-bench',
  ANTHROPIC_API_KEY: 'sk-ant-bench',
  API_KEY_PEPPER: 'p'.repeat(32),
};

/** The client libraries whose loading is deferred to first use (providers/, services.ts). */
const DEFERRED = ['openai', '@anthropic-ai/sdk', '@google-cloud/pubsub'];

/**
 * The child: times `require` of the entry in-process, then reports the time and which
 * deferred libraries were loaded, and exits (the clients' lingering handles are not timed).
 */
const CHILD = `
const started = performance.now();
require(process.env.BENCH_ENTRY);
const ms = performance.now() - started;
const loaded = ${JSON.stringify(DEFERRED)}.filter((name) =>
  Object.keys(require.cache).some((file) => file.includes('/node_modules/' + name + '/')),
);
process.stdout.write(JSON.stringify({ ms, loaded }));
process.exit(0);
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function timeEntryLoad(): { ms: number; loaded: string[] } {
  const run = () => {
    const child = spawnSync(process.execPath, ['-e', CHILD], {
      env: { ...process.env, ...FUNCTIONS_ENV, BENCH_ENTRY: functionsEntry },
      encoding: 'utf8',
    });
    if (child.status !== 0) {
      throw new Error(`loading the functions' entry failed:\n${child.stderr.slice(-2000)}`);
    }
    return JSON.parse(child.stdout) as { ms: number; loaded: string[] };
  };
  run();
  const runs = Array.from({ length: RUNS }, run);
  return { ms: median(runs.map((r) => r.ms)), loaded: runs[0]?.loaded ?? [] };
}

function timeCliHelp(): number {
  const run = () => {
    const started = process.hrtime.bigint();
    const child = spawnSync(process.execPath, [cliBin, '--help'], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`provenant --help failed:\n${child.stderr}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  run();
  return median(Array.from({ length: RUNS }, run));
}

export function startupBench(progress: (line: string) => void): BenchEntry[] {
  progress(`startup: loading the functions' entry, ${String(RUNS)} runs`);
  const entry = timeEntryLoad();
  progress(`startup: provenant --help, ${String(RUNS)} runs`);
  const cli = timeCliHelp();
  return [
    {
      name: 'startup_functions_entry_ms_p50',
      value: entry.ms,
      unit: 'ms',
      detail: `require of build/functions/src/index.js in a fresh process (median of ${String(RUNS)}); deferred libraries loaded: ${entry.loaded.length > 0 ? entry.loaded.join(', ') : 'none'}`,
    },
    {
      name: 'startup_cli_help_ms_p50',
      value: cli,
      unit: 'ms',
      detail: `wall time of \`provenant --help\`, process start to exit (median of ${String(RUNS)})`,
    },
  ];
}
