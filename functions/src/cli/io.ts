/**
 * What a CLI command writes to and where its services come from. Tests pass their own to
 * capture output and point the services at the local stack.
 */
import { createInterface } from 'node:readline/promises';
import { createServices, type Services } from '../services';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Progress of long jobs: to stderr, so stdout stays machine-readable. */
  progress: (line: string) => void;
  services: () => Services;
  /**
   * Asks a yes/no question on the terminal; undefined when there is no terminal to ask on
   * (a pipe, CI), so destructive commands then need `--yes`.
   */
  confirm: (question: string) => Promise<boolean | undefined>;
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
  progress: (line) =>
    process.stderr.write(process.stderr.isTTY ? `\r${line}\u001b[K` : `${line}\n`),
  services: () => createServices(),
  confirm: askOnTerminal,
};
