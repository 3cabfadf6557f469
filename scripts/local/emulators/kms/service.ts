// The Cloud KMS semantics the emulator implements, independent of gRPC: every public method
// takes a request as proto-loader decodes it and returns the response message, or throws a
// KmsError carrying the status code real KMS would answer with.
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
import { crc32c } from '../../../../functions/src/util/crc32c';
import { signP256Digest } from './ecdsa';
import {
  aborted,
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  notFound,
  unimplemented,
} from './errors';
import type {
  AsymmetricSignRequest,
  AsymmetricSignResponse,
  CreateCryptoKeyRequest,
  CreateCryptoKeyVersionRequest,
  CreateKeyRingRequest,
  CryptoKeyMessage,
  CryptoKeyVersionMessage,
  DecryptRequest,
  DecryptResponse,
  EncryptRequest,
  EncryptResponse,
  FieldMask,
  GetIamPolicyRequest,
  GetPublicKeyRequest,
  Int64Value,
  KeyRingMessage,
  ListCryptoKeysResponse,
  ListCryptoKeyVersionsResponse,
  ListKeyRingsResponse,
  ListRequest,
  NameRequest,
  ProtectionLevel,
  PublicKeyMessage,
  PolicyMessage,
  SecondsNanos,
  SetIamPolicyRequest,
  TestIamPermissionsRequest,
  TestIamPermissionsResponse,
  UpdateCryptoKeyPrimaryVersionRequest,
  UpdateCryptoKeyRequest,
  UpdateCryptoKeyVersionRequest,
} from './messages';
import {
  emptyIamState,
  projectOf,
  requirePermission,
  hasPermission,
  ROLE_PERMISSIONS,
  type IamState,
  type StoredPolicy,
} from './iam';
import {
  checkCryptoKeyName,
  checkKeyRingName,
  checkLocationName,
  checkResourceId,
  isVersionName,
  parseVersionName,
  versionName,
} from './names';
import { saveState, type KmsState, type StoredCryptoKey, type StoredVersion } from './store';

const SYMMETRIC = 'GOOGLE_SYMMETRIC_ENCRYPTION';
const EC_P256 = 'EC_SIGN_P256_SHA256';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/**
 * Bounds of `destroy_scheduled_duration`: "The default scheduled for destruction duration is
 * 30 days", and a custom one is 24 hours to 120 days
 * (https://cloud.google.com/kms/docs/destroy-restore; the CryptoKey reference says the same).
 */
const MIN_DESTROY_SCHEDULED_MS = DAY_MS;
const MAX_DESTROY_SCHEDULED_MS = 120 * DAY_MS;
const DEFAULT_DESTROY_SCHEDULED_MS = 30 * DAY_MS;
/** How long an asymmetric version stays PENDING_GENERATION unless the host says otherwise. */
const DEFAULT_GENERATION_MS = 1_000;
/** KMS caps plaintext and additional authenticated data at 64 KiB each. */
const MAX_INPUT_BYTES = 64 * 1024;
const MAX_PAGE_SIZE = 1000;

// Ciphertext layout: magic "KM", format 1, big-endian version id, 12-byte IV, AES-GCM output,
// 16-byte tag. Real KMS ciphertext is opaque too, but likewise names the version inside so
// Decrypt needs only the key name. The header is authenticated along with the caller's AAD.
const MAGIC = Buffer.from('KM');
const FORMAT = 1;
const HEADER_BYTES = MAGIC.length + 1 + 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DECRYPTION_FAILED = "Decryption failed: verify that 'name' refers to the correct CryptoKey.";

/** Dependencies the service needs from its host; injectable so time can be controlled. */
export interface KmsServiceOptions {
  readonly dataDir: string;
  readonly state: KmsState;
  readonly now?: () => number;
  /**
   * How long a new asymmetric version stays PENDING_GENERATION before it becomes ENABLED.
   * Real KMS takes a moment to generate an asymmetric key pair and callers must poll
   * (https://cloud.google.com/kms/docs/key-states); symmetric versions start ENABLED.
   */
  readonly asymmetricGenerationMs?: number;
}

/** The emulated KeyManagementService; it mutates `state` and persists it after every change. */
export class KmsService {
  private readonly dataDir: string;
  private readonly state: KmsState;
  private readonly now: () => number;
  private readonly generationMs: number;

  constructor(options: KmsServiceOptions) {
    this.dataDir = options.dataDir;
    this.state = options.state;
    this.state.iam ??= emptyIamState();
    this.now = options.now ?? Date.now;
    this.generationMs = options.asymmetricGenerationMs ?? DEFAULT_GENERATION_MS;
  }

  private get iam(): IamState {
    return this.state.iam ?? emptyIamState();
  }

  /** PERMISSION_DENIED unless `caller` holds `permission` on `resource` (see iam.ts). */
  private authorize(caller: string, resource: string, permission: string): void {
    requirePermission(this.iam, caller, resource, permission);
  }

  // ---------------------------------------------------------------- time-driven transitions

