/**
 * The KeyManager port and its Cloud KMS adapter. The adapter is the same in production and
 * locally; only the endpoint differs (the project's KMS emulator speaks the same gRPC API).
 * Every call carries CRC32C checksums both ways, as Google recommends for end-to-end integrity.
 */
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { credentials } from '@grpc/grpc-js';
import { crc32c } from '../util/crc32c';
import { InternalError } from '../errors';

export interface KeyManager {
  /** Encrypts with the key's primary version; returns the version used. */
  encrypt(
    keyName: string,
    plaintext: Buffer,
    aad: Buffer,
  ): Promise<{ ciphertext: Buffer; keyVersion: string }>;
  decrypt(keyName: string, ciphertext: Buffer, aad: Buffer): Promise<Buffer>;
  ensureKeyRing(keyRingName: string): Promise<void>;
  /** Creates a symmetric key (idempotent); returns its resource name. */
  ensureSymmetricKey(
    keyRingName: string,
    keyId: string,
    rotationPeriodSeconds: number,
  ): Promise<string>;
  /**
   * Creates an EC P-256 signing key (idempotent); returns its first version's name once that
   * version is ENABLED.
   */
  ensureSigningKey(keyRingName: string, keyId: string): Promise<string>;
  asymmetricSign(keyVersionName: string, sha256Digest: Buffer): Promise<Buffer>;
  getPublicKeyPem(keyVersionName: string): Promise<string>;
}

export type KeyVersionState =
  | 'ENABLED'
  | 'DISABLED'
  | 'DESTROY_SCHEDULED'
  | 'DESTROYED'
  | 'PENDING_GENERATION'
  | 'PENDING_IMPORT'
  | 'IMPORT_FAILED'
  | 'GENERATION_FAILED'
  | 'PENDING_EXTERNAL_DESTRUCTION'
  | 'EXTERNAL_DESTRUCTION_FAILED'
  | 'CRYPTO_KEY_VERSION_STATE_UNSPECIFIED';

export interface KeyVersionInfo {
  name: string;
  state: KeyVersionState;
}

export interface CryptoKeyInfo {
  name: string;
  purpose: string;
  primary: KeyVersionInfo | null;
}

/**
 * Key lifecycle (rotation, CMEK checks, offboarding). A separate port from `KeyManager` so the
 * request path's test doubles need not implement it; `CloudKmsKeyManager` implements both.
 */
export interface KeyVersionManager {
  getCryptoKey(keyName: string): Promise<CryptoKeyInfo>;
  listCryptoKeyVersions(keyName: string): Promise<KeyVersionInfo[]>;
  /**
   * A new version, returned once ENABLED (an asymmetric one is generated first); it does not
   * become primary (as in Cloud KMS).
   */
  createCryptoKeyVersion(keyName: string): Promise<KeyVersionInfo>;
  setPrimaryVersion(keyName: string, versionName: string): Promise<void>;
  disableCryptoKeyVersion(versionName: string): Promise<KeyVersionInfo>;
  /** Schedules destruction (Cloud KMS keeps it restorable for the key's destroy duration). */
  destroyCryptoKeyVersion(versionName: string): Promise<KeyVersionInfo>;
}

export function hasKeyVersionManager(
  keyManager: KeyManager,
): keyManager is KeyManager & KeyVersionManager {
  const candidate = keyManager as Partial<KeyVersionManager>;
  return (
    typeof candidate.listCryptoKeyVersions === 'function' &&
    typeof candidate.destroyCryptoKeyVersion === 'function'
  );
}

/** The lifecycle port of the configured key manager, or an error naming what is missing. */
export function keyVersionManager(keyManager: KeyManager): KeyManager & KeyVersionManager {
  if (!hasKeyVersionManager(keyManager)) {
    throw new InternalError('kms_lifecycle_unsupported', 'the key manager cannot manage versions');
  }
  return keyManager;
}

/** The gRPC status of a failed KMS call (5 NOT_FOUND, 7 PERMISSION_DENIED, 9 FAILED_PRECONDITION...). */
export function kmsStatus(err: unknown): number | undefined {
  return grpcCode(err);
}

