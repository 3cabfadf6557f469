/** What every command module shares: its typed failure and the services lifecycle. */
import type { Services } from '../services';
import type { CliIo } from './io';

/** A failure the CLI reports in one line, with its exit code (2 = verification failed). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Runs `fn` with the instance's clients and always closes them, so the process can exit. */
export async function withServices<T>(
  io: CliIo,
  fn: (services: Services) => Promise<T>,
): Promise<T> {
  const services = io.services();
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}
