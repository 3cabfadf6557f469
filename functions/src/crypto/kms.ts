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
  /** Creates an EC P-256 signing key (idempotent); returns its first version's name. */
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
  /** A new ENABLED version; it does not become primary (as in Cloud KMS). */
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

export class KmsIntegrityError extends InternalError {
  constructor(what: string) {
    super('kms_integrity', `Cloud KMS ${what} failed its CRC32C check`);
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
    const [response] = await this.client.encrypt({
      name: keyName,
      plaintext,
      additionalAuthenticatedData: aad,
      plaintextCrc32c: { value: crc32c(plaintext) },
      additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
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
    const [response] = await this.client.decrypt({
      name: keyName,
      ciphertext,
      additionalAuthenticatedData: aad,
      ciphertextCrc32c: { value: crc32c(ciphertext) },
      additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
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
      await this.client.createCryptoKey({
        parent: keyRingName,
        cryptoKeyId: keyId,
        cryptoKey: {
          purpose: 'ENCRYPT_DECRYPT',
          versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION' },
          rotationPeriod: { seconds: rotationPeriodSeconds },
          nextRotationTime: { seconds: Math.floor(Date.now() / 1000) + rotationPeriodSeconds },
        },
      });
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
    return `${name}/cryptoKeyVersions/1`;
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
    return versionInfo(version);
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
