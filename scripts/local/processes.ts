import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A part of the local stack the orchestrator could not start, with what to do about it. */
export class StackError extends Error {
  override readonly name = 'StackError';
}

// Process groups still running. Whatever way the orchestrator exits (an uncaught error, a
// process.exit), the 'exit' hook kills them synchronously, so no JVM outlives `npm start`.
const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process exits, with its code (or null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves when the process exits, with the signal that killed it (null when it exited). */
  readonly exitSignal: Promise<NodeJS.Signals | null>;
  stop(): Promise<void>;
  /** The last lines of its log, for error messages. */
  tail(lines?: number): string;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logDir: string;
  /** Append to the log file instead of starting it afresh (a supervised restart). */
  appendLog?: boolean;
}

/**
 * Starts a child in its own process group, logging to a file. Stopping signals the whole group,
 * so wrapper scripts that fork a JVM (the gcloud emulators) leave no orphan behind.
 */
export function spawnManaged(options: SpawnOptions): ManagedProcess {
  mkdirSync(options.logDir, { recursive: true });
  const logFile = path.join(options.logDir, `${options.name}.log`);
  const log = createWriteStream(logFile, { flags: options.appendLog ? 'a' : 'w' });
  const child: ChildProcess = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let resolveSignal: (signal: NodeJS.Signals | null) => void = () => undefined;
  const exitSignal = new Promise<NodeJS.Signals | null>((resolve) => {
    resolveSignal = resolve;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      resolveSignal(signal);
      resolve(code);
    });
    child.once('error', (err) => {
      log.write(`\n[orchestrator] failed to start ${options.command}: ${err.message}\n`);
      resolveSignal(null);
      resolve(-1);
    });
  });
  let exitedYet = false;
  void exited.then(() => {
    exitedYet = true;
  });
  const pid = child.pid ?? -1;
  if (pid > 0) liveGroups.add(pid);

  const signalGroup = (signal: NodeJS.Signals): void => {
    if (pid <= 0) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  };

  return {
    name: options.name,
    pid,
    logFile,
    exited,
    exitSignal,
    async stop() {
      if (!exitedYet) {
        signalGroup('SIGTERM');
        const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
        if (!done) signalGroup('SIGKILL');
        await Promise.race([exited, sleep(2000)]);
      }
      // Grandchildren may outlive a wrapper that exited on SIGTERM.
      signalGroup('SIGKILL');
      liveGroups.delete(pid);
      log.end();
    },
    tail(lines = 30) {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
  };
}

/** Polls until `probe` resolves true, failing early when the process exits. */
export async function waitUntilReady(
  proc: ManagedProcess | undefined,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void proc?.exited.then((code) => {
    exitCode = code;
  });
  for (;;) {
    if (exitCode !== undefined) {
      throw new StackError(
        `${what} exited (code ${String(exitCode)}) before it was ready. Last log lines (${proc?.logFile ?? ''}):\n${proc?.tail() ?? ''}`,
      );
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new StackError(
        `${what} was not ready after ${timeoutMs / 1000}s. Last log lines:\n${proc?.tail() ?? ''}`,
      );
    }
    await sleep(200);
  }
}

/** True when `GET url` answers 2xx and its body passes `accept`. */
export async function httpProbe(url: string, accept: (body: string) => boolean = () => true) {
  const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
  return response.ok && accept(await response.text());
}

export function tcpProbe(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Fails with a clear message when something else already listens on a fixed port. */
export async function assertPortFree(port: number, what: string): Promise<void> {
  if (await tcpProbe(port)) {
    throw new StackError(
      `port ${port} (${what}) is already in use: is another \`npm start\` running? Stop it or set PROVENANT_PORT_BASE.`,
    );
  }
}
