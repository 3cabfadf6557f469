/**
 * Accepting an extraction: the original is encrypted under a fresh data key and stored
 * create-only, its records are committed in one transaction, then a reference-only message
 * goes to the worker. Any failure undoes what was written, so a rejected request leaves nothing.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { badRequest, forbidden, payloadTooLarge, unsupportedMediaType } from '../errors';
import { commitment, dataKeyId, objectAad, sealBytes, type ObjectRef } from '../crypto/envelope';
import { log, errorFields } from '../logging';
import type { Services } from '../services';
import { COMMIT_TIME } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';
import { getSchema, SCHEMA_NAMES } from './schemas';

export const SUPPORTED_CONTENT_TYPES = ['text/plain'] as const;

export const CreateExtractionBody = z.strictObject({
  document: z.union([
    z.strictObject({ contentType: z.string(), text: z.string() }),
    z.strictObject({ contentType: z.string(), data: z.base64() }),
  ]),
  schema: z.string().min(1).max(64),
  metadata: z.record(z.string().max(64), z.string().max(256)).optional(),
});
export type CreateExtractionBody = z.infer<typeof CreateExtractionBody>;

/** What the worker receives: references only, never document content. */
export const ExtractionMessage = z.strictObject({
  tenantId: z.string().min(1),
  extractionId: z.string().min(1),
});
export type ExtractionMessage = z.infer<typeof ExtractionMessage>;

export interface Actor {
  kind: 'apiKey' | 'user' | 'service';
  id: string;
}

export function newExtractionId(): string {
  return `ex_${randomBytes(12).toString('hex')}`;
}

export function documentObjectName(tenantId: string, extractionId: string): string {
  return `tenants/${tenantId}/documents/${extractionId}`;
}

export interface ExtractionView {
  id: string;
  status: 'queued' | 'processing' | 'succeeded' | 'failed';
  schema: string;
  createdAt: string | null;
  result?: unknown;
  evidenceId?: string;
  model?: unknown;
  error?: { code: string; message: string };
  metadata?: Record<string, string>;
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
  return view;
}

export async function submitExtraction(
  services: Services,
  tenant: TenantProfile,
  actor: Actor,
  body: CreateExtractionBody,
): Promise<ExtractionView> {
  const { config, keys, objects } = services;
  if (tenant.status !== 'active') throw forbidden('tenant_inactive', 'this tenant is not active');
  const schema = getSchema(body.schema);
  if (!schema) {
    throw badRequest('unknown_schema', `schema must be one of: ${SCHEMA_NAMES.join(', ')}`);
  }
  const contentType = body.document.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!(SUPPORTED_CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw unsupportedMediaType(
      `document.contentType must be one of: ${SUPPORTED_CONTENT_TYPES.join(', ')}`,
    );
  }
  const bytes =
    'text' in body.document
      ? Buffer.from(body.document.text, 'utf8')
      : Buffer.from(body.document.data, 'base64');
  if (bytes.length > config.MAX_DOCUMENT_BYTES) {
    throw payloadTooLarge(`document exceeds ${config.MAX_DOCUMENT_BYTES} bytes`);
  }
  if (bytes.length === 0) throw badRequest('empty_document', 'document is empty');

  const db = services.platform.tenantDb(tenant);
  const extractionId = newExtractionId();
  const ref: ObjectRef = { kind: 'document', id: extractionId };
  const { dataKey, wrapped } = await keys.newDataKey(tenant, ref);
  const objectName = documentObjectName(tenant.id, extractionId);
  const ciphertextRef = await objects.putNew(
    config.DOCUMENTS_BUCKET,
    objectName,
    sealBytes(dataKey.key, objectAad(tenant.id, ref), bytes),
  );
  try {
    await db.runTransaction((tx) => {
      tx.create('dataKeys', dataKeyId(ref), {
        ...wrapped,
        objectRef: ciphertextRef,
        createdAt: COMMIT_TIME,
      });
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
        schemaVersion: schema.version,
        documentId: extractionId,
        actor,
        ...(body.metadata ? { metadata: body.metadata } : {}),
        createdAt: COMMIT_TIME,
        updatedAt: COMMIT_TIME,
      });
      return Promise.resolve();
    });
  } catch (err) {
    await objects.delete(config.DOCUMENTS_BUCKET, objectName, { ignoreNotFound: true });
    throw err;
  }
  try {
    const message: ExtractionMessage = { tenantId: tenant.id, extractionId };
    await services.pubsub
      .topic(config.EXTRACTION_TOPIC)
      .publishMessage({ json: message, attributes: { tenantId: tenant.id } });
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
  return toExtractionView(extractionId, created ?? { status: 'queued', schema: schema.name });
}