  /**
   * Applies what KMS does on its own schedule: versions whose destroy time has passed become
   * DESTROYED and lose their key material, and keys whose next rotation time has passed get
   * a new primary version. Called before every request and periodically, so nothing depends
   * on a background job having run.
   */
  settle(): void {
    const now = this.now();
    let changed = false;
    for (const version of Object.values(this.state.versions)) {
      if (version.state === 'PENDING_GENERATION' && version.generateTime <= now) {
        version.state = 'ENABLED';
        changed = true;
      }
      if (
        version.state === 'DESTROY_SCHEDULED' &&
        version.destroyTime !== undefined &&
        version.destroyTime <= now
      ) {
        version.state = 'DESTROYED';
        version.destroyEventTime = version.destroyTime;
        delete version.material;
        changed = true;
      }
    }
    for (const key of Object.values(this.state.cryptoKeys)) {
      if (
        key.purpose !== 'ENCRYPT_DECRYPT' ||
        key.nextRotationTime === undefined ||
        key.nextRotationTime > now
      ) {
        continue;
      }
      const version = this.addVersion(key, 'ENABLED');
      key.primaryVersionId = version.id;
      if (key.rotationPeriodMs === undefined) {
        delete key.nextRotationTime;
      } else {
        // After downtime KMS rotates once, not once per missed period.
        const missed = Math.floor((now - key.nextRotationTime) / key.rotationPeriodMs) + 1;
        key.nextRotationTime += missed * key.rotationPeriodMs;
      }
      changed = true;
    }
    if (changed) this.persist();
  }

  // ---------------------------------------------------------------- key rings

  createKeyRing(request: CreateKeyRingRequest, caller: string): KeyRingMessage {
    const parent = checkLocationName(request.parent);
    const id = checkResourceId(request.keyRingId, 'key_ring_id');
    this.authorize(caller, parent, 'cloudkms.keyRings.create');
    const name = `${parent}/keyRings/${id}`;
    if (this.state.keyRings[name]) throw alreadyExists(`KeyRing ${name} already exists.`);
    const ring = { name, createTime: this.now() };
    this.state.keyRings[name] = ring;
    // The first key ring in a project claims it for its creator (see iam.ts).
    this.iam.projectOwners[projectOf(name)] ??= caller;
    this.persist();
    return { name, createTime: timestamp(ring.createTime) };
  }

  getKeyRing(request: NameRequest, caller: string): KeyRingMessage {
    const name = checkKeyRingName(request.name);
    this.authorize(caller, name, 'cloudkms.keyRings.get');
    const ring = this.state.keyRings[name];
    if (!ring) throw notFound(`KeyRing ${name} not found.`);
    return { name, createTime: timestamp(ring.createTime) };
  }

  listKeyRings(request: ListRequest, caller: string): ListKeyRingsResponse {
    const parent = checkLocationName(request.parent);
    this.authorize(caller, parent, 'cloudkms.keyRings.list');
    const rings = Object.values(this.state.keyRings)
      .filter((ring) => ring.name.startsWith(`${parent}/keyRings/`))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((ring): KeyRingMessage => ({ name: ring.name, createTime: timestamp(ring.createTime) }));
    const filtered = applyFilter(rings, request.filter, { name: (ring) => ring.name ?? '' });
    const page = paginate(filtered, request);
    return { keyRings: page.items, nextPageToken: page.nextPageToken, totalSize: filtered.length };
  }

  // ---------------------------------------------------------------- crypto keys

  createCryptoKey(request: CreateCryptoKeyRequest, caller: string): CryptoKeyMessage {
    const parent = checkKeyRingName(request.parent, 'parent');
    const id = checkResourceId(request.cryptoKeyId, 'crypto_key_id');
    this.authorize(caller, parent, 'cloudkms.cryptoKeys.create');
    if (!this.state.keyRings[parent]) throw notFound(`KeyRing ${parent} not found.`);
    const name = `${parent}/cryptoKeys/${id}`;
    if (this.state.cryptoKeys[name]) throw alreadyExists(`CryptoKey ${name} already exists.`);

    const spec = request.cryptoKey ?? {};
    const purpose = spec.purpose ?? 'CRYPTO_KEY_PURPOSE_UNSPECIFIED';
    if (purpose === 'CRYPTO_KEY_PURPOSE_UNSPECIFIED')
      throw invalidArgument('crypto_key.purpose is required.');
    const algorithm = checkAlgorithm(purpose, spec.versionTemplate?.algorithm);
    const protectionLevel = checkProtectionLevel(spec.versionTemplate?.protectionLevel);
    if (spec.importOnly === true)
      throw unimplemented('The KMS emulator does not support import-only keys.');
    if (spec.cryptoKeyBackend)
      throw unimplemented('The KMS emulator does not support crypto_key_backend.');

    const destroyScheduledDurationMs =
      spec.destroyScheduledDuration === undefined
        ? DEFAULT_DESTROY_SCHEDULED_MS
        : toMillis(spec.destroyScheduledDuration);
    // As real KMS: 24 hours to 120 days. Tests that watch a version reach DESTROYED move the
    // emulator's clock (KmsServiceOptions.now) instead of asking for a shorter duration.
    if (
      destroyScheduledDurationMs < MIN_DESTROY_SCHEDULED_MS ||
      destroyScheduledDurationMs > MAX_DESTROY_SCHEDULED_MS
    ) {
      throw invalidArgument(
        'crypto_key.destroy_scheduled_duration must be at least 24 hours and at most 120 days.',
      );
    }

    const key: StoredCryptoKey = {
      name,
      purpose,
      algorithm,
      protectionLevel,
      createTime: this.now(),
      labels: { ...(spec.labels ?? {}) },
      destroyScheduledDurationMs,
      nextVersionId: 1,
    };
    if (spec.rotationPeriod !== undefined) key.rotationPeriodMs = toMillis(spec.rotationPeriod);
    if (spec.nextRotationTime !== undefined) key.nextRotationTime = toMillis(spec.nextRotationTime);
    checkRotation(key);

    this.state.cryptoKeys[name] = key;
    if (request.skipInitialVersionCreation !== true) {
      const version = this.addVersion(key, initialState(purpose));
      if (purpose === 'ENCRYPT_DECRYPT') key.primaryVersionId = version.id;
    }
    this.persist();
    return this.cryptoKeyMessage(key);
  }