/**
 * Why a key cannot be used right now, from the status Cloud KMS answered an Encrypt or
 * Decrypt with: PERMISSION_DENIED when the caller holds no `useToEncrypt`/`useToDecrypt` on
 * the key (a revoked `roles/cloudkms.cryptoKeyEncrypterDecrypter` grant, or a key in a project
 * the caller cannot see: KMS answers "Permission ... denied on resource ... (or it may not
 * exist)" for both, https://cloud.google.com/kms/docs/reference/permissions-and-roles);
 * FAILED_PRECONDITION when the version is not ENABLED (disabled, scheduled for destruction,
 * destroyed: https://cloud.google.com/kms/docs/key-states); NOT_FOUND when the key is gone
 * from a project the caller may see.
 */
export const KEY_UNAVAILABLE_REASONS = [
  'permission_denied',
  'key_not_enabled',
  'not_found',
] as const;
export type KeyUnavailableReason = (typeof KEY_UNAVAILABLE_REASONS)[number];

/**
 * An Encrypt or Decrypt that Cloud KMS refused because of the key's access or state, not the
 * request: retrying cannot help until the key's owner acts. `code` stays the gRPC status, as
 * on the client's own error, so callers that branch on it keep working.
 */
export class KmsKeyUnavailableError extends Error {
  override readonly name = 'KmsKeyUnavailableError';
  constructor(
    readonly keyName: string,
    readonly code: number,
    readonly reason: KeyUnavailableReason,
    message: string,
  ) {
    super(message);
  }
}

const UNAVAILABLE_BY_STATUS: Readonly<Record<number, KeyUnavailableReason>> = {
  5: 'not_found',
  7: 'permission_denied',
  9: 'key_not_enabled',
};

/** The client's error as a KmsKeyUnavailableError when it says the key cannot be used. */
function keyUnavailable(keyName: string, err: unknown): unknown {
  const code = grpcCode(err);
  const reason = code === undefined ? undefined : UNAVAILABLE_BY_STATUS[code];
  if (code === undefined || reason === undefined) return err;
  const details = (err as { details?: unknown }).details;
  return new KmsKeyUnavailableError(
    keyName,
    code,
    reason,
    typeof details === 'string' && details !== '' ? details : `Cloud KMS refused ${keyName}`,
  );
}

/** How long a new asymmetric key version may stay PENDING_GENERATION before we give up. */
const VERSION_READY_TIMEOUT_MS = 120_000;
const VERSION_POLL_FIRST_MS = 100;
const VERSION_POLL_MAX_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class KmsIntegrityError extends InternalError {
  constructor(what: string) {
    super('kms_integrity', `Cloud KMS ${what} failed its CRC32C check`);
  }
}

/** A new key version that did not become ENABLED (still generating at the deadline, or failed). */
export class KmsVersionNotReadyError extends InternalError {
  constructor(versionName: string, state: string) {
    super('kms_version_not_ready', `Cloud KMS version ${versionName} is ${state}, not ENABLED`);
  }
}

/** `http://host:port` (plaintext gRPC, the local emulator) or `https://host[:port]`. */
export function createKmsClient(endpoint?: string): KeyManagementServiceClient {
  if (!endpoint) return new KeyManagementServiceClient();
  const url = new URL(endpoint);
  const secure = url.protocol === 'https:';
  return new KeyManagementServiceClient({
    apiEndpoint: url.hostname,
    port: Number(url.port || (secure ? 443 : 80)),
    ...(secure ? {} : { sslCreds: credentials.createInsecure() }),
  });
}

const int64 = (value: unknown): number =>
  Number((value as { value?: unknown } | null)?.value ?? NaN);
const bytes = (value: unknown): Buffer =>
  typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.from(value as Uint8Array);

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
const ALREADY_EXISTS = 6;

