/**
 * `npm test`: starts a private local stack on free ports (a running `npm start` is left alone),
 * runs every jest project against it, stops it, and prints one summary line.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { StackError } from './processes';
import { startStack, type RunningStack } from './stack';
import { projectRoot } from './stack-file';

function say(line: string): void {
  process.stdout.write(`[provenant test] ${line}\n`);
}

interface JestSummary {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTestSuites: number;
  numFailedTestSuites: number;
  numRuntimeErrorTestSuites: number;
}

async function main(): Promise<number> {
  const root = projectRoot();
  const stateDir = path.join(root, '.local', `test-${String(process.pid)}`);
  const stackFile = path.join(stateDir, 'stack.json');
  let running: RunningStack | undefined;
  // On failure the state folder (with every part's log) stays behind for inspection.
  const cleanup = async (keepState = false) => {
    await running?.stop();
    if (!keepState) rmSync(stateDir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
  process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));

  const started = Date.now();
  try {
    running = await startStack({
      root,
      stateDir,
      stackFile,
      fixedPorts: false,
      progress: say,
    });
  } catch (err) {
    await cleanup(true);
    throw err;
  }
  say(`stack ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);

  const resultsFile = path.join(stateDir, 'jest-results.json');
  let code = 1;
  let summary: JestSummary | undefined;
  try {
    code = await runJest(root, stackFile, resultsFile, running);
    if (existsSync(resultsFile))
      summary = JSON.parse(readFileSync(resultsFile, 'utf8')) as JestSummary;
    await running.stop();
    const leaks = canaryLeaks(running.logDir);
    if (leaks.length > 0) {
      say(`document content reached the logs: the canary appears in ${leaks.join(', ')}`);
      code = 1;
    } else say('no log line of any part carries the document canary');
  } finally {
    await cleanup(code !== 0);
    if (code !== 0) say(`logs of every part kept in ${path.join(stateDir, 'logs')}`);
  }
  if (!summary) {
    say('jest produced no results');
    return code === 0 ? 1 : code;
  }
  const skipped = summary.numPendingTests + summary.numTodoTests;
  // Suites that failed to run at all count as failures too.
  const failedSuites = summary.numRuntimeErrorTestSuites;
  // The plain closing line CI reads; skipped tests are listed, never counted as passed.
  process.stdout.write(
    `\ntests: ${String(summary.numPassedTests)} passed, ${String(summary.numFailedTests + failedSuites)} failed, ${String(skipped)} skipped\n`,
  );
  if (summary.numPassedTests === 0) return 1;
  return code;
}

/**
 * Every test document carries this run's canary (test/support/api.ts); once the stack has
 * stopped, no log file of any part may contain it.
 */
const CANARY = `canary-${randomBytes(8).toString('hex')}`;

function canaryLeaks(logDir: string): string[] {
  if (!existsSync(logDir)) return [];
  return readdirSync(logDir).filter((file) =>
    readFileSync(path.join(logDir, file), 'utf8').includes(CANARY),
  );
}

async function runJest(
  root: string,
  stackFile: string,
  resultsFile: string,
  running: RunningStack,
): Promise<number> {
  const jest = require.resolve('jest/bin/jest', { paths: [root] });
  const extra = process.argv.slice(2);
  // Two workers unless the caller chose (the resilience suite runs in band: its tests kill
  // processes every other test of the run depends on).
  const chosen = extra.some((a) => /^(--maxWorkers|-w$|--runInBand$|-i$)/.test(a));
  const args = [
    jest,
    ...(chosen ? [] : ['--maxWorkers=2']),
    '--json',
    `--outputFile=${resultsFile}`,
    ...extra,
  ];
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      PROVENANT_STACK_FILE: stackFile,
      PROVENANT_LOG_CANARY: CANARY,
      // @google-cloud/storage loads node-fetch with import(), which jest's VM only allows with this.
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim(),
    },
  });
  return Promise.race([
    new Promise<number>((resolve) =>
      child.once('exit', (c) => {
        resolve(c ?? 1);
      }),
    ),
    running.failure.catch((err: unknown) => {
      say(`the stack failed during the tests: ${(err as Error).message}`);
      child.kill('SIGTERM');
      return 1;
    }),
  ]);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `[provenant test] ${err instanceof StackError ? err.message : String((err as Error).stack ?? err)}\n`,
    );
    process.exit(1);
  },
);
