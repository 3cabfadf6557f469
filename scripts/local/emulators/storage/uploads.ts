import { randomUUID } from 'node:crypto';
import { GcsError, invalid, notImplemented, parseError, required } from './errors';
import {
  type Preconditions,
  type RequestContext,
  parseJsonObject,
  readPreconditions,
  sendEmpty,
  sendJson,
} from './http';
import { multipartBoundary, parseMultipart } from './multipart';
import { commitUpload, precheckUpload, type UploadRequest } from './objects';

/** Production answers an incomplete resumable upload with 308 "Resume Incomplete". */
const RESUME_INCOMPLETE = 308;

/**
 * How long a resumable session (open or finished) is kept. Production keeps them for a week;
 * a local emulator only needs to outlive one client's retries.
 */
const SESSION_TTL_MS = 24 * 60 * 60 * 1000;

interface UploadSession {
  id: string;
  bucket: string;
  name: string;
  metadata: Record<string, unknown>;
  preconditions: Preconditions;
  contentType: string | undefined;
  /** `X-Upload-Content-Length` from the initiation, when the client declared one. */
  declaredLength: number | undefined;
  chunks: Buffer[];
  received: number;
  createdAt: number;
  /** The object resource once the upload committed; a repeated final PUT gets it again. */
  result?: Record<string, unknown>;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Resumable sessions live in memory only: a restarted emulator answers 404 for an old session
 * URI, and the client then starts a new upload, which is also what production does for an
 * expired session.
 */
export class UploadSessions {
  private readonly sessions = new Map<string, UploadSession>();

  /** Forgets the sessions of a deleted bucket. */
  dropBucket(bucket: string): void {
    for (const [id, session] of this.sessions)
      if (session.bucket === bucket) this.sessions.delete(id);
  }

  /** `POST /upload/storage/v1/b/B/o?uploadType=multipart|media|resumable` */
  async start(ctx: RequestContext, bucket: string): Promise<void> {
    const uploadType = ctx.query.get('uploadType');
    if (uploadType === 'multipart') await this.multipart(ctx, bucket);
    else if (uploadType === 'media') await this.media(ctx, bucket);
    else if (uploadType === 'resumable') await this.initiate(ctx, bucket);
    else if (uploadType === null) throw required('Required parameter: uploadType');
    else throw notImplemented(`uploadType=${uploadType}`);
  }

  private async multipart(ctx: RequestContext, bucket: string): Promise<void> {
    const boundary = multipartBoundary(ctx.req.headers['content-type']);
    const parts = parseMultipart(await ctx.body(), boundary);
    const [metadataPart, mediaPart] = parts;
    if (parts.length !== 2 || !metadataPart || !mediaPart)
      throw parseError('A multipart upload needs exactly two parts: metadata and media.');
    const metadata = parseJsonObject(metadataPart.body);
    const upload: UploadRequest = {
      bucket,
      name: ctx.query.get('name') ?? (typeof metadata['name'] === 'string' ? metadata['name'] : ''),
      metadata,
      transportContentType: mediaPart.headers['content-type'],
      preconditions: readPreconditions(ctx.query),
      googHash: ctx.req.headers['x-goog-hash'],
    };
    sendJson(ctx.res, 200, commitUpload(ctx, upload, mediaPart.body));
  }

  private async media(ctx: RequestContext, bucket: string): Promise<void> {
    const name = ctx.query.get('name');
    if (name === null) throw required('Required parameter: name');
    const upload: UploadRequest = {
      bucket,
      name,
      metadata: {},
      transportContentType: ctx.req.headers['content-type'],
      preconditions: readPreconditions(ctx.query),
      googHash: ctx.req.headers['x-goog-hash'],
    };
    sendJson(ctx.res, 200, commitUpload(ctx, upload, await ctx.body()));
  }

  private async initiate(ctx: RequestContext, bucket: string): Promise<void> {
    const metadata = parseJsonObject(await ctx.body());
    const name =
      ctx.query.get('name') ?? (typeof metadata['name'] === 'string' ? metadata['name'] : '');
    const declared = headerValue(ctx.req.headers['x-upload-content-length']);
    if (declared !== undefined && !/^\d+$/.test(declared))
      throw invalid('Invalid X-Upload-Content-Length header.');
    const session: UploadSession = {
      id: randomUUID(),
      bucket,
      name,
      metadata,
      preconditions: readPreconditions(ctx.query),
      contentType: headerValue(ctx.req.headers['x-upload-content-type']),
      declaredLength: declared === undefined ? undefined : Number(declared),
      chunks: [],
      received: 0,
      createdAt: Date.now(),
    };
    precheckUpload(ctx, {
      bucket,
      name,
      metadata,
      transportContentType: session.contentType,
      preconditions: session.preconditions,
    });
    this.prune();
    this.sessions.set(session.id, session);
    const location = `${ctx.baseUrl}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${session.id}`;
    sendEmpty(ctx.res, 200, { Location: location, 'X-GUploader-UploadID': session.id });
  }

