/**
 * Accepting an extraction: the original is encrypted under a fresh data key and stored
 * create-only, its records (and its idempotency key) are committed in one transaction, then a
 * reference-only message goes to the worker. Every check runs before the first write, and any
 * failure after it undoes what was written, so a rejected request leaves nothing.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { badRequest, conflict, forbidden, unprocessable } from '../errors';
import { commitment, dataKeyId, type ObjectRef } from '../crypto/envelope';
import { sealAndPut, storeDataKey } from '../crypto/sealed-object';
import type { Actor } from '../evidence/actor';
import { log, errorFields } from '../logging';
import { unbatchedTopic, type Services } from '../services';
import { StageTimer } from '../stage-timer';
import { listWebhooks } from '../webhooks/store';
import {
  COMMIT_TIME,
  DocId,
  documentWritesSoFar,
  isAlreadyExists,
  isoToTimestamp,
  type TenantDb,
} from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';
import { SUPPORTED_CONTENT_TYPES, validateDocument } from './documents';
import { idempotencyDocId, priorExtraction, requestMac } from './idempotency';
import { SCHEMA_NAMES } from './schemas/built-in';
import { resolveSchema } from './schemas/resolve';

export { SUPPORTED_CONTENT_TYPES };

const Metadata = z
  .record(z.string().min(1).max(64), z.string().max(256))
  .refine((m) => Object.keys(m).length <= 32, 'at most 32 metadata entries');

export const CreateExtractionBody = z.strictObject({
  document: z.union([
    z.strictObject({
      contentType: z
        .string()
        .max(255)
        .describe('text/plain, application/pdf, image/png or image/jpeg'),
      text: z.string().describe('The document as text (text/plain only).'),
    }),
    z.strictObject({
      contentType: z.string().max(255),
      data: z.base64().describe('The document bytes, base64.'),
    }),
  ]),
  schema: z.string().min(1).max(64).describe('invoice, receipt or a custom schema name'),
  webhookUrl: z
    .url({ protocol: /^https$/ })
    .max(2048)
    .optional(),
  metadata: Metadata.optional(),
});
export type CreateExtractionBody = z.infer<typeof CreateExtractionBody>;

/** The `schema` and other fields of a multipart upload (the document is the `file` part). */
export const MultipartFields = z.strictObject({
  schema: z.string().min(1).max(64),
  webhookUrl: z
    .url({ protocol: /^https$/ })
    .max(2048)
    .optional(),
  metadata: z
    .string()
    .max(16_384)
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'metadata must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(Metadata)
    .optional(),
});

/** One submission, however it arrived (JSON or multipart). */
export interface SubmissionRequest {
  contentType: string;
  bytes: Buffer;
  schema: string;
  webhookUrl?: string | undefined;
  metadata?: Record<string, string> | undefined;
  idempotencyKey?: string | undefined;
}

export function fromJsonBody(
  body: CreateExtractionBody,
): Omit<SubmissionRequest, 'idempotencyKey'> {
  const bytes =
    'text' in body.document
      ? Buffer.from(body.document.text, 'utf8')
      : Buffer.from(body.document.data, 'base64');
  return {
    contentType: body.document.contentType,
    bytes,
    schema: body.schema,
    webhookUrl: body.webhookUrl,
    metadata: body.metadata,
  };
}

/** What the worker receives: references only, never document content. */
export const ExtractionMessage = z.strictObject({
  tenantId: DocId,
  extractionId: DocId,
});
export type ExtractionMessage = z.infer<typeof ExtractionMessage>;

export function newExtractionId(): string {
  return `ex_${randomBytes(12).toString('hex')}`;
}

export function documentObjectName(tenantId: string, extractionId: string): string {
  return `tenants/${tenantId}/documents/${extractionId}`;
}

export const EXTRACTION_STATUSES = ['queued', 'processing', 'succeeded', 'failed'] as const;

export interface ExtractionView {
  id: string;
  status: (typeof EXTRACTION_STATUSES)[number];
  schema: string;
  createdAt: string | null;
  result?: unknown;
  evidenceId?: string;
  model?: unknown;
  error?: { code: string; message: string };
  metadata?: Record<string, string>;
  webhookUrl?: string;
  erasedAt?: string;
}

export function toExtractionView(id: string, data: Record<string, unknown>): ExtractionView {
  const view: ExtractionView = {
    id,
    status: data.status as ExtractionView['status'],
    schema: data.schema as string,
    createdAt: (data.createdAt as string | undefined) ?? null,
  };
  if (data.result !== undefined) view.result = data.result;
  if (typeof data.evidenceId === 'string') view.evidenceId = data.evidenceId;
  if (data.model !== undefined) view.model = data.model;
  if (data.error !== undefined) view.error = data.error as { code: string; message: string };
  if (data.metadata !== undefined) view.metadata = data.metadata as Record<string, string>;
  if (typeof data.webhookUrl === 'string') view.webhookUrl = data.webhookUrl;
  if (typeof data.erasedAt === 'string') view.erasedAt = data.erasedAt;
  return view;
}

/** The extraction an earlier request with the same key created, or a 409. */
async function replay(
  db: TenantDb,
  key: string,
  hash: string,
): Promise<ExtractionView | undefined> {
  const prior = await priorExtraction(db, key, hash);
  if (prior === undefined) return undefined;
  const data = await db.get('extractions', prior);
  if (!data) {
    throw conflict('idempotency_conflict', 'the extraction this Idempotency-Key created is gone');
  }
  return toExtractionView(prior, data);
}