  getCryptoKey(request: NameRequest, caller: string): CryptoKeyMessage {
    const name = checkCryptoKeyName(request.name);
    this.authorize(caller, name, 'cloudkms.cryptoKeys.get');
    return this.cryptoKeyMessage(this.requireKey(name));
  }

  listCryptoKeys(request: ListRequest, caller: string): ListCryptoKeysResponse {
    const parent = checkKeyRingName(request.parent, 'parent');
    this.authorize(caller, parent, 'cloudkms.cryptoKeys.list');
    if (!this.state.keyRings[parent]) throw notFound(`KeyRing ${parent} not found.`);
    const keys = Object.values(this.state.cryptoKeys)
      .filter((key) => key.name.startsWith(`${parent}/cryptoKeys/`))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((key) => this.cryptoKeyMessage(key));
    const filtered = applyFilter(keys, request.filter, {
      name: (key) => key.name ?? '',
      purpose: (key) => key.purpose ?? '',
      primary_state: (key) => key.primary?.state ?? '',
    });
    const page = paginate(filtered, request);
    return {
      cryptoKeys: page.items,
      nextPageToken: page.nextPageToken,
      totalSize: filtered.length,
    };
  }

  updateCryptoKey(request: UpdateCryptoKeyRequest, caller: string): CryptoKeyMessage {
    const update = request.cryptoKey ?? {};
    const name = checkCryptoKeyName(update.name, 'crypto_key.name');
    this.authorize(caller, name, 'cloudkms.cryptoKeys.update');
    const key = this.requireKey(name);
    const paths = maskPaths(request.updateMask);
    const next: StoredCryptoKey = { ...key, labels: { ...key.labels } };
    for (const path of paths) {
      switch (path) {
        case 'labels':
          next.labels = { ...(update.labels ?? {}) };
          break;
        case 'rotation_period':
          if (update.rotationPeriod === undefined) delete next.rotationPeriodMs;
          else next.rotationPeriodMs = toMillis(update.rotationPeriod);
          break;
        case 'next_rotation_time':
          if (update.nextRotationTime === undefined) delete next.nextRotationTime;
          else next.nextRotationTime = toMillis(update.nextRotationTime);
          break;
        case 'version_template':
        case 'version_template.algorithm':
        case 'version_template.protection_level':
        case 'key_access_justifications_policy':
          throw unimplemented(`The KMS emulator cannot update ${path}.`);
        default:
          throw invalidArgument(`update_mask path '${path}' is not updatable on a CryptoKey.`);
      }
    }
    checkRotation(next);
    this.state.cryptoKeys[key.name] = next;
    this.persist();
    return this.cryptoKeyMessage(next);
  }

  updateCryptoKeyPrimaryVersion(
    request: UpdateCryptoKeyPrimaryVersionRequest,
    caller: string,
  ): CryptoKeyMessage {
    const name = checkCryptoKeyName(request.name);
    this.authorize(caller, name, 'cloudkms.cryptoKeys.update');
    const key = this.requireKey(name);
    if (key.purpose !== 'ENCRYPT_DECRYPT') {
      throw failedPrecondition(
        `${key.name} has purpose ${key.purpose}; only ENCRYPT_DECRYPT keys have a primary.`,
      );
    }
    const id = request.cryptoKeyVersionId ?? '';
    if (!/^[1-9][0-9]{0,9}$/.test(id)) {
      throw invalidArgument(`crypto_key_version_id '${id}' is not a valid CryptoKeyVersion id.`);
    }
    const version = this.requireVersion(key.name, Number(id));
    requireEnabled(version);
    key.primaryVersionId = version.id;
    this.persist();
    return this.cryptoKeyMessage(key);
  }

  // ---------------------------------------------------------------- key versions

  createCryptoKeyVersion(
    request: CreateCryptoKeyVersionRequest,
    caller: string,
  ): CryptoKeyVersionMessage {
    const parent = checkCryptoKeyName(request.parent, 'parent');
    this.authorize(caller, parent, 'cloudkms.cryptoKeyVersions.create');
    const key = this.requireKey(parent);
    const requested = request.cryptoKeyVersion?.state ?? 'CRYPTO_KEY_VERSION_STATE_UNSPECIFIED';
    const state = requested === 'CRYPTO_KEY_VERSION_STATE_UNSPECIFIED' ? 'ENABLED' : requested;
    if (state !== 'ENABLED' && state !== 'DISABLED') {
      throw invalidArgument(
        `crypto_key_version.state may only be ENABLED or DISABLED; got ${state}.`,
      );
    }
    // As in KMS, a new version does not become primary; callers rotate with
    // UpdateCryptoKeyPrimaryVersion (only the initial version and scheduled rotation do it).
    // An asymmetric one is generated first, whatever state was asked for.
    const version = this.addVersion(
      key,
      initialState(key.purpose) === 'PENDING_GENERATION' ? 'PENDING_GENERATION' : state,
    );
    this.persist();
    return versionMessage(version);
  }

