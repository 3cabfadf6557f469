/**
 * Supervision of the function processes of the local stack. On Cloud Functions (gen2, Cloud
 * Run underneath) an instance that crashes is replaced by a new one and the service stays up;
 * the local stack does the same, so that faults can be tested at all: a function process that
 * exits while the stack runs is started again on the same port (Pub/Sub push and clients keep
 * their URL), with a log line, a growing pause between restarts, and a cap so that a crash
 * loop still fails the whole stack loudly instead of restarting for ever.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError, tcpProbe, waitUntilReady, type ManagedProcess } from './processes';

/** Restarts allowed within `RESTART_WINDOW_MS` before the stack gives up on a function. */
export const MAX_RESTARTS = 5;
export const RESTART_WINDOW_MS = 60_000;
/** The pause before the n-th restart in the window: 250 ms, doubling, at most 4 s. */
export function restartDelayMs(restartsInWindow: number): number {
  return Math.min(4000, 250 * 2 ** Math.max(0, restartsInWindow - 1));
}

export interface SupervisedFunction {
  readonly name: string;
  readonly port: number;
  /** The process serving now (a new one after each restart). */
  current(): ManagedProcess;
  restarts(): number;
  /** Rejects when the function crash-loops past the cap; never resolves. */
  readonly failure: Promise<never>;
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  name: string;
  port: number;
  /** Starts one process of the function; `restart` is true for every start after the first. */
  spawn(restart: boolean): ManagedProcess;
  /** A line for the operator (the stack's progress output). */
  say(line: string): void;
  /** Called once a restarted process serves again (the stack file names the new PID). */
  onRestart(): void;
}

export function superviseFunction(options: SuperviseOptions): SupervisedFunction {
  let proc = options.spawn(false);
  const state = { stopping: false };
  // A call, not the field: stop() may flip it while a restart awaits.
  const stopping = (): boolean => state.stopping;
  let total = 0;
  const recent: number[] = [];
  let rejectFailure: (err: Error) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => {
    rejectFailure = reject;
  });
  failure.catch(() => undefined);

  const watch = (watched: ManagedProcess): void => {
    void Promise.all([watched.exited, watched.exitSignal]).then(async ([code, signal]) => {
      if (stopping()) return;
      // Its process group and log stream are released before the next one takes the port.
      await watched.stop();
      const how = signal ? `signal ${signal}` : `code ${String(code)}`;
      const now = Date.now();
      while (recent.length > 0 && (recent[0] ?? 0) < now - RESTART_WINDOW_MS) recent.shift();
      if (recent.length >= MAX_RESTARTS) {
        rejectFailure(
          new StackError(
            `function ${options.name} exited (${how}) ${String(MAX_RESTARTS + 1)} times within ${String(RESTART_WINDOW_MS / 1000)}s: crash loop, not restarted. Last log lines:\n${watched.tail()}`,
          ),
        );
        return;
      }
      recent.push(now);
      await sleep(restartDelayMs(recent.length));
      if (stopping()) return;
      proc = options.spawn(true);
      total += 1;
      watch(proc);
      try {
        await waitUntilReady(
          proc,
          `function ${options.name}`,
          () => tcpProbe(options.port),
          60_000,
        );
      } catch (err) {
        // Exited again before serving: its own watcher counts that and decides. Still running
        // but not serving after a minute: nothing a restart would fix, so the stack fails.
        const exitedAgain = await Promise.race([proc.exited.then(() => true), sleep(0, false)]);
        if (!exitedAgain && !stopping()) rejectFailure(err as Error);
        return;
      }
      if (stopping()) return;
      options.say(`function ${options.name} exited (${how}); restarted`);
      options.onRestart();
    });
  };
  watch(proc);

  return {
    name: options.name,
    port: options.port,
    current: () => proc,
    restarts: () => total,
    failure,
    async stop() {
      state.stopping = true;
      await proc.stop();
    },
  };
}
