/**
 * `/v1/extractions`: submit (JSON or multipart/form-data, with `Idempotency-Key`), list with
 * an opaque signed cursor, and read one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { badRequest, notFound, payloadTooLarge, unsupportedMediaType } from '../errors';
import { sniffContentType } from '../extraction/documents';
import { parseIdempotencyKey } from '../extraction/idempotency';
import {
  CreateExtractionBody,
  EXTRACTION_STATUSES,
  fromJsonBody,
  MultipartFields,
  submitExtraction,
  toExtractionView,
  type SubmissionRequest,
} from '../extraction/submit';
import { readableExtraction } from '../extraction/results';
import type { Services } from '../services';
import { requireScope } from '../tenancy/api-keys';
import { isoToTimestamp, isValidId } from '../tenancy/firestore';
import { authenticate } from './auth';
import type { Router } from './router';

export const ListExtractionsQuery = z.strictObject({
  status: z.enum(EXTRACTION_STATUSES).optional(),
  createdAfter: z.iso.datetime({ offset: false }).optional(),
  pageToken: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type ListExtractionsQuery = z.infer<typeof ListExtractionsQuery>;

/** Base64 and JSON envelopes grow a document; past this the request cannot be within limits. */
function maxBodyBytes(services: Services): number {
  return Math.ceil((services.config.MAX_DOCUMENT_BYTES * 4) / 3) + 64 * 1024;
}

function rawBody(req: { rawBody?: Buffer; body?: unknown }): Buffer {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  if (Buffer.isBuffer(req.body)) return req.body;
  return Buffer.alloc(0);
}

function fromMultipart(
  body: Buffer,
  contentType: string,
): Omit<SubmissionRequest, 'idempotencyKey'> {
  const parts = parseMultipart(body, contentType);
  const files = parts.filter((p) => p.name === 'file');
  if (files.length !== 1 || files[0] === undefined) {
    throw badRequest('invalid_request', 'send exactly one `file` part');
  }
  const file = files[0];
  const fields: Record<string, string> = {};
  for (const part of parts) {
    if (part.name === 'file') continue;
    if (Object.hasOwn(fields, part.name) || part.filename !== undefined) {
      throw badRequest(
        'invalid_request',
        'form fields are schema, webhookUrl and metadata, once each',
      );
    }
    fields[part.name] = part.data.toString('utf8');
  }
  const parsed = MultipartFields.parse(fields);
  const declared = file.contentType?.split(';')[0]?.trim().toLowerCase();
  // Browsers send application/octet-stream for files they cannot type: read the bytes instead.
  const type =
    declared === undefined || declared === '' || declared === 'application/octet-stream'
      ? sniffContentType(file.data)
      : declared;
  if (type === 'unknown') throw unsupportedMediaType('the file part needs a Content-Type');
  return {
    contentType: type,
    bytes: file.data,
    schema: parsed.schema,
    webhookUrl: parsed.webhookUrl,
    metadata: parsed.metadata,
  };
}

interface Cursor {
  t: string;
  i: string;
  f: string;
}

function cursorMac(services: Services, payload: string): Buffer {
  return createHmac('sha256', services.config.API_KEY_PEPPER)
    .update('extractions-page-token\0')
    .update(payload)
    .digest()
    .subarray(0, 16);
}

function filterKey(query: ListExtractionsQuery): string {
  return `${query.status ?? ''}|${query.createdAfter ?? ''}`;
}

/** `base64url(json).base64url(mac)`: opaque to clients, and any change to it is detected. */
export function encodeCursor(services: Services, cursor: Cursor): string {
  const payload = Buffer.from(JSON.stringify(cursor)).toString('base64url');
  return `${payload}.${cursorMac(services, payload).toString('base64url')}`;
}

