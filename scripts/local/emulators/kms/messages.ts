// Shapes of the google.cloud.kms.v1 messages this emulator reads and writes, as
// @grpc/proto-loader hands them over with the options in `proto.ts`: camelCase field names,
// enums as their string names, 64-bit integers as decimal strings, bytes as Buffers, and
// fields absent unless the sender set them (no defaults), so "not provided" stays visible.
// Only the fields the emulator uses are declared; everything else on the wire is ignored.

/** `google.protobuf.Timestamp` / `google.protobuf.Duration` on the wire. */
export interface SecondsNanos {
  seconds?: string | number;
  nanos?: number;
}

/** `google.protobuf.Int64Value`; KMS uses it to carry CRC32C checksums. */
export interface Int64Value {
  value?: string | number;
}

/** `google.protobuf.FieldMask`. */
export interface FieldMask {
  paths?: string[];
}

/** `google.cloud.kms.v1.ProtectionLevel`, by name. */
export type ProtectionLevel =
  'PROTECTION_LEVEL_UNSPECIFIED' | 'SOFTWARE' | 'HSM' | 'EXTERNAL' | 'EXTERNAL_VPC';

/** `CryptoKey.CryptoKeyPurpose`, by name. */
export type CryptoKeyPurpose =
  | 'CRYPTO_KEY_PURPOSE_UNSPECIFIED'
  | 'ENCRYPT_DECRYPT'
  | 'ASYMMETRIC_SIGN'
  | 'ASYMMETRIC_DECRYPT'
  | 'RAW_ENCRYPT_DECRYPT'
  | 'MAC'
  | 'KEY_ENCAPSULATION'
  | 'AES_WRAPPING';

/** `CryptoKeyVersion.CryptoKeyVersionState`, by name. */
export type CryptoKeyVersionState =
  | 'CRYPTO_KEY_VERSION_STATE_UNSPECIFIED'
  | 'PENDING_GENERATION'
  | 'ENABLED'
  | 'DISABLED'
  | 'DESTROYED'
  | 'DESTROY_SCHEDULED'
  | 'PENDING_IMPORT'
  | 'IMPORT_FAILED'
  | 'GENERATION_FAILED'
  | 'PENDING_EXTERNAL_DESTRUCTION'
  | 'EXTERNAL_DESTRUCTION_FAILED';

/** The algorithm enum has dozens of members; the emulator implements two and names the rest. */
export type CryptoKeyVersionAlgorithm = string;

/** `google.cloud.kms.v1.KeyRing`. */
export interface KeyRingMessage {
  name?: string;
  createTime?: SecondsNanos;
}

/** `google.cloud.kms.v1.CryptoKeyVersionTemplate`. */
export interface CryptoKeyVersionTemplateMessage {
  protectionLevel?: ProtectionLevel;
  algorithm?: CryptoKeyVersionAlgorithm;
}

/** `google.cloud.kms.v1.CryptoKeyVersion`. */
export interface CryptoKeyVersionMessage {
  name?: string;
  state?: CryptoKeyVersionState;
  protectionLevel?: ProtectionLevel;
  algorithm?: CryptoKeyVersionAlgorithm;
  createTime?: SecondsNanos;
  generateTime?: SecondsNanos;
  destroyTime?: SecondsNanos;
  destroyEventTime?: SecondsNanos;
}

/** `google.cloud.kms.v1.CryptoKey`. */
export interface CryptoKeyMessage {
  name?: string;
  primary?: CryptoKeyVersionMessage;
  purpose?: CryptoKeyPurpose;
  createTime?: SecondsNanos;
  nextRotationTime?: SecondsNanos;
  rotationPeriod?: SecondsNanos;
  versionTemplate?: CryptoKeyVersionTemplateMessage;
  labels?: Record<string, string>;
  importOnly?: boolean;
  destroyScheduledDuration?: SecondsNanos;
  cryptoKeyBackend?: string;
}

/** Any request that carries only a resource `name` (the Get* calls, Destroy/RestoreCryptoKeyVersion). */
export interface NameRequest {
  name?: string;
}

/** The fields the ListKeyRings, ListCryptoKeys and ListCryptoKeyVersions requests share. */
export interface ListRequest {
  parent?: string;
  pageSize?: number;
  pageToken?: string;
  filter?: string;
  orderBy?: string;
}

/** `google.cloud.kms.v1.ListKeyRingsResponse`. */
export interface ListKeyRingsResponse {
  keyRings: KeyRingMessage[];
  nextPageToken: string;
  totalSize: number;
}

/** `google.cloud.kms.v1.ListCryptoKeysResponse`. */
export interface ListCryptoKeysResponse {
  cryptoKeys: CryptoKeyMessage[];
  nextPageToken: string;
  totalSize: number;
}

/** `google.cloud.kms.v1.ListCryptoKeyVersionsResponse`. */
export interface ListCryptoKeyVersionsResponse {
  cryptoKeyVersions: CryptoKeyVersionMessage[];
  nextPageToken: string;
  totalSize: number;
}