  getCryptoKeyVersion(request: NameRequest, caller: string): CryptoKeyVersionMessage {
    const { cryptoKey, versionId } = parseVersionName(request.name);
    this.authorize(caller, request.name ?? '', 'cloudkms.cryptoKeyVersions.get');
    return versionMessage(this.requireVersion(this.requireKey(cryptoKey).name, versionId));
  }

  listCryptoKeyVersions(request: ListRequest, caller: string): ListCryptoKeyVersionsResponse {
    const parent = checkCryptoKeyName(request.parent, 'parent');
    this.authorize(caller, parent, 'cloudkms.cryptoKeyVersions.list');
    const key = this.requireKey(parent);
    const versions = Object.values(this.state.versions)
      .filter((version) => version.cryptoKey === key.name)
      .sort((a, b) => a.id - b.id)
      .map(versionMessage);
    const filtered = applyFilter(versions, request.filter, {
      name: (version) => version.name ?? '',
      state: (version) => version.state ?? '',
      algorithm: (version) => version.algorithm ?? '',
      protection_level: (version) => version.protectionLevel ?? '',
    });
    const page = paginate(filtered, request);
    return {
      cryptoKeyVersions: page.items,
      nextPageToken: page.nextPageToken,
      totalSize: filtered.length,
    };
  }

  updateCryptoKeyVersion(
    request: UpdateCryptoKeyVersionRequest,
    caller: string,
  ): CryptoKeyVersionMessage {
    const update = request.cryptoKeyVersion ?? {};
    const { cryptoKey, versionId } = parseVersionName(update.name, 'crypto_key_version.name');
    this.authorize(caller, update.name ?? '', 'cloudkms.cryptoKeyVersions.update');
    const version = this.requireVersion(this.requireKey(cryptoKey).name, versionId);
    for (const path of maskPaths(request.updateMask)) {
      if (path === 'external_protection_level_options') {
        throw unimplemented('The KMS emulator has no EXTERNAL protection level.');
      }
      if (path !== 'state')
        throw invalidArgument(`update_mask path '${path}' is not updatable on a CryptoKeyVersion.`);
    }
    const target = update.state ?? 'CRYPTO_KEY_VERSION_STATE_UNSPECIFIED';
    if (target !== 'ENABLED' && target !== 'DISABLED') {
      throw invalidArgument(
        `crypto_key_version.state may only be set to ENABLED or DISABLED; got ${target}.`,
      );
    }
    if (version.state !== 'ENABLED' && version.state !== 'DISABLED') {
      throw failedPrecondition(
        `${version.name} is in state ${version.state} and cannot be ${target.toLowerCase()}.`,
      );
    }
    version.state = target;
    this.persist();
    return versionMessage(version);
  }

  destroyCryptoKeyVersion(request: NameRequest, caller: string): CryptoKeyVersionMessage {
    const { cryptoKey, versionId } = parseVersionName(request.name);
    this.authorize(caller, request.name ?? '', 'cloudkms.cryptoKeyVersions.destroy');
    const key = this.requireKey(cryptoKey);
    const version = this.requireVersion(key.name, versionId);
    if (version.state !== 'ENABLED' && version.state !== 'DISABLED') {
      throw failedPrecondition(
        `${version.name} is in state ${version.state}; only ENABLED or DISABLED versions can be destroyed.`,
      );
    }
    // KMS lets the primary be scheduled for destruction too; Encrypt with the key name then
    // fails until another version is made primary.
    version.state = 'DESTROY_SCHEDULED';
    version.destroyTime = this.now() + key.destroyScheduledDurationMs;
    this.persist();
    return versionMessage(version);
  }

  restoreCryptoKeyVersion(request: NameRequest, caller: string): CryptoKeyVersionMessage {
    const { cryptoKey, versionId } = parseVersionName(request.name);
    this.authorize(caller, request.name ?? '', 'cloudkms.cryptoKeyVersions.restore');
    const version = this.requireVersion(this.requireKey(cryptoKey).name, versionId);
    if (version.state !== 'DESTROY_SCHEDULED') {
      throw failedPrecondition(
        `${version.name} is in state ${version.state}; only DESTROY_SCHEDULED can be restored.`,
      );
    }
    version.state = 'DISABLED';
    delete version.destroyTime;
    this.persist();
    return versionMessage(version);
  }

  // ---------------------------------------------------------------- cryptographic operations