export function decodeCursor(services: Services, token: string, filter: string): Cursor {
  const invalid = () =>
    badRequest('invalid_page_token', 'pageToken is not a token this API issued for this query');
  const [payload, mac, extra] = token.split('.');
  if (!payload || !mac || extra !== undefined) throw invalid();
  const given = Buffer.from(mac, 'base64url');
  const expected = cursorMac(services, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  let cursor: unknown;
  try {
    cursor = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = z
    .strictObject({ t: z.iso.datetime(), i: z.string(), f: z.string() })
    .safeParse(cursor);
  if (!parsed.success || parsed.data.f !== filter || !isValidId(parsed.data.i)) throw invalid();
  return parsed.data;
}

export function registerExtractionRoutes(router: Router, services: Services): void {
  router.on('POST', '/v1/extractions', async ({ req, requestId }) => {
    const { principal, tenant, actor } = await authenticate(services, req, requestId);
    requireScope(principal, 'extractions:write');
    const idempotencyKey = parseIdempotencyKey(req.get('idempotency-key'));
    const body = rawBody(req);
    if (body.length > maxBodyBytes(services)) {
      throw payloadTooLarge(`the request exceeds ${String(maxBodyBytes(services))} bytes`);
    }
    let request: Omit<SubmissionRequest, 'idempotencyKey'>;
    if (req.is('application/json')) {
      if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
        throw badRequest('invalid_request', 'the request body must be a JSON object');
      }
      request = fromJsonBody(CreateExtractionBody.parse(req.body));
    } else if (req.is('multipart/form-data')) {
      request = fromMultipart(body, req.get('content-type') ?? '');
    } else {
      throw unsupportedMediaType('send application/json or multipart/form-data');
    }
    const { view, replayed } = await submitExtraction(services, tenant, actor, {
      ...request,
      idempotencyKey,
    });
    return {
      status: replayed ? 200 : 202,
      body: view,
      headers: {
        Location: `/v1/extractions/${view.id}`,
        ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}),
      },
    };
  });

  router.on('GET', '/v1/extractions', async ({ req, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'extractions:read');
    const query = ListExtractionsQuery.parse(req.query);
    const filter = filterKey(query);
    const cursor =
      query.pageToken === undefined ? undefined : decodeCursor(services, query.pageToken, filter);
    const where: [string, '==' | '>', unknown][] = [];
    if (query.status) where.push(['status', '==', query.status]);
    if (query.createdAfter) where.push(['submittedAt', '>', isoToTimestamp(query.createdAfter)]);
    const db = services.platform.tenantDb(tenant);
    const docs = await db.list('extractions', {
      where,
      orderBy: [
        ['submittedAt', 'desc'],
        ['__name__', 'desc'],
      ],
      ...(cursor ? { startAfter: [isoToTimestamp(cursor.t), cursor.i] } : {}),
      limit: query.limit + 1,
    });
    const page = docs.slice(0, query.limit);
    const last = page[page.length - 1];
    const more = docs.length > query.limit && last !== undefined;
    return {
      status: 200,
      body: {
        data: await Promise.all(
          page.map(async (d) =>
            toExtractionView(d.id, await readableExtraction(services, tenant, db, d.id, d.data)),
          ),
        ),
        nextPageToken: more
          ? encodeCursor(services, { t: String(last.data.submittedAt), i: last.id, f: filter })
          : null,
      },
    };
  });

  router.on('GET', '/v1/extractions/:id', async ({ req, params, requestId }) => {
    const { principal, tenant } = await authenticate(services, req, requestId);
    requireScope(principal, 'extractions:read');
    const id = params.id ?? '';
    const db = services.platform.tenantDb(tenant);
    const data = isValidId(id) ? await db.get('extractions', id) : undefined;
    if (!data) throw notFound('extraction');
    return {
      status: 200,
      body: toExtractionView(id, await readableExtraction(services, tenant, db, id, data)),
    };
  });
}

// ---- multipart/form-data -----------------------------------------------------------------------

export interface MultipartPart {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  data: Buffer;
}

const MAX_PARTS = 16;
const MAX_HEADER_BYTES = 8192;

export function boundaryOf(contentType: string): string {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw badRequest('invalid_multipart', 'multipart/form-data needs a boundary');
  return boundary;
}

function invalid(message: string): never {
  throw badRequest('invalid_multipart', message);
}

function headerParam(value: string, name: string): string | undefined {
  const re = new RegExp(`;\\s*${name}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]+))`, 'i');
  const match = re.exec(value);
  if (!match) return undefined;
  return match[1] === undefined ? match[2] : match[1].replace(/\\(.)/g, '$1');
}

/** Splits the body into parts; every malformation is a 400 `invalid_multipart`. */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const boundary = boundaryOf(contentType);
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: MultipartPart[] = [];
  let position = body.indexOf(delimiter);
  if (position === -1) invalid('the body has no multipart boundary');
  for (;;) {
    position += delimiter.length;
    // `--` after a delimiter closes the body.
    if (body[position] === 0x2d && body[position + 1] === 0x2d) break;
    if (body[position] !== 0x0d || body[position + 1] !== 0x0a) invalid('malformed boundary line');
    position += 2;
    const headerEnd = body.indexOf('\r\n\r\n', position, 'latin1');
    if (headerEnd === -1 || headerEnd - position > MAX_HEADER_BYTES)
      invalid('malformed part headers');
    const headers = new Map<string, string>();
    for (const line of body.toString('latin1', position, headerEnd).split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) invalid('malformed part header');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const dataStart = headerEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n', 'latin1'), delimiter]), dataStart);
    if (next === -1) invalid('the body ends inside a part');
    const disposition = headers.get('content-disposition') ?? '';
    if (!/^form-data\s*(;|$)/i.test(disposition))
      invalid('every part needs Content-Disposition: form-data');
    const name = headerParam(disposition, 'name');
    if (!name) invalid('every part needs a name');
    parts.push({
      name,
      filename: headerParam(disposition, 'filename'),
      contentType: headers.get('content-type'),
      data: body.subarray(dataStart, next),
    });
    if (parts.length > MAX_PARTS) invalid(`at most ${String(MAX_PARTS)} parts`);
    position = next + 2;
  }
  return parts;
}
