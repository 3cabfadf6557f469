import {
  bucketNotFound,
  conditionNotMet,
  conflict,
  GcsError,
  invalid,
  notImplemented,
  required,
} from './errors';
import {
  type Preconditions,
  type RequestContext,
  parseJsonObject,
  queryFlag,
  readPreconditions,
  sendEmpty,
  sendJson,
} from './http';
import { bucketResource } from './resources';
import { nextRetentionPolicy } from './retention';
import type { BucketRecord } from './store';

const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

function validateBucketName(name: unknown): string {
  if (typeof name !== 'string' || !BUCKET_NAME.test(name) || name.includes('..')) {
    throw invalid(`Invalid bucket name: '${String(name)}'`);
  }
  return name;
}

/** Looks a bucket up or answers 404, the way every bucket-scoped method starts. */
export function requireBucket(ctx: RequestContext, name: string): BucketRecord {
  const bucket = ctx.store.getBucket(name);
  if (!bucket) throw bucketNotFound();
  return bucket;
}

/**
 * Bucket metageneration preconditions. A failed `ifMetagenerationNotMatch` on a read is "not
 * modified" (304), on a write it is a failed precondition (412), as in production.
 */
function checkBucketPreconditions(
  bucket: BucketRecord,
  preconditions: Preconditions,
  read: boolean,
): void {
  const metageneration = String(bucket.metageneration);
  if (
    preconditions.ifMetagenerationMatch !== undefined &&
    preconditions.ifMetagenerationMatch !== metageneration
  ) {
    throw conditionNotMet();
  }
  if (preconditions.ifMetagenerationNotMatch === metageneration) {
    throw read ? new GcsError(304, 'notModified', 'Not Modified') : conditionNotMet();
  }
}

function parseLabels(value: unknown, current: Record<string, string>): Record<string, string> {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('Invalid value for labels.');
  const labels = new Map(Object.entries(current));
  for (const [key, label] of Object.entries(value as Record<string, unknown>)) {
    if (label === null) labels.delete(key);
    else if (typeof label === 'string') labels.set(key, label);
    else throw invalid(`Invalid value for labels.${key}.`);
  }
  return Object.fromEntries(labels);
}

/** Fields whose meaning this emulator does not enforce; accepting them silently would mislead. */
function rejectUnsupportedBucketFields(body: Record<string, unknown>): void {
  const versioning = body['versioning'] as { enabled?: unknown } | null | undefined;
  if (versioning?.enabled === true) throw notImplemented('object versioning');
  if (body['defaultEventBasedHold'] === true) throw notImplemented('default event-based holds');
  if (body['encryption'] !== undefined && body['encryption'] !== null)
    throw notImplemented('bucket default KMS keys');
}

/** `POST /storage/v1/b?project=P` */
export async function insertBucket(ctx: RequestContext): Promise<void> {
  const project = ctx.query.get('project');
  if (!project) throw required('Required parameter: project');
  const body = parseJsonObject(await ctx.body());
  const name = validateBucketName(body['name']);
  rejectUnsupportedBucketFields(body);
  if (ctx.store.getBucket(name)) {
    throw conflict(
      'Your previous request to create the named bucket succeeded and you already own it.',
    );
  }
  const now = new Date();
  const record: BucketRecord = {
    name,
    project,
    timeCreated: now.toISOString(),
    updated: now.toISOString(),
    metageneration: 1,
    location: typeof body['location'] === 'string' ? body['location'].toUpperCase() : 'US',
    storageClass: typeof body['storageClass'] === 'string' ? body['storageClass'] : 'STANDARD',
    labels: body['labels'] === undefined ? {} : parseLabels(body['labels'], {}),
    objectRetentionEnabled: queryFlag(ctx.query, 'enableObjectRetention'),
  };
  if (body['retentionPolicy'] !== undefined && body['retentionPolicy'] !== null) {
    record.retentionPolicy = nextRetentionPolicy(undefined, body['retentionPolicy'], now);
  }
  ctx.store.putBucket(record);
  sendJson(ctx.res, 200, bucketResource(record, ctx.baseUrl));
}