  encrypt(request: EncryptRequest, caller: string): EncryptResponse {
    const name = request.name ?? '';
    let key: StoredCryptoKey;
    let version: StoredVersion;
    if (isVersionName(name)) {
      const parsed = parseVersionName(name);
      this.authorize(caller, name, 'cloudkms.cryptoKeyVersions.useToEncrypt');
      key = this.requireKey(parsed.cryptoKey);
      requirePurpose(key, 'ENCRYPT_DECRYPT');
      version = this.requireVersion(key.name, parsed.versionId);
    } else {
      this.authorize(caller, checkCryptoKeyName(name), 'cloudkms.cryptoKeyVersions.useToEncrypt');
      key = this.requireKey(name);
      requirePurpose(key, 'ENCRYPT_DECRYPT');
      if (key.primaryVersionId === undefined)
        throw failedPrecondition(`${key.name} has no primary version.`);
      version = this.requireVersion(key.name, key.primaryVersionId);
    }
    const plaintext = request.plaintext ?? Buffer.alloc(0);
    const aad = request.additionalAuthenticatedData ?? Buffer.alloc(0);
    if (plaintext.length === 0) throw invalidArgument('plaintext is required.');
    if (plaintext.length > MAX_INPUT_BYTES)
      throw invalidArgument(`plaintext is larger than ${MAX_INPUT_BYTES} bytes.`);
    if (aad.length > MAX_INPUT_BYTES) {
      throw invalidArgument(
        `additional_authenticated_data is larger than ${MAX_INPUT_BYTES} bytes.`,
      );
    }
    const verifiedPlaintextCrc32c = verifyChecksum(plaintext, request.plaintextCrc32c, 'plaintext');
    const verifiedAadCrc32c = verifyChecksum(
      aad,
      request.additionalAuthenticatedDataCrc32c,
      'additional_authenticated_data',
    );
    requireEnabled(version);

    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeUInt8(FORMAT, MAGIC.length);
    header.writeUInt32BE(version.id, MAGIC.length + 1);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', materialOf(version, 'base64'), iv);
    cipher.setAAD(Buffer.concat([header, aad]));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const ciphertext = Buffer.concat([header, iv, body, cipher.getAuthTag()]);
    return {
      name: version.name,
      ciphertext,
      ciphertextCrc32c: int64(crc32c(ciphertext)),
      verifiedPlaintextCrc32c,
      verifiedAdditionalAuthenticatedDataCrc32c: verifiedAadCrc32c,
      protectionLevel: version.protectionLevel,
    };
  }

