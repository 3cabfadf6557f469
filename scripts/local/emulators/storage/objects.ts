import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { crc32cBase64 } from '../../../../functions/src/util/crc32c';
import { decodeToken, encodePageToken, parseMaxResults, requireBucket } from './buckets';
import { conditionNotMet, GcsError, invalid, notImplemented, objectNotFound } from './errors';
import {
  type Preconditions,
  type RequestContext,
  parseJsonObject,
  queryFlag,
  readPreconditions,
  sendEmpty,
  sendJson,
} from './http';
import { objectResource } from './resources';
import {
  assertNotRetained,
  nextObjectRetention,
  parseObjectRetention,
  parseTimestamp,
} from './retention';
import type { BucketRecord, ObjectRecord } from './store';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** Metadata fields a caller may set that are plain strings. */
const STRING_FIELDS = [
  'contentType',
  'contentEncoding',
  'contentDisposition',
  'contentLanguage',
  'cacheControl',
] as const;

/** Object names: 1-1024 bytes of UTF-8 without CR/LF, and not `.` or `..` (production's rules). */
export function validateObjectName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw invalid('Object name is required.');
  if (
    Buffer.byteLength(name, 'utf8') > 1024 ||
    /[\r\n]/.test(name) ||
    name === '.' ||
    name === '..'
  ) {
    throw invalid(`Invalid object name: '${name}'`);
  }
  return name;
}

/**
 * Checks `if*Match` parameters against the live object (`undefined` when absent).
 * `ifGenerationMatch=0` means "only if no live object exists". On reads a failed `*NotMatch` is
 * 304 Not Modified; everywhere else a failed condition is 412.
 */
export function checkObjectPreconditions(
  preconditions: Preconditions,
  existing: ObjectRecord | undefined,
  read = false,
): void {
  const generation = existing?.generation ?? '0';
  const metageneration = existing ? String(existing.metageneration) : undefined;
  const {
    ifGenerationMatch,
    ifGenerationNotMatch,
    ifMetagenerationMatch,
    ifMetagenerationNotMatch,
  } = preconditions;
  if (ifGenerationMatch !== undefined && ifGenerationMatch !== generation) throw conditionNotMet();
  if (ifMetagenerationMatch !== undefined && ifMetagenerationMatch !== metageneration)
    throw conditionNotMet();
  const notModified =
    (ifGenerationNotMatch !== undefined && ifGenerationNotMatch === generation) ||
    (ifMetagenerationNotMatch !== undefined && ifMetagenerationNotMatch === metageneration);
  if (notModified)
    throw read ? new GcsError(304, 'notModified', 'Not Modified') : conditionNotMet();
}

/** The live object, or 404. A `generation` parameter naming any other generation is also 404. */
function requireObject(ctx: RequestContext, bucket: BucketRecord, name: string): ObjectRecord {
  const object = ctx.store.getObject(bucket.name, name);
  const generation = ctx.query.get('generation');
  if (!object || (generation !== null && generation !== object.generation))
    throw objectNotFound(bucket.name, name);
  return object;
}

function parseCustomMetadata(
  value: unknown,
  current: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid('Invalid value for metadata.');
  const merged = new Map(Object.entries(current ?? {}));
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
    if (entry === null) merged.delete(key);
    else if (typeof entry === 'string' || typeof entry === 'number' || typeof entry === 'boolean')
      merged.set(key, String(entry));
    else throw invalid(`Invalid value for metadata.${key}.`);
  }
  return merged.size > 0 ? Object.fromEntries(merged) : undefined;
}

/**
 * Fields that change what may happen to an object (holds, customer keys) or that this emulator
 * does not store. Ignoring them would let a caller believe an object is protected when it is not.
 */
function rejectUnsupportedObjectFields(fields: Record<string, unknown>): void {
  if (fields['temporaryHold'] === true) throw notImplemented('temporary holds');
  if (fields['eventBasedHold'] === true) throw notImplemented('event-based holds');
  if (typeof fields['kmsKeyName'] === 'string')
    throw notImplemented('customer-managed encryption keys');
  if (fields['customerEncryption'] !== undefined)
    throw notImplemented('customer-supplied encryption keys');
  if (fields['contexts'] !== undefined && fields['contexts'] !== null)
    throw notImplemented('object contexts');
}

