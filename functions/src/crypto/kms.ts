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

export class CloudKmsKeyManager implements KeyManager {
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
}
