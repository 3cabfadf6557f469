import type { CliIo } from '../../functions/src/cli/io';
import { parseConfig } from '../../functions/src/config';
import { createServices } from '../../functions/src/services';

/** A CliIo that records stdout and stderr lines, with services for the running stack. */
export function captureCli(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    out: (line) => lines.push(line),
    err: (line) => errors.push(line),
    progress: () => undefined,
    services: () => createServices(parseConfig()),
    confirm: () => Promise.resolve(undefined),
  };
}