/** `google.cloud.kms.v1.CreateKeyRingRequest`. */
export interface CreateKeyRingRequest {
  parent?: string;
  keyRingId?: string;
  keyRing?: KeyRingMessage;
}

/** `google.cloud.kms.v1.CreateCryptoKeyRequest`. */
export interface CreateCryptoKeyRequest {
  parent?: string;
  cryptoKeyId?: string;
  cryptoKey?: CryptoKeyMessage;
  skipInitialVersionCreation?: boolean;
}

/** `google.cloud.kms.v1.CreateCryptoKeyVersionRequest`. */
export interface CreateCryptoKeyVersionRequest {
  parent?: string;
  cryptoKeyVersion?: CryptoKeyVersionMessage;
}

/** `google.cloud.kms.v1.UpdateCryptoKeyRequest`. */
export interface UpdateCryptoKeyRequest {
  cryptoKey?: CryptoKeyMessage;
  updateMask?: FieldMask;
}

/** `google.cloud.kms.v1.UpdateCryptoKeyVersionRequest`. */
export interface UpdateCryptoKeyVersionRequest {
  cryptoKeyVersion?: CryptoKeyVersionMessage;
  updateMask?: FieldMask;
}

/** `google.cloud.kms.v1.UpdateCryptoKeyPrimaryVersionRequest`. */
export interface UpdateCryptoKeyPrimaryVersionRequest {
  name?: string;
  cryptoKeyVersionId?: string;
}

/** `google.cloud.kms.v1.GetPublicKeyRequest`. */
export interface GetPublicKeyRequest {
  name?: string;
  publicKeyFormat?:
    'PUBLIC_KEY_FORMAT_UNSPECIFIED' | 'PEM' | 'DER' | 'NIST_PQC' | 'XWING_RAW_BYTES';
}

/** `google.cloud.kms.v1.PublicKey`. */
export interface PublicKeyMessage {
  pem?: string;
  algorithm: CryptoKeyVersionAlgorithm;
  pemCrc32c?: Int64Value;
  name: string;
  protectionLevel: ProtectionLevel;
  publicKeyFormat?: string;
  publicKey?: { data: Buffer; crc32cChecksum: Int64Value };
}

/** `google.cloud.kms.v1.EncryptRequest`. */
export interface EncryptRequest {
  name?: string;
  plaintext?: Buffer;
  additionalAuthenticatedData?: Buffer;
  plaintextCrc32c?: Int64Value;
  additionalAuthenticatedDataCrc32c?: Int64Value;
}

/** `google.cloud.kms.v1.EncryptResponse`. */
export interface EncryptResponse {
  name: string;
  ciphertext: Buffer;
  ciphertextCrc32c: Int64Value;
  verifiedPlaintextCrc32c: boolean;
  verifiedAdditionalAuthenticatedDataCrc32c: boolean;
  protectionLevel: ProtectionLevel;
}

/** `google.cloud.kms.v1.DecryptRequest`. */
export interface DecryptRequest {
  name?: string;
  ciphertext?: Buffer;
  additionalAuthenticatedData?: Buffer;
  ciphertextCrc32c?: Int64Value;
  additionalAuthenticatedDataCrc32c?: Int64Value;
}

/** `google.cloud.kms.v1.DecryptResponse`. */
export interface DecryptResponse {
  plaintext: Buffer;
  plaintextCrc32c: Int64Value;
  usedPrimary: boolean;
  protectionLevel: ProtectionLevel;
}

/** `google.cloud.kms.v1.Digest`. */
export interface DigestMessage {
  sha256?: Buffer;
  sha384?: Buffer;
  sha512?: Buffer;
  externalMu?: Buffer;
}

/** `google.cloud.kms.v1.AsymmetricSignRequest`. */
export interface AsymmetricSignRequest {
  name?: string;
  digest?: DigestMessage;
  digestCrc32c?: Int64Value;
  data?: Buffer;
  dataCrc32c?: Int64Value;
}

/** `google.cloud.kms.v1.AsymmetricSignResponse`. */
export interface AsymmetricSignResponse {
  signature: Buffer;
  signatureCrc32c: Int64Value;
  verifiedDigestCrc32c: boolean;
  name: string;
  verifiedDataCrc32c: boolean;
  protectionLevel: ProtectionLevel;
}

/** `google.iam.v1.Binding` (conditions are refused by the emulator). */
export interface BindingMessage {
  role?: string;
  members?: string[];
  condition?: unknown;
}

/** `google.iam.v1.Policy`. */
export interface PolicyMessage {
  version?: number;
  bindings?: BindingMessage[];
  etag?: Buffer;
}

/** `google.iam.v1.GetIamPolicyRequest`. */
export interface GetIamPolicyRequest {
  resource?: string;
}

/** `google.iam.v1.SetIamPolicyRequest`. */
export interface SetIamPolicyRequest {
  resource?: string;
  policy?: PolicyMessage;
}

/** `google.iam.v1.TestIamPermissionsRequest`. */
export interface TestIamPermissionsRequest {
  resource?: string;
  permissions?: string[];
}

/** `google.iam.v1.TestIamPermissionsResponse`. */
export interface TestIamPermissionsResponse {
  permissions: string[];
}