/**
 * Applies caller-writable metadata (`contentType`, `metadata`, ...; not retention) onto `target`.
 * `metadata` merges key by key and a `null` value removes a key, as PATCH does in production.
 */
function applyWritableFields(target: ObjectRecord, fields: Record<string, unknown>): void {
  rejectUnsupportedObjectFields(fields);
  for (const field of STRING_FIELDS) {
    if (!(field in fields)) continue;
    const value = fields[field];
    if (value === null) {
      if (field === 'contentType') target.contentType = DEFAULT_CONTENT_TYPE;
      else target[field] = undefined;
    } else if (typeof value === 'string') {
      target[field] = value;
    } else {
      throw invalid(`Invalid value for ${field}.`);
    }
  }
  if ('customTime' in fields) {
    const value = fields['customTime'];
    if (value === null) delete target.customTime;
    else target.customTime = parseTimestamp(value, 'customTime').toISOString();
  }
  if ('metadata' in fields) {
    const metadata = parseCustomMetadata(fields['metadata'], target.metadata);
    if (metadata) target.metadata = metadata;
    else delete target.metadata;
  }
}

/** Parses an `X-Goog-Hash` header (`crc32c=...,md5=...`). */
function parseGoogHash(header: string | string[] | undefined): { crc32c?: string; md5?: string } {
  const result: { crc32c?: string; md5?: string } = {};
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  for (const pair of values.flatMap((value) => value.split(','))) {
    const separator = pair.indexOf('=');
    if (separator < 0) continue;
    const kind = pair.slice(0, separator).trim().toLowerCase();
    const value = pair.slice(separator + 1).trim();
    if (kind === 'crc32c') result.crc32c = value;
    else if (kind === 'md5') result.md5 = value;
  }
  return result;
}

/** Everything an upload of any type has gathered by the time its bytes are complete. */
export interface UploadRequest {
  bucket: string;
  name: string;
  /** The JSON metadata the client sent (multipart part, resumable initiation body, or `{}`). */
  metadata: Record<string, unknown>;
  /** Content type from the transport (media part, request header, `X-Upload-Content-Type`). */
  transportContentType: string | undefined;
  preconditions: Preconditions;
  /** The `X-Goog-Hash` header of the request that delivered the last bytes. */
  googHash: string | string[] | undefined;
}

/**
 * Checks an upload before any bytes are accepted, so a resumable session that can never commit
 * fails at initiation (production also checks preconditions then) rather than after the transfer.
 */
export function precheckUpload(ctx: RequestContext, upload: Omit<UploadRequest, 'googHash'>): void {
  const bucket = requireBucket(ctx, upload.bucket);
  validateObjectName(upload.name);
  rejectUnsupportedObjectFields(upload.metadata);
  const retention = parseObjectRetention(upload.metadata['retention']);
  if (retention) nextObjectRetention(bucket, undefined, retention, false);
  const existing = ctx.store.getObject(upload.bucket, upload.name);
  checkObjectPreconditions(upload.preconditions, existing);
  if (existing) assertNotRetained(bucket, existing, new Date());
}

/**
 * Commits uploaded bytes as a new generation: integrity, preconditions and retention are checked
 * synchronously right before the write so no other request can slip in between.
 */
export function commitUpload(
  ctx: RequestContext,
  upload: UploadRequest,
  bytes: Buffer,
): Record<string, unknown> {
  const bucket = requireBucket(ctx, upload.bucket);
  const name = validateObjectName(upload.name);
  const crc32c = crc32cBase64(bytes);
  const md5Hash = createHash('md5').update(bytes).digest('base64');
  const claimed = parseGoogHash(upload.googHash);
  const claimedCrc32c =
    typeof upload.metadata['crc32c'] === 'string' ? upload.metadata['crc32c'] : claimed.crc32c;
  const claimedMd5 =
    typeof upload.metadata['md5Hash'] === 'string' ? upload.metadata['md5Hash'] : claimed.md5;
  if (claimedCrc32c !== undefined && claimedCrc32c !== crc32c) {
    throw invalid(
      `Provided CRC32C "${claimedCrc32c}" doesn't match calculated CRC32C "${crc32c}".`,
    );
  }
  if (claimedMd5 !== undefined && claimedMd5 !== md5Hash) {
    throw invalid(
      `Provided MD5 hash "${claimedMd5}" doesn't match calculated MD5 hash "${md5Hash}".`,
    );
  }
  const now = new Date();
  const existing = ctx.store.getObject(bucket.name, name);
  checkObjectPreconditions(upload.preconditions, existing);
  if (existing) assertNotRetained(bucket, existing, now);
  const record: ObjectRecord = {
    bucket: bucket.name,
    name,
    generation: ctx.store.nextGeneration(),
    metageneration: 1,
    size: bytes.length,
    contentType: upload.transportContentType ?? DEFAULT_CONTENT_TYPE,
    md5Hash,
    crc32c,
    timeCreated: now.toISOString(),
    updated: now.toISOString(),
  };
  applyWritableFields(record, upload.metadata);
  const retention = parseObjectRetention(upload.metadata['retention']);
  if (retention) {
    const applied = nextObjectRetention(bucket, undefined, retention, false);
    if (applied) record.retention = applied;
  }
  ctx.store.putObject(record, bytes);
  return objectResource(record, bucket, ctx.baseUrl);
}

