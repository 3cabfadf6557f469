/**
 * Envelope encryption, three levels deep so that erasure works at each level:
 *   tenant KEK (Cloud KMS; destroying it shreds the tenant)
 *   → tenant wrapping key (random, stored wrapped by the KEK, cached in memory with a TTL)
 *   → per-object data key + commitment secret (random, stored wrapped in `dataKeys`;
 *     deleting that one record shreds one object).
 * AAD binds tenant, object kind and object id at both inner levels, so a ciphertext or a
 * wrapped key moved to another tenant or object does not decrypt.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { AppError } from '../errors';
import type { KeyManager } from './kms';

export const OBJECT_KINDS = ['document', 'response', 'result', 'webhook-secret'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];
export interface ObjectRef {
  kind: ObjectKind;
  id: string;
}

const FORMAT_V1 = Buffer.from('PVN1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A ciphertext that fails authentication: tampered, truncated, or under another key or AAD. */
export class DecryptionError extends AppError {
  override readonly name = 'DecryptionError';
  constructor(what: string) {
    super(500, 'decryption_failed', `${what} could not be decrypted`);
  }
}

export function objectAad(tenantId: string, ref: ObjectRef): Buffer {
  return Buffer.from(`provenant/v1/${tenantId}/${ref.kind}/${ref.id}`);
}

export function wrappingKeyAad(tenantId: string): Buffer {
  return Buffer.from(`provenant/v1/${tenantId}/wrapping-key`);
}

/** AES-256-GCM: `PVN1 | iv | ciphertext | tag`. */
export function sealBytes(key: Buffer, aad: Buffer, plaintext: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([FORMAT_V1, iv, body, cipher.getAuthTag()]);
}

