/**
 * Issue 16: the local stack supervises its function processes as the platform replaces a
 * crashed instance. Real child processes on loopback: one killed with SIGKILL is started again
 * on its port with a log line; one that keeps dying fails loudly once it passes the cap.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnManaged, tcpProbe, StackError } from '../../scripts/local/processes';
import {
  MAX_RESTARTS,
  restartDelayMs,
  superviseFunction,
  type SupervisedFunction,
} from '../../scripts/local/supervisor';

jest.setTimeout(60_000);

const logDir = mkdtempSync(path.join(os.tmpdir(), 'supervisor-'));
let running: SupervisedFunction | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});
afterAll(() => {
  rmSync(logDir, { recursive: true, force: true });
});

const serve = (port: number) =>
  `require('node:http').createServer((q, s) => s.end('ok')).listen(${String(port)}, '127.0.0.1')`;

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`never: ${what}`);
}

it('restarts a function process killed with SIGKILL on the same port, and says so', async () => {
  const port = await freePort();
  const lines: string[] = [];
  let restarted = 0;
  running = superviseFunction({
    name: 'extractWorker',
    port,
    spawn: (restart) =>
      spawnManaged({
        name: 'extractWorker',
        command: process.execPath,
        args: ['-e', serve(port)],
        logDir,
        appendLog: restart,
      }),
    say: (line) => lines.push(line),
    onRestart: () => (restarted += 1),
  });
  await until(() => tcpProbe(port), 'the first process serves');
  const first = running.current().pid;
  process.kill(first, 'SIGKILL');
  await until(() => restarted === 1, 'a restart');
  expect(running.current().pid).not.toBe(first);
  expect(running.restarts()).toBe(1);
  expect(await tcpProbe(port)).toBe(true);
  expect(lines).toEqual(['function extractWorker exited (signal SIGKILL); restarted']);
});

it('fails loudly, naming the function, when it crash-loops past the cap', async () => {
  const port = await freePort();
  let spawned = 0;
  const lines: string[] = [];
  running = superviseFunction({
    name: 'sealer',
    port,
    spawn: (restart) => {
      spawned += 1;
      return spawnManaged({
        name: 'sealer',
        command: process.execPath,
        args: ['-e', 'process.exit(3)'],
        logDir,
        appendLog: restart,
      });
    },
    say: (line) => lines.push(line),
    onRestart: () => undefined,
  });
  const failure = await running.failure.catch((err: unknown) => err);
  expect(failure).toBeInstanceOf(StackError);
  expect((failure as Error).message).toMatch(
    new RegExp(`^function sealer exited \\(code 3\\) ${String(MAX_RESTARTS + 1)} times within`),
  );
  // The first start and MAX_RESTARTS restarts, none of which ever served.
  expect(spawned).toBe(MAX_RESTARTS + 1);
  expect(lines).toEqual([]);
});

it('backs off between restarts, doubling from 250 ms up to 4 s', () => {
  expect([1, 2, 3, 4, 5, 6, 7].map(restartDelayMs)).toEqual([
    250, 500, 1000, 2000, 4000, 4000, 4000,
  ]);
});