  /** `PUT` to a session URI: a chunk, the final bytes, or a status query (`bytes *\/total`). */
  async put(ctx: RequestContext, bucket: string): Promise<void> {
    const session = this.requireSession(ctx, bucket);
    const body = await ctx.body();
    if (session.result) {
      sendJson(ctx.res, 200, session.result);
      return;
    }
    const range = parseContentRange(headerValue(ctx.req.headers['content-range']), body.length);
    if (range.first !== undefined) {
      if (range.first > session.received) {
        throw invalid(
          `Content-Range starts at byte ${range.first} but only ${session.received} byte(s) were received so far.`,
        );
      }
      // Bytes the server already has may be resent after a lost reply; keep only the new ones.
      const fresh = body.subarray(session.received - range.first);
      if (fresh.length > 0) {
        session.chunks.push(Buffer.from(fresh));
        session.received += fresh.length;
      }
    }
    const total = range.total ?? (range.untilEnd ? session.received : undefined);
    if (total !== undefined && session.received > total) {
      this.sessions.delete(session.id);
      throw invalid(
        `Received ${session.received} bytes, more than the declared object size of ${total}.`,
      );
    }
    if (total === undefined || session.received < total) {
      const headers: Record<string, string> =
        session.received > 0 ? { Range: `bytes=0-${session.received - 1}` } : {};
      sendEmpty(ctx.res, RESUME_INCOMPLETE, headers);
      return;
    }
    this.finish(ctx, session);
  }

  private finish(ctx: RequestContext, session: UploadSession): void {
    const bytes = Buffer.concat(session.chunks, session.received);
    try {
      if (session.declaredLength !== undefined && session.declaredLength !== bytes.length) {
        throw invalid(
          `X-Upload-Content-Length was ${session.declaredLength} but ${bytes.length} bytes were uploaded.`,
        );
      }
      const upload: UploadRequest = {
        bucket: session.bucket,
        name: session.name,
        metadata: session.metadata,
        transportContentType: session.contentType,
        preconditions: session.preconditions,
        googHash: ctx.req.headers['x-goog-hash'],
      };
      session.result = commitUpload(ctx, upload, bytes);
      session.chunks = [];
    } catch (error) {
      // A session whose final commit was refused cannot succeed later; production ends it too.
      this.sessions.delete(session.id);
      throw error;
    }
    sendJson(ctx.res, 200, session.result);
  }

  /** `DELETE` on a session URI cancels it; production answers 499. */
  cancel(ctx: RequestContext, bucket: string): void {
    const session = this.requireSession(ctx, bucket);
    this.sessions.delete(session.id);
    sendEmpty(ctx.res, 499);
  }

  private requireSession(ctx: RequestContext, bucket: string): UploadSession {
    const id = ctx.query.get('upload_id');
    if (id === null) throw required('Required parameter: upload_id');
    const session = this.sessions.get(id);
    if (!session || session.bucket !== bucket)
      throw new GcsError(404, 'notFound', 'No such upload session.');
    return session;
  }

  private prune(): void {
    const cutoff = Date.now() - SESSION_TTL_MS;
    for (const [id, session] of this.sessions)
      if (session.createdAt < cutoff) this.sessions.delete(id);
  }
}

interface ContentRange {
  /** First byte this request carries; undefined for a status query (`bytes *\/...`). */
  first: number | undefined;
  /** Total object size, when the client knows it. */
  total: number | undefined;
  /** `bytes N-*\/*`: this request streams the rest of the object, so its end is the end. */
  untilEnd: boolean;
}

/**
 * Parses the `Content-Range` of a resumable PUT: `bytes a-b/total`, `bytes a-b/*`,
 * `bytes a-*\/total|*` (single streaming request) or `bytes *\/total|*` (status query).
 * No header means the body is the whole object.
 */
function parseContentRange(header: string | undefined, bodyLength: number): ContentRange {
  if (header === undefined) return { first: 0, total: undefined, untilEnd: true };
  const match = /^bytes (?:(\*)|(\d+)-(-?\d+|\*))\/(\d+|\*)$/.exec(header.trim());
  if (!match) throw invalid(`Invalid Content-Range header: ${header}`);
  const [, star, firstText, lastText, totalText] = match;
  const total = totalText === '*' || totalText === undefined ? undefined : Number(totalText);
  if (star) {
    if (bodyLength > 0) throw invalid('A Content-Range of bytes */N must come with an empty body.');
    return { first: undefined, total, untilEnd: false };
  }
  const first = Number(firstText);
  // An empty chunked upload arrives as `bytes 0--1/0`, so `last` may precede `first` by one.
  if (lastText !== '*' && Math.max(0, Number(lastText) - first + 1) !== bodyLength) {
    throw invalid(`Content-Range ${header} does not match a body of ${bodyLength} bytes.`);
  }
  return { first, total, untilEnd: lastText === '*' };
}
