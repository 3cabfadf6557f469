/**
 * What a CLI command writes to and where its services come from. Tests pass their own to
 * capture output and point the services at the local stack.
 */
import { createInterface } from 'node:readline/promises';
import { createServices, type Services } from '../services';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /**
   * Progress of long jobs: to stderr, so stdout stays machine-readable. `fraction` (0..1), when
   * known, draws a bar on a terminal; elsewhere (a pipe, CI) each update is a plain line.
   */
  progress: (line: string, fraction?: number) => void;
  services: () => Services;
  /**
   * Asks a yes/no question on the terminal; undefined when there is no terminal to ask on
   * (a pipe, CI), so destructive commands then need `--yes`.
   */
  confirm: (question: string) => Promise<boolean | undefined>;
}

const BAR_WIDTH = 24;

/**
 * What one progress update writes: on a terminal a line redrawn in place, with a bar when the
 * fraction is known (and a newline once complete); elsewhere one plain line per update.
 */
export function progressText(line: string, fraction: number | undefined, tty: boolean): string {
  if (!tty) return `${line}\n`;
  if (fraction === undefined) return `\r${line}\u001b[K`;
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(f * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
  return `\r${bar} ${line}\u001b[K${f === 1 ? '\n' : ''}`;
}

async function askOnTerminal(question: string): Promise<boolean | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export const defaultIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  progress: (line, fraction) =>
    process.stderr.write(progressText(line, fraction, process.stderr.isTTY)),
  services: () => createServices(),
  confirm: askOnTerminal,
};