  decrypt(request: DecryptRequest, caller: string): DecryptResponse {
    const name = checkCryptoKeyName(request.name);
    this.authorize(caller, name, 'cloudkms.cryptoKeyVersions.useToDecrypt');
    const key = this.requireKey(name);
    requirePurpose(key, 'ENCRYPT_DECRYPT');
    const ciphertext = request.ciphertext ?? Buffer.alloc(0);
    const aad = request.additionalAuthenticatedData ?? Buffer.alloc(0);
    if (ciphertext.length === 0) throw invalidArgument('ciphertext is required.');
    verifyChecksum(ciphertext, request.ciphertextCrc32c, 'ciphertext');
    verifyChecksum(aad, request.additionalAuthenticatedDataCrc32c, 'additional_authenticated_data');

    const header = ciphertext.subarray(0, HEADER_BYTES);
    if (
      ciphertext.length < HEADER_BYTES + IV_BYTES + TAG_BYTES ||
      !header.subarray(0, MAGIC.length).equals(MAGIC) ||
      header.readUInt8(MAGIC.length) !== FORMAT
    ) {
      throw invalidArgument(DECRYPTION_FAILED);
    }
    const version =
      this.state.versions[versionName(key.name, header.readUInt32BE(MAGIC.length + 1))];
    if (!version) throw invalidArgument(DECRYPTION_FAILED);
    requireEnabled(version);

    const iv = ciphertext.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
    const body = ciphertext.subarray(HEADER_BYTES + IV_BYTES, ciphertext.length - TAG_BYTES);
    const tag = ciphertext.subarray(ciphertext.length - TAG_BYTES);
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', materialOf(version, 'base64'), iv);
      decipher.setAAD(Buffer.concat([header, aad]));
      decipher.setAuthTag(tag);
      plaintext = Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw invalidArgument(DECRYPTION_FAILED);
    }
    return {
      plaintext,
      plaintextCrc32c: int64(crc32c(plaintext)),
      usedPrimary: key.primaryVersionId === version.id,
      protectionLevel: version.protectionLevel,
    };
  }

  asymmetricSign(request: AsymmetricSignRequest, caller: string): AsymmetricSignResponse {
    const { cryptoKey, versionId } = parseVersionName(request.name);
    this.authorize(caller, request.name ?? '', 'cloudkms.cryptoKeyVersions.useToSign');
    const key = this.requireKey(cryptoKey);
    requirePurpose(key, 'ASYMMETRIC_SIGN');
    const version = this.requireVersion(key.name, versionId);
    if (request.data !== undefined && request.data.length > 0) {
      throw invalidArgument(
        `${version.algorithm} signs a digest; send digest.sha256 instead of data.`,
      );
    }
    const digest = request.digest?.sha256;
    if (digest?.length !== 32) {
      throw invalidArgument(
        `${version.algorithm} requires digest.sha256 holding a 32-byte SHA-256 digest.`,
      );
    }
    const verifiedDigestCrc32c = verifyChecksum(digest, request.digestCrc32c, 'digest');
    requireEnabled(version);
    const signature = signP256Digest(
      createPrivateKey(materialOf(version, 'utf8').toString('utf8')),
      digest,
    );
    return {
      signature,
      signatureCrc32c: int64(crc32c(signature)),
      verifiedDigestCrc32c,
      name: version.name,
      verifiedDataCrc32c: false,
      protectionLevel: version.protectionLevel,
    };
  }

  getPublicKey(request: GetPublicKeyRequest, caller: string): PublicKeyMessage {
    const { cryptoKey, versionId } = parseVersionName(request.name);
    this.authorize(caller, request.name ?? '', 'cloudkms.cryptoKeyVersions.viewPublicKey');
    const key = this.requireKey(cryptoKey);
    if (key.purpose !== 'ASYMMETRIC_SIGN' && key.purpose !== 'ASYMMETRIC_DECRYPT') {
      throw failedPrecondition(`${key.name} has purpose ${key.purpose}, which has no public key.`);
    }
    const version = this.requireVersion(key.name, versionId);
    requireEnabled(version);
    const publicKey = createPublicKey(materialOf(version, 'utf8').toString('utf8'));
    const format = request.publicKeyFormat ?? 'PUBLIC_KEY_FORMAT_UNSPECIFIED';
    const base = {
      algorithm: version.algorithm,
      name: version.name,
      protectionLevel: version.protectionLevel,
    };
    if (format === 'PUBLIC_KEY_FORMAT_UNSPECIFIED' || format === 'PEM') {
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const message: PublicKeyMessage = {
        ...base,
        pem,
        pemCrc32c: int64(crc32c(Buffer.from(pem))),
      };
      if (format === 'PEM') {
        message.publicKeyFormat = 'PEM';
        message.publicKey = {
          data: Buffer.from(pem),
          crc32cChecksum: int64(crc32c(Buffer.from(pem))),
        };
      }
      return message;
    }
    if (format === 'DER') {
      const der = publicKey.export({ type: 'spki', format: 'der' });
      return {
        ...base,
        publicKeyFormat: 'DER',
        publicKey: { data: der, crc32cChecksum: int64(crc32c(der)) },
      };
    }
    throw invalidArgument(`public_key_format ${format} does not apply to ${version.algorithm}.`);
  }

  // ---------------------------------------------------------------- IAM (google.iam.v1.IAMPolicy)

  getIamPolicy(request: GetIamPolicyRequest, caller: string): PolicyMessage {
    const { resource, kind } = this.policyResource(request.resource);
    this.authorize(caller, resource, `cloudkms.${kind}.getIamPolicy`);
    this.requirePolicyResource(resource, kind);
    return policyMessage(this.iam.policies[resource]);
  }

  /**
   * Replaces the resource's policy, as IAM does: the whole policy, guarded by its etag (a
   * stale etag is ABORTED, https://cloud.google.com/iam/docs/policies#etag). Removing a
   * member's binding revokes its access at once: the next call it makes is denied.
   */
  setIamPolicy(request: SetIamPolicyRequest, caller: string): PolicyMessage {
    const { resource, kind } = this.policyResource(request.resource);
    this.authorize(caller, resource, `cloudkms.${kind}.setIamPolicy`);
    this.requirePolicyResource(resource, kind);
    const current = this.iam.policies[resource];
    const sent = request.policy ?? {};
    if (sent.etag !== undefined && sent.etag.length > 0) {
      if (!sent.etag.equals(etagBytes(current?.etag ?? 0))) {
        throw aborted(
          'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
        );
      }
    }
    const bindings = (sent.bindings ?? []).map((binding) => {
      const role = binding.role ?? '';
      if (ROLE_PERMISSIONS[role] === undefined) {
        throw invalidArgument(`Role ${role} is not supported for this resource.`);
      }
      if (binding.condition !== undefined) {
        throw unimplemented('The KMS emulator does not support IAM conditions.');
      }
      const members = binding.members ?? [];
      for (const member of members) {
        if (!/^(user|serviceAccount|group|domain):\S+$/.test(member)) {
          throw invalidArgument(`Invalid member '${member}' in the policy.`);
        }
      }
      return { role, members: [...members] };
    });
    const next: StoredPolicy = {
      version: 1,
      etag: (current?.etag ?? 0) + 1,
      bindings: bindings.filter((binding) => binding.members.length > 0),
    };
    this.iam.policies[resource] = next;
    this.persist();
    return policyMessage(next);
  }

  /** The subset of the asked permissions the caller holds; never denied, as in IAM. */
  testIamPermissions(
    request: TestIamPermissionsRequest,
    caller: string,
  ): TestIamPermissionsResponse {
    const { resource } = this.policyResource(request.resource);
    return {
      permissions: (request.permissions ?? []).filter((permission) =>
        hasPermission(this.iam, caller, resource, permission),
      ),
    };
  }

  // ---------------------------------------------------------------- internals

  /** Key rings and keys hold policies; versions do not (access is managed per key). */
  private policyResource(resource: string | undefined): {
    resource: string;
    kind: 'keyRings' | 'cryptoKeys';
  } {
    const name = resource ?? '';
    if (/\/cryptoKeys\/[^/]+$/.test(name)) {
      return { resource: checkCryptoKeyName(name, 'resource'), kind: 'cryptoKeys' };
    }
    return { resource: checkKeyRingName(name, 'resource'), kind: 'keyRings' };
  }

  private requirePolicyResource(resource: string, kind: 'keyRings' | 'cryptoKeys'): void {
    if (kind === 'cryptoKeys') this.requireKey(resource);
    else if (!this.state.keyRings[resource]) throw notFound(`KeyRing ${resource} not found.`);
  }

  private persist(): void {
    saveState(this.dataDir, this.state);
  }

  private requireKey(name: string): StoredCryptoKey {
    const key = this.state.cryptoKeys[name];
    if (!key) throw notFound(`CryptoKey ${name} not found.`);
    return key;
  }

  private requireVersion(cryptoKey: string, id: number): StoredVersion {
    const name = versionName(cryptoKey, id);
    const version = this.state.versions[name];
    if (!version) throw notFound(`CryptoKeyVersion ${name} not found.`);
    return version;
  }

  private addVersion(
    key: StoredCryptoKey,
    state: 'ENABLED' | 'DISABLED' | 'PENDING_GENERATION',
  ): StoredVersion {
    const id = key.nextVersionId;
    key.nextVersionId += 1;
    const now = this.now();
    const version: StoredVersion = {
      name: versionName(key.name, id),
      cryptoKey: key.name,
      id,
      state,
      algorithm: key.algorithm,
      protectionLevel: key.protectionLevel,
      createTime: now,
      // A pending version becomes ENABLED in settle() once its generate time has come.
      generateTime: state === 'PENDING_GENERATION' ? now + this.generationMs : now,
      material: generateMaterial(key.algorithm),
    };
    this.state.versions[version.name] = version;
    return version;
  }

  private cryptoKeyMessage(key: StoredCryptoKey): CryptoKeyMessage {
    const message: CryptoKeyMessage = {
      name: key.name,
      purpose: key.purpose,
      createTime: timestamp(key.createTime),
      versionTemplate: { algorithm: key.algorithm, protectionLevel: key.protectionLevel },
      labels: { ...key.labels },
      destroyScheduledDuration: duration(key.destroyScheduledDurationMs),
    };
    if (key.purpose === 'ENCRYPT_DECRYPT' && key.primaryVersionId !== undefined) {
      const primary = this.state.versions[versionName(key.name, key.primaryVersionId)];
      if (primary) message.primary = versionMessage(primary);
    }
    if (key.rotationPeriodMs !== undefined) message.rotationPeriod = duration(key.rotationPeriodMs);
    if (key.nextRotationTime !== undefined)
      message.nextRotationTime = timestamp(key.nextRotationTime);
    return message;
  }
}

