/**
 * What every command module shares: its typed failure, the services lifecycle, id checks,
 * progress reporting, and where the audit commands read the export and its keys from.
 */
import { readFileSync } from 'node:fs';
import { directorySource, type ExportSource } from '../evidence/export-source';
import type { PublicKeyResolver } from '../evidence/verify-export';
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

/** A progress callback that prints `<label> done/total` at most every 200 ms, and at the end. */
export function progress(io: CliIo, label: string) {
  let last = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (done === total || now - last > 200) {
      last = now;
      io.progress(`${label} ${String(done)}/${String(total)}`);
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

/** Only the platform's sealing key verifies seals; a pinned PEM file overrides KMS. */
export function keyResolver(services: Services, pinnedFile: string | undefined): PublicKeyResolver {
  const pinned = pinnedFile ? readFileSync(pinnedFile, 'utf8') : undefined;
  const sealingKey = services.config.SEALING_KEY_VERSION.replace(/\/cryptoKeyVersions\/\d+$/, '/');
  return async (keyVersion: string) => {
    if (pinned) return pinned;
    return keyVersion.startsWith(sealingKey)
      ? services.keyManager.getPublicKeyPem(keyVersion)
      : undefined;
  };
}
