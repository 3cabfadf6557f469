/**
 * What every command module shares: its typed failure, the services lifecycle, id checks,
 * progress reporting, and where `audit export` reads from. What the auditor's commands need
 * (a location and a trust root, nothing secret) is in trust.ts.
 */
import { directorySource, type ExportSource } from '../evidence/export-source';
import type { Services } from '../services';
import { bucketSource } from '../storage/bucket-source';
import { isValidId } from '../tenancy/firestore';
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

/** `value` if it is a valid document id, else a CliError "invalid <what>: <value>". */
export function requireId(value: string, what: string): string {
  if (!isValidId(value)) throw new CliError(`invalid ${what}: ${value}`);
  return value;
}

/**
 * A `--from`/`--to` value: an ISO 8601 date (`2026-03-12`, UTC midnight) or date-time with a
 * zone (`2026-03-12T09:30:00Z`, `+01:00`), as the ISO string records are compared with. Anything
 * else ("yesterday", "garbage", `2026-13-01`) is refused, naming the value, instead of being
 * compared as text and silently matching everything or nothing.
 */
export function requireIsoDate(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? new Date(`${value}T00:00:00.000Z`)
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
      ? new Date(value)
      : undefined;
  // Date rolls 2026-02-30 over to March: a round trip of the date part catches it.
  if (!date || Number.isNaN(date.getTime()) || !sameCalendarDay(value, date)) {
    throw new CliError(
      `invalid ${flag} ${JSON.stringify(value)}: expected an ISO 8601 date (2026-03-12) or date-time with a zone (2026-03-12T09:30:00Z)`,
    );
  }
  return date.toISOString();
}

function sameCalendarDay(value: string, date: Date): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) && !/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/.test(value))
    return true; // an offset moves the UTC day; the regex and Date checks above suffice
  return date.toISOString().slice(0, 10) === value.slice(0, 10);
}

/**
 * Destructive commands say what they will do and go ahead only with `--yes` or a "y" typed on
 * the terminal; without a terminal to ask on, the answer is no.
 */
export async function confirmOrRefuse(io: CliIo, what: string, yes: boolean | undefined) {
  if (yes) return;
  const answer = await io.confirm(`${what}. Proceed?`);
  if (answer === true) return;
  throw new CliError(
    answer === undefined
      ? `${what}: refusing without --yes (no terminal to ask on)`
      : `${what}: not confirmed, nothing done`,
  );
}

/** A progress callback that prints `<label> done/total` at most every 200 ms, and at the end. */
export function progress(io: CliIo, label: string) {
  let last = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (done === total || now - last > 200) {
      last = now;
      io.progress(`${label} ${String(done)}/${String(total)}`, total > 0 ? done / total : 1);
    }
  };
}

/** `gs://bucket/prefix` or a local folder; default: the configured audit bucket. */
export function openSource(services: Services, location: string | undefined): ExportSource {
  const where =
    location ?? `gs://${services.config.AUDIT_BUCKET}/${services.config.AUDIT_EXPORT_PREFIX}`;
  const gs = /^gs:\/\/([^/]+)\/?(.*)$/.exec(where);
  if (gs?.[1]) return bucketSource(services.objects, gs[1], gs[2] ?? '');
  return directorySource(where);
}