// ------------------------------------------------------------------ helpers

function generateMaterial(algorithm: string): string {
  if (algorithm === SYMMETRIC) return randomBytes(32).toString('base64');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function materialOf(version: StoredVersion, encoding: 'base64' | 'utf8'): Buffer {
  if (version.material === undefined) {
    // Only a DESTROYED version has no material, and callers reject non-ENABLED versions first.
    throw failedPrecondition(`${version.name} has no key material (state ${version.state}).`);
  }
  return Buffer.from(version.material, encoding);
}

/** Symmetric versions start ENABLED, asymmetric ones PENDING_GENERATION (key-states docs). */
function initialState(purpose: StoredCryptoKey['purpose']): 'ENABLED' | 'PENDING_GENERATION' {
  return purpose === 'ASYMMETRIC_SIGN' || purpose === 'ASYMMETRIC_DECRYPT'
    ? 'PENDING_GENERATION'
    : 'ENABLED';
}

function requirePurpose(key: StoredCryptoKey, purpose: StoredCryptoKey['purpose']): void {
  if (key.purpose !== purpose) {
    throw failedPrecondition(
      `${key.name} has purpose ${key.purpose}; this operation requires ${purpose}.`,
    );
  }
}

function requireEnabled(version: StoredVersion): void {
  if (version.state !== 'ENABLED') {
    throw failedPrecondition(`${version.name} is not enabled, current state is: ${version.state}.`);
  }
}

function checkAlgorithm(
  purpose: StoredCryptoKey['purpose'],
  requested: string | undefined,
): string {
  const algorithm =
    requested === undefined || requested === 'CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED'
      ? undefined
      : requested;
  switch (purpose) {
    case 'ENCRYPT_DECRYPT':
      if (algorithm === undefined || algorithm === SYMMETRIC) return SYMMETRIC;
      if (algorithm === 'EXTERNAL_SYMMETRIC_ENCRYPTION') {
        throw unimplemented('The KMS emulator does not support EXTERNAL_SYMMETRIC_ENCRYPTION.');
      }
      throw invalidArgument(`Algorithm ${algorithm} is not valid for purpose ENCRYPT_DECRYPT.`);
    case 'ASYMMETRIC_SIGN':
      if (algorithm === EC_P256) return EC_P256;
      if (algorithm === undefined)
        throw invalidArgument('crypto_key.version_template.algorithm is required.');
      if (/_SIGN_/.test(algorithm)) {
        throw unimplemented(
          `The KMS emulator supports only ${EC_P256} for ASYMMETRIC_SIGN, not ${algorithm}.`,
        );
      }
      throw invalidArgument(`Algorithm ${algorithm} is not valid for purpose ASYMMETRIC_SIGN.`);
    default:
      throw unimplemented(
        `The KMS emulator supports purposes ENCRYPT_DECRYPT and ASYMMETRIC_SIGN, not ${purpose as string}.`,
      );
  }
}

function checkProtectionLevel(requested: ProtectionLevel | undefined): ProtectionLevel {
  if (requested === undefined || requested === 'PROTECTION_LEVEL_UNSPECIFIED') return 'SOFTWARE';
  // HSM keys behave like SOFTWARE ones here; the level is recorded so callers see what they asked for.
  if (requested === 'SOFTWARE' || requested === 'HSM') return requested;
  throw unimplemented(`The KMS emulator does not support protection level ${requested}.`);
}

function checkRotation(key: StoredCryptoKey): void {
  const hasSchedule = key.rotationPeriodMs !== undefined || key.nextRotationTime !== undefined;
  if (hasSchedule && key.purpose !== 'ENCRYPT_DECRYPT') {
    throw invalidArgument('Only ENCRYPT_DECRYPT keys support automatic rotation.');
  }
  if (key.rotationPeriodMs !== undefined) {
    if (key.nextRotationTime === undefined) {
      throw invalidArgument('next_rotation_time must be set when rotation_period is set.');
    }
    if (key.rotationPeriodMs < DAY_MS || key.rotationPeriodMs > 876_000 * HOUR_MS) {
      throw invalidArgument('rotation_period must be at least 24 hours and at most 876,000 hours.');
    }
  }
}

/** Field-mask paths in proto (snake_case) form; clients send either spelling. */
function maskPaths(mask: FieldMask | undefined): string[] {
  const paths = (mask?.paths ?? []).map((path) =>
    path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
  );
  if (paths.length === 0) throw invalidArgument('update_mask is required.');
  return paths;
}

function verifyChecksum(data: Buffer, expected: Int64Value | undefined, field: string): boolean {
  if (expected === undefined) return false;
  if (BigInt(expected.value ?? 0) !== BigInt(crc32c(data))) {
    throw invalidArgument(
      `The checksum in field ${field}_crc32c did not match the data in field ${field}.`,
    );
  }
  return true;
}

function int64(value: number): Int64Value {
  return { value: String(value) };
}

function timestamp(ms: number): SecondsNanos {
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

function duration(ms: number): SecondsNanos {
  return timestamp(ms);
}

function toMillis(value: SecondsNanos): number {
  return Number(value.seconds ?? 0) * 1000 + Math.trunc((value.nanos ?? 0) / 1_000_000);
}

/**
 * The subset of AIP-160 filters KMS users write in practice: `field=VALUE`, `field:VALUE` or
 * `field!=VALUE` terms joined by AND. Anything else is rejected rather than ignored, so a
 * filter the emulator does not understand never silently returns everything.
 */
function applyFilter<T>(
  items: T[],
  filter: string | undefined,
  fields: Record<string, (item: T) => string>,
): T[] {
  if (filter === undefined || filter.trim() === '') return items;
  const terms = filter.split(/\s+AND\s+/).map((term) => {
    const match = /^\s*([a-zA-Z_.]+)\s*(!=|=|:)\s*"?([^"\s]*)"?\s*$/.exec(term);
    const field = match?.[1]?.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const read = field === undefined ? undefined : fields[field];
    if (!match || !read) throw invalidArgument(`Unsupported filter '${filter}'.`);
    const operator = match[2];
    const value = match[3] ?? '';
    return (item: T): boolean => (operator === '!=' ? read(item) !== value : read(item) === value);
  });
  return items.filter((item) => terms.every((term) => term(item)));
}

