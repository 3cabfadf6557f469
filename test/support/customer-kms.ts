/**
 * Acting as a CMEK customer on the KMS emulator, through the official client: calls carry
 * `authorization: Bearer <member>` (scripts/local/emulators/kms/iam.ts), and the customer
 * grants or revokes the platform's use of a key with Get/SetIamPolicy, as they would with
 * `gcloud kms keys add-iam-policy-binding` / `remove-iam-policy-binding`.
 */
import type { KeyManagementServiceClient } from '@google-cloud/kms';
import { DEFAULT_CALLER } from '../../scripts/local/emulators/kms/iam';
import { asMember } from '../../scripts/local/emulators/kms/server';

/** The member the stack's functions call KMS as (they send no credentials). */
export const PLATFORM_MEMBER = DEFAULT_CALLER;

/** The role a customer grants the platform on their key: use it, nothing else. */
export const ENCRYPTER_DECRYPTER = 'roles/cloudkms.cryptoKeyEncrypterDecrypter';

/** Call options that make a client call act as `member`. */
export function as(member: string): { otherArgs: { headers: Record<string, string> } } {
  return { otherArgs: { headers: asMember(member) } };
}

type IamMethod = 'getIamPolicy' | 'setIamPolicy' | 'testIamPermissions';
type IamRequest<M extends IamMethod> = Parameters<KeyManagementServiceClient[M]>[0];

/**
 * The client types the IAM mixin's requests as protobufjs message classes (with `toJSON`);
 * it sends plain objects like every other request, which is all this builds.
 */
export function iamRequest<M extends IamMethod>(
  request: Omit<IamRequest<M>, 'toJSON'>,
): IamRequest<M> {
  return request as IamRequest<M>;
}

/**
 * Adds or removes `member`'s `role` binding on `resource` as `owner` would: read the policy,
 * change it, write it back under the etag it was read with.
 */
export async function setGrant(
  client: KeyManagementServiceClient,
  owner: string,
  resource: string,
  granted: boolean,
  member: string = PLATFORM_MEMBER,
  role: string = ENCRYPTER_DECRYPTER,
): Promise<void> {
  const [policy] = await client.getIamPolicy(iamRequest<'getIamPolicy'>({ resource }), as(owner));
  const bindings = policy.bindings
    .map((b) => ({
      role: b.role,
      members: (b.members ?? []).filter((m) => !(b.role === role && m === member)),
    }))
    .filter((b) => b.members.length > 0);
  if (granted) bindings.push({ role, members: [member] });
  await client.setIamPolicy(
    iamRequest<'setIamPolicy'>({ resource, policy: { etag: policy.etag, bindings } }),
    as(owner),
  );
}