/** `GET /storage/v1/b/B/o/N` (metadata) and `?alt=media` (bytes, honouring `Range`). */
export function getObject(ctx: RequestContext, bucketName: string, name: string): void {
  const bucket = requireBucket(ctx, bucketName);
  const object = requireObject(ctx, bucket, name);
  checkObjectPreconditions(readPreconditions(ctx.query), object, true);
  const alt = ctx.query.get('alt') ?? 'json';
  if (alt === 'json') {
    sendJson(ctx.res, 200, objectResource(object, bucket, ctx.baseUrl));
    return;
  }
  if (alt !== 'media') throw invalid(`Invalid value for alt: ${alt}`);
  sendMedia(ctx, object);
}

function sendMedia(ctx: RequestContext, object: ObjectRecord): void {
  let bytes = ctx.store.readObjectBytes(object);
  const headers: Record<string, string> = {
    'Content-Type': object.contentType,
    'X-Goog-Generation': object.generation,
    'X-Goog-Metageneration': String(object.metageneration),
    'X-Goog-Hash': `crc32c=${object.crc32c},md5=${object.md5Hash}`,
    'X-Goog-Stored-Content-Length': String(object.size),
    'X-Goog-Stored-Content-Encoding': object.contentEncoding ?? 'identity',
    'Last-Modified': new Date(object.updated).toUTCString(),
    ETag: `"${object.md5Hash}"`,
    'Accept-Ranges': 'bytes',
  };
  if (object.contentDisposition) headers['Content-Disposition'] = object.contentDisposition;
  if (object.cacheControl) headers['Cache-Control'] = object.cacheControl;
  const acceptsGzip = /\bgzip\b/.test(ctx.req.headers['accept-encoding'] ?? '');
  if (object.contentEncoding === 'gzip') {
    if (acceptsGzip) {
      headers['Content-Encoding'] = 'gzip';
    } else {
      // Decompressive transcoding, as production does for clients that cannot take gzip. The
      // stored hashes then describe other bytes, so they are withheld; Range is ignored.
      bytes = gunzipSync(bytes);
      delete headers['X-Goog-Hash'];
      headers['Warning'] = '214 UploadServer gunzipped';
      headers['Content-Length'] = String(bytes.length);
      ctx.res.writeHead(200, headers);
      ctx.res.end(bytes);
      return;
    }
  }
  const range = parseRange(ctx.req.headers.range, bytes.length);
  if (range === 'unsatisfiable') {
    const error = new GcsError(
      416,
      'requestedRangeNotSatisfiable',
      'The requested range cannot be satisfied.',
    );
    sendJson(ctx.res, 416, error.toJSON(), { 'Content-Range': `bytes */${bytes.length}` });
    return;
  }
  if (range) {
    const slice = bytes.subarray(range.start, range.end + 1);
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${bytes.length}`;
    headers['Content-Length'] = String(slice.length);
    ctx.res.writeHead(206, headers);
    ctx.res.end(slice);
    return;
  }
  headers['Content-Length'] = String(bytes.length);
  ctx.res.writeHead(200, headers);
  ctx.res.end(bytes);
}

/**
 * Parses a single-range `Range: bytes=a-b | a- | -n` header. Returns `undefined` to serve the
 * whole object (no header, or a form this emulator does not serve, which HTTP allows ignoring).
 */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return undefined;
  return { start, end };
}

/** `DELETE /storage/v1/b/B/o/N`: refused while any retention still protects the object. */
export function deleteObject(ctx: RequestContext, bucketName: string, name: string): void {
  const bucket = requireBucket(ctx, bucketName);
  const object = requireObject(ctx, bucket, name);
  checkObjectPreconditions(readPreconditions(ctx.query), object);
  assertNotRetained(bucket, object, new Date());
  ctx.store.deleteObject(object);
  sendEmpty(ctx.res, 204);
}

/** `PATCH /storage/v1/b/B/o/N`: custom metadata, content headers and object retention. */
export async function patchObject(
  ctx: RequestContext,
  bucketName: string,
  name: string,
): Promise<void> {
  const fields = parseJsonObject(await ctx.body());
  const bucket = requireBucket(ctx, bucketName);
  const object = requireObject(ctx, bucket, name);
  checkObjectPreconditions(readPreconditions(ctx.query), object);
  const next: ObjectRecord = {
    ...object,
    metageneration: object.metageneration + 1,
    updated: new Date().toISOString(),
  };
  applyWritableFields(next, fields);
  const requested = parseObjectRetention(fields['retention']);
  if (requested !== undefined) {
    const retention = nextObjectRetention(
      bucket,
      object.retention,
      requested,
      queryFlag(ctx.query, 'overrideUnlockedRetention'),
    );
    if (retention) next.retention = retention;
    else delete next.retention;
  }
  ctx.store.updateObjectMetadata(next);
  sendJson(ctx.res, 200, objectResource(next, bucket, ctx.baseUrl));
}

interface ListCursor {
  /** Resume strictly after this object name... */
  after: string;
  /** ...and, when it is a prefix, after every name that starts with it. */
  prefix: boolean;
}

function parseListCursor(token: string | null): ListCursor | undefined {
  if (token === null || token === '') return undefined;
  const value = decodeToken(token) as Partial<ListCursor> | null;
  if (typeof value?.after !== 'string' || typeof value.prefix !== 'boolean')
    throw invalid('Invalid value for pageToken.');
  return { after: value.after, prefix: value.prefix };
}

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * `GET /storage/v1/b/B/o` with `prefix`, `delimiter`, `startOffset`, `endOffset`, `maxResults`,
 * `pageToken`. Items and prefixes both count towards `maxResults`, as in production.
 */
export function listObjects(ctx: RequestContext, bucketName: string): void {
  const bucket = requireBucket(ctx, bucketName);
  if (queryFlag(ctx.query, 'versions')) throw notImplemented('listing noncurrent object versions');
  if (ctx.query.get('matchGlob') !== null) throw notImplemented('matchGlob');
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const startOffset = ctx.query.get('startOffset');
  const endOffset = ctx.query.get('endOffset');
  const maxResults = parseMaxResults(ctx.query.get('maxResults'));
  const cursor = parseListCursor(ctx.query.get('pageToken'));

  const items: ObjectRecord[] = [];
  const prefixes: string[] = [];
  let last: ListCursor | undefined;
  let truncated = false;
  for (const object of ctx.store.sortedObjects(bucket.name)) {
    const objectName = object.name;
    if (!objectName.startsWith(prefix)) continue;
    if (startOffset !== null && utf8Compare(objectName, startOffset) < 0) continue;
    if (endOffset !== null && utf8Compare(objectName, endOffset) >= 0) continue;
    if (cursor) {
      if (utf8Compare(objectName, cursor.after) <= 0) continue;
      if (cursor.prefix && objectName.startsWith(cursor.after)) continue;
    }
    if (last?.prefix && objectName.startsWith(last.after)) continue;
    const delimiterAt = delimiter === '' ? -1 : objectName.indexOf(delimiter, prefix.length);
    if (items.length + prefixes.length === maxResults) {
      truncated = true;
      break;
    }
    if (delimiterAt >= 0) {
      const rolledUp = objectName.slice(0, delimiterAt + delimiter.length);
      prefixes.push(rolledUp);
      last = { after: rolledUp, prefix: true };
    } else {
      items.push(object);
      last = { after: objectName, prefix: false };
    }
  }
  const response: Record<string, unknown> = { kind: 'storage#objects' };
  if (items.length > 0)
    response['items'] = items.map((object) => objectResource(object, bucket, ctx.baseUrl));
  if (prefixes.length > 0) response['prefixes'] = prefixes;
  if (truncated && last) response['nextPageToken'] = encodePageToken(last);
  sendJson(ctx.res, 200, response);
}
