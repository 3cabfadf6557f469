/**
 * `/v1/extractions`: submit (JSON or multipart/form-data, with `Idempotency-Key`), list with
 * an opaque signed cursor (`extraction/listing.ts`), and read one.
 */
import { z } from 'zod';
import { badRequest, unsupportedMediaType } from '../errors';
import { sniffContentType } from '../extraction/documents';
import { parseIdempotencyKey } from '../extraction/idempotency';
import { getExtraction, ListExtractionsQuery, listExtractions } from '../extraction/listing';
import {
  CreateExtractionBody,
  fromJsonBody,
  MultipartFields,
  submitExtraction,
  type SubmissionRequest,
} from '../extraction/submit';
import type { Services } from '../services';
import { isJson, jsonObjectValue } from './body';
import { readMultipart } from './multipart';
import { route, type BodyReader, type HeaderReader } from './route';
import { Extraction, ExtractionPage } from './views';

/** What the multipart form may carry, for the document. */
const MultipartExtraction = z.strictObject({
  file: z.string().meta({ contentMediaType: 'application/octet-stream' }),
  schema: z.string(),
  webhookUrl: z.string().optional(),
  metadata: z.string().optional().describe('A JSON object of string values.'),
});

type Submission = Omit<SubmissionRequest, 'idempotencyKey'>;

const idempotencyKey: HeaderReader<string | undefined> = {
  name: 'Idempotency-Key',
  description: 'Replays return the original; a different body with the same key is a 409.',
  required: false,
  schema: z.string().min(1).max(128),
  parse: parseIdempotencyKey,
};

/** Base64 and JSON envelopes grow a document; past this the request cannot be within limits. */
function maxBodyBytes(services: Services): number {
  return Math.ceil((services.config.MAX_DOCUMENT_BYTES * 4) / 3) + 64 * 1024;
}

async function fromMultipart(body: Buffer, contentType: string): Promise<Submission> {
  const parts = await readMultipart(body, contentType, ['file']);
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

/** A submission as JSON or as a multipart upload; 413 past the size any document allows. */
const submission: BodyReader<Submission> = {
  content: { 'application/json': CreateExtractionBody, 'multipart/form-data': MultipartExtraction },
  required: true,
  maxBytes: maxBodyBytes,
  read: async (body) => {
    if (isJson(body)) return fromJsonBody(CreateExtractionBody.parse(jsonObjectValue(body)));
    if (body.mediaType === 'multipart/form-data') {
      return fromMultipart(body.bytes, body.contentType ?? '');
    }
    throw unsupportedMediaType('send application/json or multipart/form-data');
  },
};

export const extractionRoutes = [
  route({
    method: 'POST',
    pattern: '/v1/extractions',
    auth: { scope: 'extractions:write' },
    headers: { idempotencyKey },
    body: submission,
    summary: 'Submit a document for extraction',
    ok: [
      { status: 202, schema: Extraction, description: 'Accepted and queued' },
      { status: 200, schema: Extraction, description: 'Idempotent replay: the original' },
    ],
    errors: [400, 409, 413, 415, 422],
    handle: async ({ services, tenant, actor, headers, body }) => {
      const { view, replayed } = await submitExtraction(services, tenant, actor, {
        ...body,
        idempotencyKey: headers.idempotencyKey,
      });
      return {
        status: replayed ? 200 : 202,
        body: view,
        headers: {
          Location: `/v1/extractions/${view.id}`,
          ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}),
        },
      };
    },
  }),

  route({
    method: 'GET',
    pattern: '/v1/extractions',
    auth: { scope: 'extractions:read' },
    query: ListExtractionsQuery,
    summary: 'List extractions, newest first',
    ok: [{ status: 200, schema: ExtractionPage, description: 'One page' }],
    errors: [400],
    handle: async ({ services, tenant, query }) => ({
      status: 200,
      body: await listExtractions(services, tenant, query),
    }),
  }),

  route({
    method: 'GET',
    pattern: '/v1/extractions/:id',
    auth: { scope: 'extractions:read' },
    summary: 'Read one extraction',
    ok: [{ status: 200, schema: Extraction, description: 'The extraction' }],
    errors: [404],
    handle: async ({ services, tenant, params: { id } }) => ({
      status: 200,
      body: await getExtraction(services, tenant, id),
    }),
  }),
];