/** `GET /storage/v1/b?project=P` with `prefix`, `maxResults`, `pageToken`. */
export function listBuckets(ctx: RequestContext): void {
  const project = ctx.query.get('project');
  if (!project) throw required('Required parameter: project');
  const prefix = ctx.query.get('prefix') ?? '';
  const maxResults = parseMaxResults(ctx.query.get('maxResults'));
  const after = decodePageToken(ctx.query.get('pageToken'));
  const matching = ctx.store
    .listBuckets(project)
    .filter((b) => b.name.startsWith(prefix) && (after === undefined || b.name > after));
  const page = matching.slice(0, maxResults);
  const last = page.at(-1);
  sendJson(ctx.res, 200, {
    kind: 'storage#buckets',
    items: page.map((b) => bucketResource(b, ctx.baseUrl)),
    ...(matching.length > page.length && last ? { nextPageToken: encodePageToken(last.name) } : {}),
  });
}

/** `GET /storage/v1/b/B` */
export function getBucket(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  checkBucketPreconditions(bucket, readPreconditions(ctx.query), true);
  sendJson(ctx.res, 200, bucketResource(bucket, ctx.baseUrl));
}

/** `PATCH /storage/v1/b/B`: labels and the retention policy. */
export async function patchBucket(ctx: RequestContext, name: string): Promise<void> {
  const body = parseJsonObject(await ctx.body());
  const bucket = requireBucket(ctx, name);
  checkBucketPreconditions(bucket, readPreconditions(ctx.query), false);
  rejectUnsupportedBucketFields(body);
  const objectRetention = body['objectRetention'] as { mode?: unknown } | null | undefined;
  if (objectRetention?.mode === 'Enabled' && !bucket.objectRetentionEnabled) {
    throw invalid(
      'Object retention can only be enabled when the bucket is created (enableObjectRetention=true).',
    );
  }
  const now = new Date();
  const next: BucketRecord = {
    ...bucket,
    metageneration: bucket.metageneration + 1,
    updated: now.toISOString(),
  };
  if ('retentionPolicy' in body) {
    const policy = nextRetentionPolicy(bucket.retentionPolicy, body['retentionPolicy'], now);
    if (policy) next.retentionPolicy = policy;
    else delete next.retentionPolicy;
  }
  if ('labels' in body) next.labels = parseLabels(body['labels'], bucket.labels);
  if (typeof body['storageClass'] === 'string') next.storageClass = body['storageClass'];
  ctx.store.putBucket(next);
  sendJson(ctx.res, 200, bucketResource(next, ctx.baseUrl));
}

/** `DELETE /storage/v1/b/B`: only an empty bucket, as in production. */
export function deleteBucket(
  ctx: RequestContext,
  name: string,
  dropUploads: (bucket: string) => void,
): void {
  const bucket = requireBucket(ctx, name);
  checkBucketPreconditions(bucket, readPreconditions(ctx.query), false);
  if (ctx.store.objectCount(name) > 0)
    throw conflict('The bucket you tried to delete is not empty.');
  ctx.store.deleteBucket(name);
  dropUploads(name);
  sendEmpty(ctx.res, 204);
}

/** `POST /storage/v1/b/B/lockRetentionPolicy?ifMetagenerationMatch=M`: irreversible. */
export function lockRetentionPolicy(ctx: RequestContext, name: string): void {
  const bucket = requireBucket(ctx, name);
  const preconditions = readPreconditions(ctx.query);
  if (preconditions.ifMetagenerationMatch === undefined)
    throw required('Required parameter: ifMetagenerationMatch');
  checkBucketPreconditions(bucket, preconditions, false);
  if (!bucket.retentionPolicy) throw invalid(`Bucket ${name} has no retention policy to lock.`);
  if (bucket.retentionPolicy.isLocked) {
    sendJson(ctx.res, 200, bucketResource(bucket, ctx.baseUrl));
    return;
  }
  const now = new Date();
  const next: BucketRecord = {
    ...bucket,
    metageneration: bucket.metageneration + 1,
    updated: now.toISOString(),
    retentionPolicy: { ...bucket.retentionPolicy, isLocked: true },
  };
  ctx.store.putBucket(next);
  sendJson(ctx.res, 200, bucketResource(next, ctx.baseUrl));
}

/** `maxResults`: production caps it at 1000 and rejects non-positive values. */
export function parseMaxResults(value: string | null): number {
  if (value === null) return 1000;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw invalid(`Invalid value for maxResults: ${value}`);
  return Math.min(Number(value), 1000);
}

/** Page tokens are opaque to clients; base64url JSON keeps them opaque without server-side state. */
export function encodePageToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodePageToken(token: string | null): string | undefined {
  if (token === null || token === '') return undefined;
  const value = decodeToken(token);
  if (typeof value !== 'string') throw invalid('Invalid value for pageToken.');
  return value;
}

/** Decodes any page token this emulator issued, or throws 400. */
export function decodeToken(token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('Invalid value for pageToken.');
  }
}
