import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../../functions/src/errors';
import {
  commitment,
  dataKeyId,
  DecryptionError,
  KeyHierarchy,
  objectAad,
  openBytes,
  sealBytes,
  type ObjectRef,
  type TenantKeyInfo,
} from '../../functions/src/crypto/envelope';
import type { KeyManager } from '../../functions/src/crypto/kms';

/**
 * A test double for the KMS port: one random AES-256-GCM key per key name, `iv | body | tag`
 * ciphertexts, AAD enforced exactly as Cloud KMS does. Counts Decrypt calls.
 */
class InMemoryKeyManager implements KeyManager {
  private readonly keys = new Map<string, Buffer>();
  decrypts = 0;

  private keyFor(keyName: string): Buffer {
    let key = this.keys.get(keyName);
    if (!key) {
      key = randomBytes(32);
      this.keys.set(keyName, key);
    }
    return key;
  }

  encrypt(keyName: string, plaintext: Buffer, aad: Buffer) {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keyFor(keyName), iv);
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Promise.resolve({
      ciphertext: Buffer.concat([iv, body, cipher.getAuthTag()]),
      keyVersion: `${keyName}/cryptoKeyVersions/1`,
    });
  }

  decrypt(keyName: string, ciphertext: Buffer, aad: Buffer): Promise<Buffer> {
    this.decrypts++;
    try {
      const decipher = createDecipheriv(
        'aes-256-gcm',
        this.keyFor(keyName),
        ciphertext.subarray(0, 12),
      );
      decipher.setAAD(aad);
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
      const body = ciphertext.subarray(12, ciphertext.length - 16);
      return Promise.resolve(Buffer.concat([decipher.update(body), decipher.final()]));
    } catch {
      return Promise.reject(new Error('KMS: decryption failed'));
    }
  }

  ensureKeyRing(): Promise<void> {
    return Promise.reject(new Error('not used by these tests'));
  }
  ensureSymmetricKey(): Promise<string> {
    return Promise.reject(new Error('not used by these tests'));
  }
  ensureSigningKey(): Promise<string> {
    return Promise.reject(new Error('not used by these tests'));
  }
  asymmetricSign(): Promise<Buffer> {
    return Promise.reject(new Error('not used by these tests'));
  }
  getPublicKeyPem(): Promise<string> {
    return Promise.reject(new Error('not used by these tests'));
  }
}

const KEY_RING = 'projects/p/locations/europe-west1/keyRings/tenants';

function expectDecryptionError(err: unknown): void {
  expect(err).toBeInstanceOf(DecryptionError);
  expect(err).toBeInstanceOf(AppError);
  expect((err as DecryptionError).code).toBe('decryption_failed');
  expect((err as DecryptionError).status).toBe(500);
}

function expectOpenFails(key: Buffer, aad: Buffer, sealed: Buffer): void {
  let caught: unknown;
  try {
    openBytes(key, aad, sealed);
  } catch (err) {
    caught = err;
  }
  expectDecryptionError(caught);
}

async function expectRejectsWithDecryptionError(promise: Promise<unknown>): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expectDecryptionError(caught);
}