function paginate<T>(items: T[], request: ListRequest): { items: T[]; nextPageToken: string } {
  const pageSize = request.pageSize ?? 0;
  if (pageSize < 0) throw invalidArgument('page_size must not be negative.');
  let offset = 0;
  if (request.pageToken) {
    const decoded = /^offset:(\d+)$/.exec(
      Buffer.from(request.pageToken, 'base64url').toString('utf8'),
    );
    if (!decoded?.[1]) throw invalidArgument('page_token is invalid.');
    offset = Number(decoded[1]);
  }
  const size = Math.min(pageSize === 0 ? MAX_PAGE_SIZE : pageSize, MAX_PAGE_SIZE);
  const end = offset + size;
  return {
    items: items.slice(offset, end),
    nextPageToken: end < items.length ? Buffer.from(`offset:${end}`).toString('base64url') : '',
  };
}

function versionMessage(version: StoredVersion): CryptoKeyVersionMessage {
  const message: CryptoKeyVersionMessage = {
    name: version.name,
    state: version.state,
    protectionLevel: version.protectionLevel,
    algorithm: version.algorithm,
    createTime: timestamp(version.createTime),
  };
  // generate_time is "output only: the time this version's key material was generated".
  if (version.state !== 'PENDING_GENERATION')
    message.generateTime = timestamp(version.generateTime);
  if (version.destroyTime !== undefined) message.destroyTime = timestamp(version.destroyTime);
  if (version.destroyEventTime !== undefined)
    message.destroyEventTime = timestamp(version.destroyEventTime);
  return message;
}

function etagBytes(etag: number): Buffer {
  return Buffer.from(`emulator-policy-${String(etag)}`);
}

function policyMessage(policy: StoredPolicy | undefined): PolicyMessage {
  return {
    version: policy?.version ?? 1,
    bindings: (policy?.bindings ?? []).map((binding) => ({
      role: binding.role,
      members: [...binding.members],
    })),
    etag: etagBytes(policy?.etag ?? 0),
  };
}
