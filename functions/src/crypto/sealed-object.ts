/**
 * Objects sealed under their own data key: the one place that creates a data key, seals with
 * it and stores the ciphertext, and the one place that reads a stored wrapped data key back
 * and opens what it sealed. The wrapped key lives in `tenants/{t}/dataKeys/{kind}-{id}`;
 * deleting that document is erasure, after which `openDataKey` answers undefined and an
 * object read answers `ObjectErasedError`.
 */
import type { StageTimer } from '../stage-timer';
import { z } from 'zod';
import type { ObjectStore } from '../storage/object-store';
import { parseGsUri } from '../storage/object-store';
import { COMMIT_TIME, type TenantDb, type TenantTransaction } from '../tenancy/firestore';
import { openAny, sealLarge } from './chunked';
import {
  dataKeyId,
  objectAad,
  sealBytes,
  type DataKey,
  type KeyHierarchy,
  type ObjectRef,
  type TenantKeyInfo,
  type WrappedDataKey,
} from './envelope';

/** A stored `dataKeys` document; it also carries where the object is and when it was made. */
const StoredDataKeySchema = z.looseObject({
  wrapped: z.string(),
  algorithm: z.literal('AES-256-GCM'),
});

export class ObjectErasedError extends Error {
  override readonly name = 'ObjectErasedError';
  constructor(readonly ref: ObjectRef) {
    super(`the ${ref.kind} of ${ref.id} was erased`);
  }
}

export interface SealingServices {
  keys: KeyHierarchy;
  objects: ObjectStore;
}

/**
 * Stores the wrapped data key of `ref` in `tx`, with the object it seals when there is one: from
 * that commit on the object is referenced and readable. Create-only, like every key record.
 */
export function storeDataKey(
  tx: TenantTransaction,
  ref: ObjectRef,
  wrapped: WrappedDataKey,
  objectUri?: string,
): void {
  tx.create('dataKeys', dataKeyId(ref), {
    ...wrapped,
    ...(objectUri === undefined ? {} : { objectRef: objectUri }),
    createdAt: COMMIT_TIME,
  });
}

/** The data key of `ref`, or undefined when it was erased. */
export async function openDataKey(
  keys: KeyHierarchy,
  tenant: TenantKeyInfo,
  db: TenantDb,
  ref: ObjectRef,
): Promise<DataKey | undefined> {
  const stored = await db.get('dataKeys', dataKeyId(ref));
  if (!stored) return undefined;
  const parsed = StoredDataKeySchema.safeParse(stored);
  if (!parsed.success) throw new Error(`the data key of ${ref.kind}/${ref.id} is malformed`);
  const wrapped: WrappedDataKey = {
    wrapped: parsed.data.wrapped,
    algorithm: parsed.data.algorithm,
  };
  return keys.openDataKey(tenant, ref, wrapped);
}

/**
 * Seals `plaintext` under a fresh data key and stores it create-only at `bucket/name`. The
 * caller commits `wrapped` (with `uri`) in the transaction that makes the object referenced:
 * until then the object is an unreadable orphan. `chunked` (PVN2) for originals, so readers
 * never hold more than a few chunks of plaintext; single-shot (PVN1) otherwise.
 */
export async function sealAndPut(
  services: SealingServices,
  tenant: TenantKeyInfo,
  ref: ObjectRef,
  location: { bucket: string; name: string },
  plaintext: Buffer,
  format: 'chunked' | 'single',
  timer?: StageTimer,
): Promise<{ dataKey: DataKey; wrapped: WrappedDataKey; uri: string }> {
  const { dataKey, wrapped } = await services.keys.newDataKey(tenant, ref);
  timer?.lap('keys');
  const aad = objectAad(tenant.id, ref);
  const sealed =
    format === 'chunked'
      ? sealLarge(dataKey.key, aad, plaintext)
      : sealBytes(dataKey.key, aad, plaintext);
  timer?.lap('encryption');
  const uri = await services.objects.putNew(location.bucket, location.name, sealed);
  timer?.lap('storage');
  return { dataKey, wrapped, uri };
}

/**
 * Reads back and opens an object stored by `sealAndPut` (either format). The data key and the
 * ciphertext are fetched at once (a Firestore read and a Cloud Storage read, one round trip's
 * wait instead of two); a missing key (crypto-shredded) says "erased" before anything the
 * object read said.
 */
export async function openStoredObject(
  services: SealingServices,
  tenant: TenantKeyInfo,
  db: TenantDb,
  ref: ObjectRef,
  uri: string,
): Promise<{ key: DataKey; plaintext: Buffer }> {
  const { bucket, name } = parseGsUri(uri);
  const [key, sealed] = await Promise.allSettled([
    openDataKey(services.keys, tenant, db, ref),
    services.objects.get(bucket, name),
  ]);
  if (key.status === 'rejected') throw key.reason;
  if (!key.value) throw new ObjectErasedError(ref);
  if (sealed.status === 'rejected') {
    if ((sealed.reason as { code?: unknown }).code === 404) throw new ObjectErasedError(ref);
    throw sealed.reason;
  }
  const plaintext = openAny(key.value.key, objectAad(tenant.id, ref), sealed.value, ref.kind);
  return { key: key.value, plaintext };
}