export interface Submitted {
  view: ExtractionView;
  /** True when an earlier request with the same Idempotency-Key created it. */
  replayed: boolean;
}

export async function submitExtraction(
  services: Services,
  tenant: TenantProfile,
  actor: Actor,
  request: SubmissionRequest,
): Promise<Submitted> {
  const { config, objects } = services;
  const timer = new StageTimer();
  const writesBefore = documentWritesSoFar();
  if (tenant.status !== 'active') throw forbidden('tenant_inactive', 'this tenant is not active');
  const db = services.platform.tenantDb(tenant);
  const schema = await resolveSchema(db, request.schema);
  if (!schema) {
    throw badRequest(
      'unknown_schema',
      `schema must be one of: ${SCHEMA_NAMES.join(', ')}, or a custom schema of this tenant`,
    );
  }
  if (
    request.webhookUrl !== undefined &&
    !(await listWebhooks(services, tenant)).some((w) => w.record.url === request.webhookUrl)
  ) {
    // Only a registered endpoint has a signing secret (and passed the SSRF checks).
    throw unprocessable(
      'webhook_not_registered',
      'webhookUrl must be an endpoint registered with POST /v1/webhooks',
    );
  }
  const contentType = await validateDocument(request.bytes, request.contentType, config);
  const bytes = request.bytes;
  const key = request.idempotencyKey;
  const hash =
    key === undefined
      ? undefined
      : await requestMac(services.keys, tenant, { ...request, contentType, schema: schema.name });
  if (key !== undefined && hash !== undefined) {
    const earlier = await replay(db, key, hash);
    if (earlier) return { view: earlier, replayed: true };
  }
  timer.lap('validation');

  const extractionId = newExtractionId();
  const ref: ObjectRef = { kind: 'document', id: extractionId };
  const objectName = documentObjectName(tenant.id, extractionId);
  // Originals use the chunked format (up to MAX_DOCUMENT_BYTES), so readers never hold more
  // than a few 64 KiB chunks of plaintext per decrypting stream.
  const {
    dataKey,
    wrapped,
    uri: ciphertextRef,
  } = await sealAndPut(
    services,
    tenant,
    ref,
    { bucket: config.DOCUMENTS_BUCKET, name: objectName },
    bytes,
    'chunked',
    timer,
  );
  try {
    await db.runTransaction((tx) => {
      storeDataKey(tx, ref, wrapped, ciphertextRef);
      tx.create('documents', extractionId, {
        contentType,
        bytes: bytes.length,
        ciphertextRef,
        payloadSha256: commitment(dataKey.commitmentSecret, bytes),
        createdAt: COMMIT_TIME,
      });
      tx.create('extractions', extractionId, {
        status: 'queued',
        schema: schema.name,
        // Pinned now: the worker runs exactly this version, whatever changes after the 202.
        schemaVersion: schema.version,
        schemaSha256: schema.sha256,
        documentId: extractionId,
        actor,
        ...(request.metadata ? { metadata: request.metadata } : {}),
        ...(request.webhookUrl ? { webhookUrl: request.webhookUrl } : {}),
        ...(key !== undefined ? { idempotencyKeyId: idempotencyDocId(key) } : {}),
        // Listing order: whole milliseconds, so a page cursor names a position exactly (commit
        // times have microseconds that records read back as ISO strings cannot carry).
        submittedAt: isoToTimestamp(new Date().toISOString()),
        createdAt: COMMIT_TIME,
        updatedAt: COMMIT_TIME,
      });
      if (key !== undefined) {
        tx.create('idempotencyKeys', idempotencyDocId(key), {
          requestMac: hash,
          extractionId,
          createdAt: COMMIT_TIME,
        });
      }
      return Promise.resolve();
    });
    timer.lap('transaction');
  } catch (err) {
    await objects.delete(config.DOCUMENTS_BUCKET, objectName, { ignoreNotFound: true });
    // A concurrent request with the same key won the race: answer what it created.
    if (key !== undefined && hash !== undefined && isAlreadyExists(err)) {
      const earlier = await replay(db, key, hash);
      if (earlier) return { view: earlier, replayed: true };
    }
    throw err;
  }
  try {
    const message: ExtractionMessage = { tenantId: tenant.id, extractionId };
    await unbatchedTopic(services, config.EXTRACTION_TOPIC).publishMessage({
      json: message,
      attributes: { tenantId: tenant.id },
    });
    timer.lap('publish');
    timer.mark('publishedAt');
  } catch (err) {
    log('request_failed', {
      tenantId: tenant.id,
      extractionId,
      stage: 'publish',
      ...errorFields(err),
    });
    await db.runTransaction((tx) => {
      tx.delete('extractions', extractionId)
        .delete('documents', extractionId)
        .delete('dataKeys', dataKeyId(ref));
      if (key !== undefined) tx.delete('idempotencyKeys', idempotencyDocId(key));
      return Promise.resolve();
    });
    await objects.delete(config.DOCUMENTS_BUCKET, objectName, { ignoreNotFound: true });
    throw err;
  }
  log('extraction_accepted', {
    tenantId: tenant.id,
    extractionId,
    schema: schema.name,
    bytes: bytes.length,
  });
  const created = await db.get('extractions', extractionId);
  timer.lap('response');
  log('stage_timings', {
    side: 'api',
    tenantId: tenant.id,
    extractionId,
    ...timer.fields(),
    firestoreWrites: documentWritesSoFar() - writesBefore,
  });
  return {
    view: toExtractionView(extractionId, created ?? { status: 'queued', schema: schema.name }),
    replayed: false,
  };
}