const versionInfo = (version: { name?: string | null; state?: unknown }): KeyVersionInfo => ({
  name: version.name ?? '',
  state: (typeof version.state === 'string'
    ? version.state
    : 'CRYPTO_KEY_VERSION_STATE_UNSPECIFIED') as KeyVersionState,
});

export class CloudKmsKeyManager implements KeyManager, KeyVersionManager {
  constructor(private readonly client: KeyManagementServiceClient) {}

  async encrypt(keyName: string, plaintext: Buffer, aad: Buffer) {
    const [response] = await this.client
      .encrypt({
        name: keyName,
        plaintext,
        additionalAuthenticatedData: aad,
        plaintextCrc32c: { value: crc32c(plaintext) },
        additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
      })
      .catch((err: unknown) => {
        throw keyUnavailable(keyName, err);
      });
    const ciphertext = bytes(response.ciphertext);
    if (
      !response.verifiedPlaintextCrc32c ||
      !response.verifiedAdditionalAuthenticatedDataCrc32c ||
      int64(response.ciphertextCrc32c) !== crc32c(ciphertext)
    ) {
      throw new KmsIntegrityError('encrypt');
    }
    return { ciphertext, keyVersion: response.name ?? keyName };
  }

  async decrypt(keyName: string, ciphertext: Buffer, aad: Buffer) {
    const [response] = await this.client
      .decrypt({
        name: keyName,
        ciphertext,
        additionalAuthenticatedData: aad,
        ciphertextCrc32c: { value: crc32c(ciphertext) },
        additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
      })
      .catch((err: unknown) => {
        throw keyUnavailable(keyName, err);
      });
    const plaintext = bytes(response.plaintext);
    if (int64(response.plaintextCrc32c) !== crc32c(plaintext))
      throw new KmsIntegrityError('decrypt');
    return plaintext;
  }

  async ensureKeyRing(keyRingName: string) {
    const parts = keyRingName.split('/');
    const parent = parts.slice(0, 4).join('/');
    try {
      await this.client.createKeyRing({ parent, keyRingId: parts[5] ?? '', keyRing: {} });
    } catch (err) {
      if (grpcCode(err) !== ALREADY_EXISTS) throw err;
    }
  }

  async ensureSymmetricKey(keyRingName: string, keyId: string, rotationPeriodSeconds: number) {
    const name = `${keyRingName}/cryptoKeys/${keyId}`;
    try {
      const [key] = await this.client.createCryptoKey({
        parent: keyRingName,
        cryptoKeyId: keyId,
        cryptoKey: {
          purpose: 'ENCRYPT_DECRYPT',
          versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION' },
          rotationPeriod: { seconds: rotationPeriodSeconds },
          nextRotationTime: { seconds: Math.floor(Date.now() / 1000) + rotationPeriodSeconds },
        },
      });
      // Symmetric versions start ENABLED (https://cloud.google.com/kms/docs/key-states); a
      // primary still being generated is waited for all the same, so the first Encrypt works.
      if (key.primary?.name) await this.versionReady(versionInfo(key.primary));
    } catch (err) {
      if (grpcCode(err) !== ALREADY_EXISTS) throw err;
    }
    return name;
  }

  async ensureSigningKey(keyRingName: string, keyId: string) {
    const name = `${keyRingName}/cryptoKeys/${keyId}`;
    try {
      await this.client.createCryptoKey({
        parent: keyRingName,
        cryptoKeyId: keyId,
        cryptoKey: {
          purpose: 'ASYMMETRIC_SIGN',
          versionTemplate: { algorithm: 'EC_SIGN_P256_SHA256' },
        },
      });
    } catch (err) {
      if (grpcCode(err) !== ALREADY_EXISTS) throw err;
    }
    // An asymmetric version starts PENDING_GENERATION and may not be used until KMS marks it
    // ENABLED (https://cloud.google.com/kms/docs/key-states): signing before that fails with
    // FAILED_PRECONDITION. Also after ALREADY_EXISTS: a concurrent creator may have just made it.
    const version = `${name}/cryptoKeyVersions/1`;
    await this.versionReady({ name: version, state: 'PENDING_GENERATION' });
    return version;
  }

