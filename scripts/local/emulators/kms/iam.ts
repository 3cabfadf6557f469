// Who may do what: the emulator's stand-in for IAM on Cloud KMS resources.
//
// Callers are told apart by the identity they send, as Google tells them apart by their
// access token: `authorization: Bearer <member>` in the call's metadata names the IAM member
// (`user:alice@customer.example`, `serviceAccount:...`) the call is made as. A call without it
// is made as DEFAULT_CALLER: the local stack's functions, whose clients run on an insecure
// channel without call credentials, so they are the platform's service account here.
//
// The model follows https://cloud.google.com/kms/docs/reference/permissions-and-roles: a role
// granted on a project, key ring or key applies to everything below it, and access is managed
// on key rings and keys, not on key versions. Projects belong to the first member who creates a
// key ring in them (a stand-in for Resource Manager, which the emulator does not have); the
// owner holds every permission there, everybody else only what a binding on the key ring or
// key grants. A project nobody has claimed yet is open to every caller, so state written
// before this model existed keeps working.
import { permissionDenied } from './errors';

/** The member a call without credentials is made as: the platform's functions. */
export const DEFAULT_CALLER = 'serviceAccount:provenant-functions@local.iam.gserviceaccount.com';

/**
 * The permissions of the predefined Cloud KMS roles the emulator knows, as listed in
 * https://cloud.google.com/iam/docs/roles-permissions/cloudkms (only the permissions of the
 * RPCs the emulator serves). `roles/owner` holds all of them.
 */
export const ROLE_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  'roles/cloudkms.admin': [
    'cloudkms.keyRings.create',
    'cloudkms.keyRings.get',
    'cloudkms.keyRings.list',
    'cloudkms.keyRings.getIamPolicy',
    'cloudkms.keyRings.setIamPolicy',
    'cloudkms.cryptoKeys.create',
    'cloudkms.cryptoKeys.get',
    'cloudkms.cryptoKeys.list',
    'cloudkms.cryptoKeys.update',
    'cloudkms.cryptoKeys.getIamPolicy',
    'cloudkms.cryptoKeys.setIamPolicy',
    'cloudkms.cryptoKeyVersions.create',
    'cloudkms.cryptoKeyVersions.get',
    'cloudkms.cryptoKeyVersions.list',
    'cloudkms.cryptoKeyVersions.update',
    'cloudkms.cryptoKeyVersions.destroy',
    'cloudkms.cryptoKeyVersions.restore',
  ],
  // The role a CMEK customer grants a service on their key: use, never manage or view.
  'roles/cloudkms.cryptoKeyEncrypterDecrypter': [
    'cloudkms.cryptoKeyVersions.useToEncrypt',
    'cloudkms.cryptoKeyVersions.useToDecrypt',
  ],
  'roles/cloudkms.cryptoKeyEncrypter': ['cloudkms.cryptoKeyVersions.useToEncrypt'],
  'roles/cloudkms.cryptoKeyDecrypter': ['cloudkms.cryptoKeyVersions.useToDecrypt'],
  'roles/cloudkms.signerVerifier': [
    'cloudkms.cryptoKeyVersions.useToSign',
    'cloudkms.cryptoKeyVersions.viewPublicKey',
  ],
  'roles/cloudkms.signer': ['cloudkms.cryptoKeyVersions.useToSign'],
  'roles/cloudkms.publicKeyViewer': ['cloudkms.cryptoKeyVersions.viewPublicKey'],
  'roles/cloudkms.viewer': [
    'cloudkms.keyRings.get',
    'cloudkms.keyRings.list',
    'cloudkms.keyRings.getIamPolicy',
    'cloudkms.cryptoKeys.get',
    'cloudkms.cryptoKeys.list',
    'cloudkms.cryptoKeys.getIamPolicy',
    'cloudkms.cryptoKeyVersions.get',
    'cloudkms.cryptoKeyVersions.list',
  ],
  'roles/owner': [],
};

/** A role binding as stored: `google.iam.v1.Binding` without conditions. */
export interface StoredBinding {
  role: string;
  members: string[];
}

/** A resource's policy as stored; `etag` changes with every write (optimistic concurrency). */
export interface StoredPolicy {
  version: number;
  etag: number;
  bindings: StoredBinding[];
}

/** The IAM part of the persisted state. */
export interface IamState {
  /** Project id → the member who owns it (the first to create a key ring there). */
  projectOwners: Record<string, string>;
  /** Key ring or crypto key name → its policy. */
  policies: Record<string, StoredPolicy>;
}

export function emptyIamState(): IamState {
  return { projectOwners: {}, policies: {} };
}

/** The member named by a call's `authorization` metadata, or DEFAULT_CALLER. */
export function callerOf(authorization: string | undefined): string {
  if (authorization === undefined) return DEFAULT_CALLER;
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  return match?.[1] ?? DEFAULT_CALLER;
}

/** `projects/P/...` → P. */
export function projectOf(resource: string): string {
  return resource.split('/')[1] ?? '';
}

/** The resource and its ancestors that can hold a policy: key, then key ring. */
function policyHolders(resource: string): string[] {
  const parts = resource.split('/');
  const holders: string[] = [];
  // projects/P/locations/L/keyRings/R[/cryptoKeys/K[/cryptoKeyVersions/V]]
  if (parts.length >= 6) holders.push(parts.slice(0, 6).join('/'));
  if (parts.length >= 8) holders.push(parts.slice(0, 8).join('/'));
  return holders;
}

/** True when `caller` holds `permission` on `resource` (or the project is unclaimed). */
export function hasPermission(
  iam: IamState,
  caller: string,
  resource: string,
  permission: string,
): boolean {
  const owner = iam.projectOwners[projectOf(resource)];
  if (owner === undefined || owner === caller) return true;
  return policyHolders(resource).some((holder) =>
    (iam.policies[holder]?.bindings ?? []).some(
      (binding) =>
        binding.members.includes(caller) &&
        (binding.role === 'roles/owner' ||
          (ROLE_PERMISSIONS[binding.role] ?? []).includes(permission)),
    ),
  );
}

/**
 * Throws PERMISSION_DENIED unless `caller` holds `permission` on `resource`. Checked before
 * the resource is looked up, and worded as Cloud KMS words it, so a caller without access
 * cannot tell a missing key from one it may not see, e.g.
 * "Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied on resource
 * 'projects/p/locations/l/keyRings/r/cryptoKeys/k' (or it may not exist)."
 * (as quoted from real KMS in googleapis client-library and Terraform provider issues).
 */
export function requirePermission(
  iam: IamState,
  caller: string,
  resource: string,
  permission: string,
): void {
  if (!hasPermission(iam, caller, resource, permission)) {
    throw permissionDenied(
      `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`,
    );
  }
}
