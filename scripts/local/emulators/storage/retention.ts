import { forbidden, invalid } from './errors';
import type { BucketRecord, ObjectRecord, ObjectRetention, RetentionPolicy } from './store';

/** The longest bucket retention period production accepts: 100 years, in seconds. */
const MAX_RETENTION_PERIOD_SECONDS = 3_155_760_000;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 timestamp, or throws a 400 naming `field`. */
export function parseTimestamp(value: unknown, field: string): Date {
  if (typeof value !== 'string' || !RFC3339.test(value))
    throw invalid(`Invalid value for ${field}: must be an RFC 3339 timestamp.`);
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw invalid(`Invalid value for ${field}: must be an RFC 3339 timestamp.`);
  return date;
}

/** Parses `retentionPolicy.retentionPeriod`, which the API carries as a decimal string of seconds. */
export function parseRetentionPeriod(value: unknown): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d+$/.test(text))
    throw invalid('Invalid value for retentionPolicy.retentionPeriod.');
  const seconds = Number(text);
  if (seconds <= 0 || seconds > MAX_RETENTION_PERIOD_SECONDS) {
    throw invalid(
      `retentionPolicy.retentionPeriod must be between 1 and ${MAX_RETENTION_PERIOD_SECONDS} seconds.`,
    );
  }
  return seconds;
}

/**
 * Applies a `retentionPolicy` value from a bucket insert or patch. A locked policy may only grow:
 * production refuses to shorten or remove it, which is what makes the lock worth anything.
 */
export function nextRetentionPolicy(
  current: RetentionPolicy | undefined,
  value: unknown,
  now: Date,
): RetentionPolicy | undefined {
  if (value === null) {
    if (current?.isLocked) throw forbidden('Cannot remove a locked retention policy.');
    return undefined;
  }
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid('Invalid value for retentionPolicy.');
  const period = parseRetentionPeriod((value as Record<string, unknown>)['retentionPeriod']);
  if (current?.isLocked) {
    if (period < current.retentionPeriod) {
      throw forbidden(
        `Cannot reduce the retention period of a locked retention policy (currently ${current.retentionPeriod} seconds).`,
      );
    }
    return { ...current, retentionPeriod: period };
  }
  return { retentionPeriod: period, effectiveTime: now.toISOString(), isLocked: false };
}

/** `timeCreated + retentionPeriod`, the `retentionExpirationTime` of an object under a bucket policy. */
export function bucketRetentionExpiry(
  bucket: BucketRecord,
  object: ObjectRecord,
): Date | undefined {
  const policy = bucket.retentionPolicy;
  if (!policy) return undefined;
  return new Date(new Date(object.timeCreated).getTime() + policy.retentionPeriod * 1000);
}

/**
 * Refuses to delete or replace an object that a bucket retention policy or its own retention
 * still protects. The bucket-policy wording is the one production returns (seen verbatim in public
 * client-library issue reports); production's wording for object retention was not found, so that
 * message follows the same pattern.
 */
export function assertNotRetained(bucket: BucketRecord, object: ObjectRecord, now: Date): void {
  const bucketExpiry = bucketRetentionExpiry(bucket, object);
  const objectExpiry = object.retention ? new Date(object.retention.retainUntilTime) : undefined;
  const bucketActive = bucketExpiry !== undefined && bucketExpiry > now;
  const objectActive = objectExpiry !== undefined && objectExpiry > now;
  if (!bucketActive && !objectActive) return;
  const fromObject = objectActive && (!bucketActive || objectExpiry > bucketExpiry);
  const until = fromObject ? objectExpiry : bucketExpiry;
  const subject = fromObject ? 'object retention' : "bucket's retention policy";
  throw forbidden(
    `Object '${object.bucket}/${object.name}' is subject to ${subject} and cannot be deleted, overwritten or archived until ${until?.toISOString() ?? ''}`,
  );
}

/**
 * Validates a `retention` value from an upload's metadata or a PATCH body. `null` means "remove".
 * Returns `undefined` when the field is absent.
 */
export function parseObjectRetention(value: unknown): ObjectRetention | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid('Invalid value for retention.');
  const { mode, retainUntilTime } = value as Record<string, unknown>;
  if (mode !== 'Unlocked' && mode !== 'Locked')
    throw invalid("Invalid value for retention.mode: must be 'Unlocked' or 'Locked'.");
  const until = parseTimestamp(retainUntilTime, 'retention.retainUntilTime');
  return { mode, retainUntilTime: until.toISOString() };
}

/**
 * Decides the retention an object ends up with when a request asks for `requested`.
 *
 * - Object retention exists only in buckets created with `enableObjectRetention=true` (else 400).
 * - `Locked`: the time may only move later; the mode cannot go back to `Unlocked`; it cannot be
 *   removed (403). This is the write-once guarantee callers rely on.
 * - `Unlocked`: tightening is free; shortening, removing, or locking at an earlier time needs
 *   `overrideUnlockedRetention=true` (403 without it).
 */
export function nextObjectRetention(
  bucket: BucketRecord,
  current: ObjectRetention | undefined,
  requested: ObjectRetention | null,
  overrideUnlocked: boolean,
): ObjectRetention | undefined {
  if (!bucket.objectRetentionEnabled) {
    throw invalid(
      `Object retention is not enabled for bucket ${bucket.name}; create it with enableObjectRetention=true.`,
    );
  }
  if (!current) return requested ?? undefined;
  const currentUntil = new Date(current.retainUntilTime).getTime();
  if (current.mode === 'Locked') {
    if (requested === null) throw forbidden('Object retention in Locked mode cannot be removed.');
    if (requested.mode !== 'Locked')
      throw forbidden('Object retention in Locked mode cannot be changed to Unlocked.');
    if (new Date(requested.retainUntilTime).getTime() < currentUntil) {
      throw forbidden(
        `Object retention in Locked mode cannot be shortened; retainUntilTime is ${current.retainUntilTime}.`,
      );
    }
    return requested;
  }
  const loosens =
    requested === null || new Date(requested.retainUntilTime).getTime() < currentUntil;
  if (loosens && !overrideUnlocked) {
    throw forbidden(
      'Shortening or removing Unlocked object retention requires overrideUnlockedRetention=true.',
    );
  }
  return requested ?? undefined;
}