describe('sealBytes / openBytes', () => {
  const key = randomBytes(32);
  const aad = objectAad('tenant-a', { kind: 'document', id: 'doc-1' });
  const plaintext = Buffer.from('Invoice INV-2026-0042, total 148.75 EUR');
  const sealed = sealBytes(key, aad, plaintext);

  it('lays out PVN1 | 12-byte iv | body | 16-byte tag', () => {
    expect(sealed.subarray(0, 4).toString('latin1')).toBe('PVN1');
    expect(sealed.length).toBe(4 + 12 + plaintext.length + 16);
  });

  it('fails on a flipped bit in every single byte (magic, iv, body, tag)', () => {
    for (let i = 0; i < sealed.length; i++) {
      const tampered = Buffer.from(sealed);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      expectOpenFails(key, aad, tampered);
    }
  });

  it('fails under another AAD: other tenant, other object, other kind', () => {
    expectOpenFails(key, objectAad('tenant-b', { kind: 'document', id: 'doc-1' }), sealed);
    expectOpenFails(key, objectAad('tenant-a', { kind: 'document', id: 'doc-2' }), sealed);
    expectOpenFails(key, objectAad('tenant-a', { kind: 'result', id: 'doc-1' }), sealed);
    expectOpenFails(key, Buffer.alloc(0), sealed);
  });

  it('fails under another key', () => {
    expectOpenFails(randomBytes(32), aad, sealed);
  });

  it('fails on truncated input', () => {
    expectOpenFails(key, aad, sealed.subarray(0, sealed.length - 1));
    expectOpenFails(key, aad, sealed.subarray(1));
    expectOpenFails(key, aad, sealed.subarray(0, 4 + 12 + 16));
    expectOpenFails(key, aad, sealed.subarray(0, 4 + 12 + 15));
    expectOpenFails(key, aad, sealed.subarray(0, 4));
    expectOpenFails(key, aad, Buffer.alloc(0));
  });

  it('fails on appended bytes', () => {
    expectOpenFails(key, aad, Buffer.concat([sealed, Buffer.from([0])]));
  });

  it('fails on a wrong magic even when the rest is intact', () => {
    for (const magic of ['PVN2', 'PVN0', 'pvn1', '\0\0\0\0']) {
      expectOpenFails(key, aad, Buffer.concat([Buffer.from(magic, 'latin1'), sealed.subarray(4)]));
    }
  });

  it('names what failed in the message without its content', () => {
    try {
      openBytes(key, aad, sealed.subarray(0, 10), 'document doc-1');
      throw new Error('openBytes accepted a truncated ciphertext');
    } catch (err) {
      expectDecryptionError(err);
      expect((err as Error).message).toBe('document doc-1 could not be decrypted');
    }
  });

  it('round-trips, including an empty plaintext', () => {
    expect(openBytes(key, aad, sealed).equals(plaintext)).toBe(true);
    const empty = sealBytes(key, aad, Buffer.alloc(0));
    expect(empty.length).toBe(32);
    expect(openBytes(key, aad, empty).length).toBe(0);
  });

  it('uses a fresh iv for every seal', () => {
    const again = sealBytes(key, aad, plaintext);
    expect(again.equals(sealed)).toBe(false);
    expect(again.subarray(4, 16).equals(sealed.subarray(4, 16))).toBe(false);
  });

  it('binds tenant, kind and id into the AAD', () => {
    expect(objectAad('t1', { kind: 'result', id: 'r9' }).toString()).toBe(
      'provenant/v1/t1/result/r9',
    );
    expect(dataKeyId({ kind: 'response', id: 'x' })).toBe('response-x');
  });
});