  /**
   * Resolves once `version` has left PENDING_GENERATION, polling GetCryptoKeyVersion with a
   * growing interval (KMS has no notification for it). Any state but ENABLED afterwards (a
   * failed generation, or a version disabled meanwhile) is an error naming the state.
   */
  private async versionReady(version: KeyVersionInfo): Promise<KeyVersionInfo> {
    const deadline = Date.now() + VERSION_READY_TIMEOUT_MS;
    let current = version;
    let wait = VERSION_POLL_FIRST_MS;
    while (current.state === 'PENDING_GENERATION') {
      if (Date.now() > deadline) throw new KmsVersionNotReadyError(version.name, current.state);
      await sleep(wait);
      wait = Math.min(wait * 2, VERSION_POLL_MAX_MS);
      const [fetched] = await this.client.getCryptoKeyVersion({ name: version.name });
      current = versionInfo(fetched);
    }
    if (current.state !== 'ENABLED') throw new KmsVersionNotReadyError(version.name, current.state);
    return current;
  }

  async asymmetricSign(keyVersionName: string, sha256Digest: Buffer) {
    const [response] = await this.client.asymmetricSign({
      name: keyVersionName,
      digest: { sha256: sha256Digest },
      digestCrc32c: { value: crc32c(sha256Digest) },
    });
    const signature = bytes(response.signature);
    if (!response.verifiedDigestCrc32c || int64(response.signatureCrc32c) !== crc32c(signature)) {
      throw new KmsIntegrityError('asymmetricSign');
    }
    return signature;
  }

  async getPublicKeyPem(keyVersionName: string) {
    const [response] = await this.client.getPublicKey({ name: keyVersionName });
    const pem = response.pem ?? '';
    if (int64(response.pemCrc32c) !== crc32c(Buffer.from(pem))) {
      throw new KmsIntegrityError('getPublicKey');
    }
    return pem;
  }

  async getCryptoKey(keyName: string) {
    const [key] = await this.client.getCryptoKey({ name: keyName });
    return {
      name: key.name ?? keyName,
      purpose: typeof key.purpose === 'string' ? key.purpose : 'CRYPTO_KEY_PURPOSE_UNSPECIFIED',
      primary: key.primary ? versionInfo(key.primary) : null,
    };
  }

  async listCryptoKeyVersions(keyName: string) {
    const versions: KeyVersionInfo[] = [];
    let pageToken: string | undefined;
    do {
      const [page, , response] = await this.client.listCryptoKeyVersions(
        { parent: keyName, pageSize: 1000, ...(pageToken ? { pageToken } : {}) },
        { autoPaginate: false },
      );
      versions.push(...page.map(versionInfo));
      pageToken = response.nextPageToken ?? undefined;
    } while (pageToken);
    return versions;
  }

  async createCryptoKeyVersion(keyName: string) {
    const [version] = await this.client.createCryptoKeyVersion({
      parent: keyName,
      cryptoKeyVersion: {},
    });
    // Made primary and used to encrypt right after (key rotation): wait until it may be.
    return this.versionReady(versionInfo(version));
  }

  async setPrimaryVersion(keyName: string, versionName: string) {
    const id = /\/cryptoKeyVersions\/(\d+)$/.exec(versionName)?.[1];
    if (!id || !versionName.startsWith(`${keyName}/`)) {
      throw new InternalError('kms_bad_version', `${versionName} is not a version of ${keyName}`);
    }
    await this.client.updateCryptoKeyPrimaryVersion({ name: keyName, cryptoKeyVersionId: id });
  }

  async disableCryptoKeyVersion(versionName: string) {
    const [version] = await this.client.updateCryptoKeyVersion({
      cryptoKeyVersion: { name: versionName, state: 'DISABLED' },
      updateMask: { paths: ['state'] },
    });
    return versionInfo(version);
  }

  async destroyCryptoKeyVersion(versionName: string) {
    const [version] = await this.client.destroyCryptoKeyVersion({ name: versionName });
    return versionInfo(version);
  }
}
