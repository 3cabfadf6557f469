/**
 * What a CLI command writes to and where its services come from. Tests pass their own to
 * capture output and point the services at the local stack.
 */
import { createServices, type Services } from '../services';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Progress of long jobs: to stderr, so stdout stays machine-readable. */
  progress: (line: string) => void;
  services: () => Services;
}

export const defaultIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  progress: (line) =>
    process.stderr.write(process.stderr.isTTY ? `\r${line}\u001b[K` : `${line}\n`),
  services: () => createServices(),
};