describe('KeyHierarchy', () => {
  let kms: InMemoryKeyManager;
  let clock: number;
  const TTL_MS = 60_000;

  async function tenant(hierarchy: KeyHierarchy, id: string): Promise<TenantKeyInfo> {
    const kekName = `${KEY_RING}/cryptoKeys/${id}`;
    return { id, kekName, wrappingKey: await hierarchy.createWrappingKey(id, kekName) };
  }

  function hierarchy(maxEntries = 100): KeyHierarchy {
    return new KeyHierarchy(kms, TTL_MS, maxEntries, () => clock);
  }

  beforeEach(() => {
    kms = new InMemoryKeyManager();
    clock = 1_000_000;
  });

  describe('data keys are bound to tenant, kind and object', () => {
    const docX: ObjectRef = { kind: 'document', id: 'x' };

    it('opens for the same tenant and object', async () => {
      const keys = hierarchy();
      const a = await tenant(keys, 'tenant-a');
      const { dataKey, wrapped } = await keys.newDataKey(a, docX);
      expect(wrapped.algorithm).toBe('AES-256-GCM');
      expect(dataKey.key.length).toBe(32);
      expect(dataKey.commitmentSecret.length).toBe(32);
      expect(dataKey.key.equals(dataKey.commitmentSecret)).toBe(false);

      const opened = await keys.openDataKey(a, docX, wrapped);
      expect(opened.key.equals(dataKey.key)).toBe(true);
      expect(opened.commitmentSecret.equals(dataKey.commitmentSecret)).toBe(true);
      // The wrapped form never contains the raw key material.
      const raw = Buffer.from(wrapped.wrapped, 'base64');
      expect(raw.includes(dataKey.key)).toBe(false);
      expect(raw.includes(dataKey.commitmentSecret)).toBe(false);
    });

    it('does not open as tenant B', async () => {
      const keys = hierarchy();
      const a = await tenant(keys, 'tenant-a');
      const b = await tenant(keys, 'tenant-b');
      const { wrapped } = await keys.newDataKey(a, docX);
      await expectRejectsWithDecryptionError(keys.openDataKey(b, docX, wrapped));
    });

    it("does not open as tenant B even when B's profile is pointed at A's wrapping key", async () => {
      const keys = hierarchy();
      const a = await tenant(keys, 'tenant-a');
      const { wrapped } = await keys.newDataKey(a, docX);
      // The wrapping key itself is bound to tenant A's id through the KMS AAD.
      const impostor: TenantKeyInfo = { ...a, id: 'tenant-b' };
      await expect(keys.openDataKey(impostor, docX, wrapped)).rejects.toThrow();
    });

    it('does not open as another object or another kind', async () => {
      const keys = hierarchy();
      const a = await tenant(keys, 'tenant-a');
      const { wrapped } = await keys.newDataKey(a, docX);
      await expectRejectsWithDecryptionError(
        keys.openDataKey(a, { kind: 'document', id: 'y' }, wrapped),
      );
      await expectRejectsWithDecryptionError(
        keys.openDataKey(a, { kind: 'response', id: 'x' }, wrapped),
      );
      await expectRejectsWithDecryptionError(
        keys.openDataKey(a, { kind: 'result', id: 'x' }, wrapped),
      );
    });

    it('does not open a tampered wrapped key', async () => {
      const keys = hierarchy();
      const a = await tenant(keys, 'tenant-a');
      const { wrapped } = await keys.newDataKey(a, docX);
      const raw = Buffer.from(wrapped.wrapped, 'base64');
      raw[20] = (raw[20] ?? 0) ^ 0x80;
      await expectRejectsWithDecryptionError(
        keys.openDataKey(a, docX, { ...wrapped, wrapped: raw.toString('base64') }),
      );
    });
  });

  describe('wrapping key cache', () => {
    it('keeps a tenant re-unwrapped after expiry as the most recently used entry', async () => {
      const keys = new KeyHierarchy(kms, 1000, 2, () => clock);
      const a = await tenant(keys, 'a');
      const b = await tenant(keys, 'b');
      const c = await tenant(keys, 'c');
      clock = 0;
      await keys.wrappingKey(a);
      clock = 500;
      await keys.wrappingKey(b);
      clock = 1200; // a expired: unwrapped again, and now the most recently used
      await keys.wrappingKey(a);
      expect(keys.unwraps).toBe(3);
      clock = 1300; // over the bound: b, last used at 500, is the one to go
      await keys.wrappingKey(c);
      expect(keys.unwraps).toBe(4);
      clock = 1400;
      await keys.wrappingKey(a);
      expect(keys.unwraps).toBe(4);
    });

    it('shares one KMS call among concurrent misses for a tenant', async () => {
      const keys = hierarchy();
      const a = await tenant(keys, 'a');
      const results = await Promise.all(Array.from({ length: 100 }, () => keys.wrappingKey(a)));
      expect(keys.unwraps).toBe(1);
      expect(new Set(results.map((k) => k.toString('hex'))).size).toBe(1);
    });

    it('serves 1000 calls within the TTL with exactly one KMS Decrypt', async () => {
      const keys = hierarchy();
      const a = await tenant(keys, 'tenant-a');
      const first = await keys.wrappingKey(a);
      for (let i = 1; i < 1000; i++) {
        clock += 50; // 999 * 50 ms < TTL
        expect((await keys.wrappingKey(a)).equals(first)).toBe(true);
      }
      expect(kms.decrypts).toBe(1);
      expect(keys.unwraps).toBe(1);
    });

    it('unwraps again once the TTL has passed', async () => {
      const keys = hierarchy();
      const a = await tenant(keys, 'tenant-a');
      // A copy: the cached buffer itself is zeroed when its entry expires (see below).
      const first = Buffer.from(await keys.wrappingKey(a));
      clock += TTL_MS - 1;
      await keys.wrappingKey(a);
      expect(keys.unwraps).toBe(1);

      clock += 1; // exactly TTL after the unwrap: expired
      const second = await keys.wrappingKey(a);
      expect(second.equals(first)).toBe(true);
      expect(keys.unwraps).toBe(2);
      expect(kms.decrypts).toBe(2);

      clock += TTL_MS - 1;
      await keys.wrappingKey(a);
      expect(keys.unwraps).toBe(2);
    });

    it('does not cache at all with a zero TTL', async () => {
      const keys = new KeyHierarchy(kms, 0, 10, () => clock);
      const a = await tenant(keys, 'tenant-a');
      await keys.wrappingKey(a);
      await keys.wrappingKey(a);
      expect(keys.unwraps).toBe(2);
    });

    it('evicts the least recently used tenant when maxEntries is exceeded', async () => {
      const keys = hierarchy(2);
      const a = await tenant(keys, 'tenant-a');
      const b = await tenant(keys, 'tenant-b');
      const c = await tenant(keys, 'tenant-c');

      await keys.wrappingKey(a);
      await keys.wrappingKey(b);
      await keys.wrappingKey(a); // a is now more recent than b
      expect(keys.unwraps).toBe(2);

      await keys.wrappingKey(c); // over the bound: b goes
      expect(keys.unwraps).toBe(3);

      await keys.wrappingKey(a);
      await keys.wrappingKey(c);
      expect(keys.unwraps).toBe(3);

      await keys.wrappingKey(b);
      expect(keys.unwraps).toBe(4);
      expect(kms.decrypts).toBe(4);
    });

    it('evict(tenantId) forces a new unwrap for that tenant only', async () => {
      const keys = hierarchy();
      const a = await tenant(keys, 'tenant-a');
      const ab = await tenant(keys, 'tenant-ab'); // shares a prefix with tenant-a
      await keys.wrappingKey(a);
      await keys.wrappingKey(ab);
      expect(keys.unwraps).toBe(2);

      keys.evict('tenant-a');
      await keys.wrappingKey(ab);
      expect(keys.unwraps).toBe(2);
      await keys.wrappingKey(a);
      expect(keys.unwraps).toBe(3);
      expect(kms.decrypts).toBe(3);
    });

    describe('finding 8 (issue 10): forgotten key material is zeroed, not left to the GC', () => {
      const zero = Buffer.alloc(32);

      it('zeroes a tenant key on evict(tenantId), and only that tenant', async () => {
        const keys = hierarchy();
        const a = await tenant(keys, 'tenant-a');
        const b = await tenant(keys, 'tenant-b');
        const keyA = await keys.wrappingKey(a);
        const keyB = await keys.wrappingKey(b);
        keys.evict('tenant-a');
        expect(keyA.equals(zero)).toBe(true);
        expect(keyB.equals(zero)).toBe(false);
        // Unwrapped again, the key is intact (a new buffer).
        expect((await keys.wrappingKey(a)).equals(zero)).toBe(false);
      });

      it('zeroes an expired entry when it is replaced', async () => {
        const keys = hierarchy();
        const a = await tenant(keys, 'tenant-a');
        const expired = await keys.wrappingKey(a);
        clock += TTL_MS;
        const fresh = await keys.wrappingKey(a);
        expect(expired.equals(zero)).toBe(true);
        expect(fresh.equals(zero)).toBe(false);
      });

      it('zeroes the least recently used key pushed out by the bound', async () => {
        const keys = hierarchy(1);
        const a = await tenant(keys, 'tenant-a');
        const b = await tenant(keys, 'tenant-b');
        const keyA = await keys.wrappingKey(a);
        const keyB = await keys.wrappingKey(b);
        expect(keyA.equals(zero)).toBe(true);
        expect(keyB.equals(zero)).toBe(false);
      });

      it('does not zero the buffer concurrent misses share', async () => {
        const keys = hierarchy();
        const a = await tenant(keys, 'tenant-a');
        const all = await Promise.all(Array.from({ length: 5 }, () => keys.wrappingKey(a)));
        for (const key of all) expect(key.equals(zero)).toBe(false);
      });
    });

    it('keys the cache by the wrapped key, so a rotated wrapping key is unwrapped', async () => {
      const keys = hierarchy();
      const a = await tenant(keys, 'tenant-a');
      const before = await keys.wrappingKey(a);
      const rotated: TenantKeyInfo = {
        ...a,
        wrappingKey: await keys.createWrappingKey(a.id, a.kekName),
      };
      const after = await keys.wrappingKey(rotated);
      expect(after.equals(before)).toBe(false);
      expect(keys.unwraps).toBe(2);
    });
  });
});

describe('commitment', () => {
  it('matches HMAC-SHA256 (RFC 4231 test case 2)', () => {
    expect(commitment(Buffer.from('Jefe'), 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('is stable for the same secret and content, whether string or bytes', () => {
    const secret = randomBytes(32);
    const content = 'the raw model response';
    expect(commitment(secret, content)).toBe(commitment(secret, content));
    expect(commitment(secret, Buffer.from(content))).toBe(commitment(secret, content));
  });

  it('differs with a different secret or content', () => {
    const content = 'the raw model response';
    const secret = randomBytes(32);
    expect(commitment(randomBytes(32), content)).not.toBe(commitment(secret, content));
    expect(commitment(secret, `${content}.`)).not.toBe(commitment(secret, content));
  });
});
