/**
 * Reading back an object stored under its own data key: the worker reads the original, replay
 * reads the original and the raw response. Both formats decrypt (PVN1 single-shot, PVN2
 * chunked), and an erased object — data key deleted, or object deleted — is one typed error.
 */
import { openAny } from '../crypto/chunked';
import {
  dataKeyId,
  objectAad,
  type DataKey,
  type ObjectRef,
  type WrappedDataKey,
} from '../crypto/envelope';
import type { Services } from '../services';
import { parseGsUri } from '../storage/object-store';
import type { TenantDb } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';

export class ObjectErasedError extends Error {
  override readonly name = 'ObjectErasedError';
  constructor(readonly ref: ObjectRef) {
    super(`the ${ref.kind} of ${ref.id} was erased`);
  }
}

export async function openStoredObject(
  services: Services,
  tenant: TenantProfile,
  db: TenantDb,
  ref: ObjectRef,
  uri: string,
): Promise<{ key: DataKey; plaintext: Buffer }> {
  const wrapped = await db.get('dataKeys', dataKeyId(ref));
  if (!wrapped) throw new ObjectErasedError(ref);
  const key = await services.keys.openDataKey(tenant, ref, wrapped as unknown as WrappedDataKey);
  const { bucket, name } = parseGsUri(uri);
  const sealed = await services.objects.get(bucket, name).catch((err: unknown) => {
    if ((err as { code?: unknown }).code === 404) throw new ObjectErasedError(ref);
    throw err;
  });
  return { key, plaintext: openAny(key.key, objectAad(tenant.id, ref), sealed, ref.kind) };
}
