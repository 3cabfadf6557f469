/**
 * Reading an extraction back for its tenant: a result stored encrypted (tenants that ask for
 * it) is opened with the result's data key; an erased result (key gone) simply has none.
 */
import { objectAad, openBytes, type ObjectRef } from '../crypto/envelope';
import { openDataKey } from '../crypto/sealed-object';
import type { Services } from '../services';
import type { DocData, TenantDb } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';

export async function readableExtraction(
  services: Services,
  tenant: TenantProfile,
  db: TenantDb,
  id: string,
  data: DocData,
): Promise<DocData> {
  const { resultCiphertext, ...rest } = data;
  if (typeof resultCiphertext !== 'string') return rest;
  const ref: ObjectRef = { kind: 'result', id };
  const key = await openDataKey(services.keys, tenant, db, ref);
  if (!key) return rest;
  const plaintext = openBytes(
    key.key,
    objectAad(tenant.id, ref),
    Buffer.from(resultCiphertext, 'base64'),
    'result',
  );
  return { ...rest, result: JSON.parse(plaintext.toString('utf8')) as unknown };
}
