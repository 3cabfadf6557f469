/**
 * `Idempotency-Key`: a client retrying a submission gets the extraction its first attempt
 * created. The key is stored hashed (`tenants/{t}/idempotencyKeys/{sha256(key)}`) together with
 * a keyed fingerprint of the normalized request, in the same transaction that creates the
 * extraction, so a key can never point at nothing and a reused key with another body is
 * detected. The extraction names its record (`idempotencyKeyId`), so erasure deletes it.
 */
import { createHash } from 'node:crypto';
import { badRequest, conflict } from '../errors';
import type { KeyHierarchy, TenantKeyInfo } from '../crypto/envelope';
import { canonicalJson } from '../evidence/canonical';
import type { TenantDb } from '../tenancy/firestore';

const KEY = /^[\x21-\x7e]{1,128}$/;

/** The header's value checked: 1-128 printable ASCII characters, or undefined when absent. */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!KEY.test(header)) {
    throw badRequest(
      'invalid_idempotency_key',
      'Idempotency-Key must be 1-128 printable ASCII characters without spaces',
    );
  }
  return header;
}

export function idempotencyDocId(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Keyed fingerprint of what the request asks for, independent of its encoding (JSON or
 * multipart, key order, whitespace): the document's type and bytes, the schema, the webhook and
 * the metadata. Keyed with the tenant's keys (never a plain hash): the record outlives the
 * document until erasure, and a plain hash would let anyone holding a guess confirm it.
 */
export async function requestMac(
  keys: KeyHierarchy,
  tenant: TenantKeyInfo,
  request: {
    contentType: string;
    bytes: Buffer;
    schema: string;
    webhookUrl?: string | undefined;
    metadata?: Record<string, string> | undefined;
  },
): Promise<string> {
  const documentMac = await keys.tenantMac(tenant, 'idempotency-document', request.bytes);
  const normalized = {
    contentType: request.contentType,
    document: documentMac,
    schema: request.schema,
    webhookUrl: request.webhookUrl ?? null,
    metadata: request.metadata ?? {},
  };
  return keys.tenantMac(tenant, 'idempotency-request', canonicalJson(normalized));
}

/**
 * The extraction a key already names, if the key was used before with the same request; a
 * conflict if it was used with another. Undefined when the key is new.
 */
export async function priorExtraction(
  db: TenantDb,
  key: string,
  mac: string,
): Promise<string | undefined> {
  const record = await db.get('idempotencyKeys', idempotencyDocId(key));
  if (!record) return undefined;
  if (record.requestMac !== mac) {
    throw conflict(
      'idempotency_conflict',
      'this Idempotency-Key was already used with a different request',
    );
  }
  return String(record.extractionId);
}