export function openBytes(key: Buffer, aad: Buffer, sealed: Buffer, what = 'ciphertext'): Buffer {
  if (
    sealed.length < FORMAT_V1.length + IV_BYTES + TAG_BYTES ||
    !sealed.subarray(0, 4).equals(FORMAT_V1)
  ) {
    throw new DecryptionError(what);
  }
  const iv = sealed.subarray(4, 4 + IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(4 + IV_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new DecryptionError(what);
  }
}

/**
 * A salted commitment: HMAC-SHA256 under the object's own secret. While the secret exists the
 * platform can show which content went in; once it is erased, nobody can test a guess.
 */
export function commitment(secret: Buffer, content: Buffer | string): string {
  return createHmac('sha256', secret).update(content).digest('hex');
}

export interface WrappedWrappingKey {
  wrapped: string;
  kekVersion: string;
}

export interface TenantKeyInfo {
  id: string;
  kekName: string;
  wrappingKey: WrappedWrappingKey;
}

export interface WrappedDataKey {
  /** base64 of sealBytes(wrappingKey, aad, dataKey | commitmentSecret). */
  wrapped: string;
  algorithm: 'AES-256-GCM';
}

export interface DataKey {
  key: Buffer;
  commitmentSecret: Buffer;
}

/**
 * Unwrapped tenant wrapping keys, bounded in count and age. `unwraps` counts KMS Decrypt calls,
 * which the benchmark reports per thousand extractions.
 */
export class KeyHierarchy {
  private readonly cache = new Map<string, { key: Buffer; expires: number }>();
  private readonly inflight = new Map<string, Promise<Buffer>>();
  unwraps = 0;

  constructor(
    private readonly keyManager: KeyManager,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Makes a new tenant wrapping key, wrapped by the tenant's KEK. */
  async createWrappingKey(tenantId: string, kekName: string): Promise<WrappedWrappingKey> {
    const key = randomBytes(32);
    const { ciphertext, keyVersion } = await this.keyManager.encrypt(
      kekName,
      key,
      wrappingKeyAad(tenantId),
    );
    return { wrapped: ciphertext.toString('base64'), kekVersion: keyVersion };
  }

  async wrappingKey(tenant: TenantKeyInfo): Promise<Buffer> {
    const cacheKey = `${tenant.id}\u0000${tenant.wrappingKey.wrapped}`;
    const hit = this.cache.get(cacheKey);
    // Deleting before every re-insert keeps Map order equal to recency, so eviction drops the
    // least recently used tenant, including one just re-unwrapped after its entry expired.
    this.cache.delete(cacheKey);
    if (hit && hit.expires > this.now()) {
      this.cache.set(cacheKey, hit);
      return hit.key;
    }
    if (hit) hit.key.fill(0);
    // Concurrent misses for one tenant share a single KMS call.
    let pending = this.inflight.get(cacheKey);
    if (!pending) {
      this.unwraps++;
      pending = this.keyManager
        .decrypt(
          tenant.kekName,
          Buffer.from(tenant.wrappingKey.wrapped, 'base64'),
          wrappingKeyAad(tenant.id),
        )
        .finally(() => this.inflight.delete(cacheKey));
      this.inflight.set(cacheKey, pending);
    }
    const key = await pending;
    // Concurrent misses share one buffer: the entry another waiter stored already holds it.
    const current = this.cache.get(cacheKey);
    if (current && current.key !== key) this.drop(cacheKey);
    this.cache.delete(cacheKey);
    this.cache.set(cacheKey, { key, expires: this.now() + this.ttlMs });
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.drop(oldest.value);
    }
    return key;
  }

  /**
   * Forgets a tenant's unwrapped keys (offboarding, rotation, a worker meeting an offboarded
   * tenant) and zeroes them: a forgotten key must not linger in the heap until collected.
   */
  evict(tenantId: string): void {
    for (const key of [...this.cache.keys()])
      if (key.startsWith(`${tenantId}\u0000`)) this.drop(key);
  }

  /**
   * Removes an entry and zeroes its key. Every use of a wrapping key is synchronous after the
   * await that returned it (seal or open one data key), so no caller holds it across a drop.
   */
  private drop(cacheKey: string): void {
    this.cache.get(cacheKey)?.key.fill(0);
    this.cache.delete(cacheKey);
  }

  /**
   * HMAC-SHA256 of `data` under a key derived (HKDF-SHA256) from the tenant's wrapping key for
   * one `purpose`: a fingerprint of tenant content (an idempotent request) that only the holder
   * of the tenant's keys can recompute, so a stored fingerprint cannot confirm a guessed
   * document, and crypto-shredding the tenant makes it meaningless. Stable across KEK rotation,
   * which re-wraps the same wrapping key.
   */
  async tenantMac(tenant: TenantKeyInfo, purpose: string, data: string | Buffer): Promise<string> {
    const wrappingKey = await this.wrappingKey(tenant);
    const macKey = Buffer.from(
      hkdfSync(
        'sha256',
        wrappingKey,
        Buffer.alloc(0),
        `provenant/v1/${tenant.id}/mac/${purpose}`,
        32,
      ),
    );
    try {
      return createHmac('sha256', macKey).update(data).digest('hex');
    } finally {
      macKey.fill(0);
    }
  }

  async newDataKey(
    tenant: TenantKeyInfo,
    ref: ObjectRef,
  ): Promise<{ dataKey: DataKey; wrapped: WrappedDataKey }> {
    const dataKey = { key: randomBytes(32), commitmentSecret: randomBytes(32) };
    const wrappingKey = await this.wrappingKey(tenant);
    const sealed = sealBytes(
      wrappingKey,
      objectAad(tenant.id, ref),
      Buffer.concat([dataKey.key, dataKey.commitmentSecret]),
    );
    return { dataKey, wrapped: { wrapped: sealed.toString('base64'), algorithm: 'AES-256-GCM' } };
  }

  async openDataKey(
    tenant: TenantKeyInfo,
    ref: ObjectRef,
    wrapped: WrappedDataKey,
  ): Promise<DataKey> {
    const wrappingKey = await this.wrappingKey(tenant);
    const raw = openBytes(
      wrappingKey,
      objectAad(tenant.id, ref),
      Buffer.from(wrapped.wrapped, 'base64'),
      `data key ${ref.kind}/${ref.id}`,
    );
    return { key: raw.subarray(0, 32), commitmentSecret: raw.subarray(32, 64) };
  }
}

export function dataKeyId(ref: ObjectRef): string {
  return `${ref.kind}-${ref.id}`;
}
