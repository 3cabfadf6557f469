// The KMS emulator, driven only through the official @google-cloud/kms client.
import { createHash, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { credentials, status } from '@grpc/grpc-js';
import { crc32c } from '../../functions/src/util/crc32c';
import { DEFAULT_CALLER } from '../../scripts/local/emulators/kms/iam';
import { startKmsEmulator } from '../../scripts/local/emulators/kms/server';
import { STATE_FILE, type KmsState } from '../../scripts/local/emulators/kms/store';
import type { RunningEmulator } from '../../scripts/local/emulators/running';
import { as, iamRequest, setGrant } from '../support/customer-kms';

const LOCATION = 'projects/provenant-local/locations/europe-west1';
const RING = `${LOCATION}/keyRings/tenants`;
const DAY_SECONDS = 24 * 3600;
/** How long the emulator keeps new asymmetric versions PENDING_GENERATION in these tests. */
const GENERATION_MS = 60_000;

let dataDir: string;
/** Added to the emulator's clock: tests move time forward instead of sleeping through it. */
let clockOffsetMs = 0;
const emulatorOptions = () => ({
  port: 0,
  dataDir,
  now: () => Date.now() + clockOffsetMs,
  asymmetricGenerationMs: GENERATION_MS,
});

/** Runs `fn` with the emulator's clock `ms` ahead, then puts it back. */
async function withClockAhead<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  clockOffsetMs += ms;
  try {
    return await fn();
  } finally {
    clockOffsetMs -= ms;
  }
}

/** Lets a PENDING_GENERATION version finish generating (the next call applies it). */
async function generated(versionName: string): Promise<void> {
  const [version] = await withClockAhead(GENERATION_MS, () =>
    client.getCryptoKeyVersion({ name: versionName }),
  );
  expect(version.state).toBe('ENABLED');
}
let emulator: RunningEmulator;
let client: KeyManagementServiceClient;

function connect(port: number): KeyManagementServiceClient {
  return new KeyManagementServiceClient({
    apiEndpoint: '127.0.0.1',
    port,
    sslCreds: credentials.createInsecure(),
  });
}

async function createSymmetricKey(
  id: string,
  extra: { destroyScheduledDuration?: { seconds: number } } = {},
) {
  const [key] = await client.createCryptoKey({
    parent: RING,
    cryptoKeyId: id,
    cryptoKey: {
      purpose: 'ENCRYPT_DECRYPT',
      versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION' },
      ...extra,
    },
  });
  return key;
}

async function encrypt(name: string, text: string, aad?: string): Promise<Buffer> {
  const [response] = await client.encrypt({
    name,
    plaintext: Buffer.from(text),
    ...(aad === undefined ? {} : { additionalAuthenticatedData: Buffer.from(aad) }),
  });
  return Buffer.from(response.ciphertext as Uint8Array);
}

async function decryptText(name: string, ciphertext: Buffer, aad?: string): Promise<string> {
  const [response] = await client.decrypt({
    name,
    ciphertext,
    ...(aad === undefined ? {} : { additionalAuthenticatedData: Buffer.from(aad) }),
  });
  return Buffer.from(response.plaintext as Uint8Array).toString('utf8');
}

function readState(): KmsState {
  return JSON.parse(readFileSync(join(dataDir, STATE_FILE), 'utf8')) as KmsState;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kms-emulator-'));
  emulator = await startKmsEmulator(emulatorOptions());
  client = connect(emulator.port);
  await client.createKeyRing({ parent: LOCATION, keyRingId: 'tenants', keyRing: {} });
});

afterAll(async () => {
  await client.close();
  await emulator.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('KMS emulator: denials', () => {
  let keyName: string;

  beforeAll(async () => {
    const key = await createSymmetricKey('denials');
    keyName = key.name ?? '';
  });

  it('refuses to decrypt with the wrong additional authenticated data', async () => {
    const ciphertext = await encrypt(keyName, 'tenant secret', 'tenant-a');
    await expect(decryptText(keyName, ciphertext, 'tenant-b')).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: expect.stringContaining('Decryption failed') as unknown,
    });
    await expect(decryptText(keyName, ciphertext)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    expect(await decryptText(keyName, ciphertext, 'tenant-a')).toBe('tenant secret');
  });

  it('refuses tampered or truncated ciphertext', async () => {
    const ciphertext = await encrypt(keyName, 'do not touch');
    for (const index of [ciphertext.length - 1, 20, 0]) {
      const tampered = Buffer.from(ciphertext);
      tampered[index] = (tampered[index] ?? 0) ^ 0x01;
      await expect(decryptText(keyName, tampered)).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
      });
    }
    await expect(decryptText(keyName, ciphertext.subarray(0, 20))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
  });

  it('refuses a ciphertext made under another key', async () => {
    const other = await createSymmetricKey('denials-other');
    const ciphertext = await encrypt(other.name ?? '', 'for the other key');
    await expect(decryptText(keyName, ciphertext)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
  });

  it('rejects checksums that do not match the data', async () => {
    const plaintext = Buffer.from('checksummed');
    await expect(
      client.encrypt({
        name: keyName,
        plaintext,
        plaintextCrc32c: { value: crc32c(plaintext) + 1 },
      }),
    ).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: expect.stringContaining('plaintext_crc32c') as unknown,
    });
    const aad = Buffer.from('context');
    await expect(
      client.encrypt({
        name: keyName,
        plaintext,
        additionalAuthenticatedData: aad,
        additionalAuthenticatedDataCrc32c: { value: 0 },
      }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    const ciphertext = await encrypt(keyName, 'checksummed');
    await expect(
      client.decrypt({
        name: keyName,
        ciphertext,
        ciphertextCrc32c: { value: crc32c(ciphertext) ^ 1 },
      }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('stops decrypting under a version scheduled for destruction while other versions still work', async () => {
    const key = await createSymmetricKey('destroy-one');
    const name = key.name ?? '';
    const underV1 = await encrypt(name, 'old data');
    const [v2] = await client.createCryptoKeyVersion({ parent: name, cryptoKeyVersion: {} });
    await client.updateCryptoKeyPrimaryVersion({ name, cryptoKeyVersionId: '2' });
    const underV2 = await encrypt(name, 'new data');

    const before = Date.now();
    const [destroyed] = await client.destroyCryptoKeyVersion({
      name: `${name}/cryptoKeyVersions/1`,
    });
    expect(destroyed.state).toBe('DESTROY_SCHEDULED');
    const destroyAt = Number(destroyed.destroyTime?.seconds) * 1000;
    expect(destroyAt).toBeGreaterThanOrEqual(
      Math.floor(before / 1000) * 1000 + 30 * DAY_SECONDS * 1000,
    );
    expect(destroyAt).toBeLessThanOrEqual(Date.now() + 30 * DAY_SECONDS * 1000);

    await expect(decryptText(name, underV1)).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      message: expect.stringContaining('DESTROY_SCHEDULED') as unknown,
    });
    expect(await decryptText(name, underV2)).toBe('new data');
    expect(v2.name).toBe(`${name}/cryptoKeyVersions/2`);

    const [restored] = await client.restoreCryptoKeyVersion({
      name: `${name}/cryptoKeyVersions/1`,
    });
    expect(restored.state).toBe('DISABLED');
    expect(restored.destroyTime).toBeFalsy();
    await expect(decryptText(name, underV1)).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
  });

  it('stops encrypting with the key name once its primary is scheduled for destruction', async () => {
    const key = await createSymmetricKey('destroy-primary');
    const name = key.name ?? '';
    await client.destroyCryptoKeyVersion({ name: `${name}/cryptoKeyVersions/1` });
    const [after] = await client.getCryptoKey({ name });
    expect(after.primary?.name).toBe(`${name}/cryptoKeyVersions/1`);
    expect(after.primary?.state).toBe('DESTROY_SCHEDULED');
    await expect(encrypt(name, 'x')).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    await expect(
      client.destroyCryptoKeyVersion({ name: `${name}/cryptoKeyVersions/1` }),
    ).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
  });

  it('has no primary, and cannot encrypt, until a version is created and promoted', async () => {
    const [key] = await client.createCryptoKey({
      parent: RING,
      cryptoKeyId: 'empty',
      cryptoKey: { purpose: 'ENCRYPT_DECRYPT' },
      skipInitialVersionCreation: true,
    });
    const name = key.name ?? '';
    expect(key.primary).toBeFalsy();
    const [none] = await client.listCryptoKeyVersions({ parent: name });
    expect(none).toEqual([]);
    await expect(encrypt(name, 'x')).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    await client.createCryptoKeyVersion({ parent: name, cryptoKeyVersion: {} });
    await expect(encrypt(name, 'x')).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    await client.updateCryptoKeyPrimaryVersion({ name, cryptoKeyVersionId: '1' });
    expect(await decryptText(name, await encrypt(name, 'now it works'))).toBe('now it works');
  });

  it('destroys the key material once the destroy time has passed', async () => {
    // 24 hours is the shortest schedule KMS accepts; the emulator's clock is moved past it.
    const key = await createSymmetricKey('destroy-soon', {
      destroyScheduledDuration: { seconds: DAY_SECONDS },
    });
    const name = key.name ?? '';
    expect(Number(key.destroyScheduledDuration?.seconds)).toBe(DAY_SECONDS);
    const ciphertext = await encrypt(name, 'short-lived');
    const versionName = `${name}/cryptoKeyVersions/1`;
    expect(readState().versions[versionName]?.material).toEqual(expect.any(String));

    await client.destroyCryptoKeyVersion({ name: versionName });
    const [scheduled] = await withClockAhead(DAY_SECONDS * 1000 - 5_000, () =>
      client.getCryptoKeyVersion({ name: versionName }),
    );
    expect(scheduled.state).toBe('DESTROY_SCHEDULED');
    const [version] = await withClockAhead(DAY_SECONDS * 1000 + 1_000, () =>
      client.getCryptoKeyVersion({ name: versionName }),
    );
    expect(version.state).toBe('DESTROYED');
    expect(Number(version.destroyEventTime?.seconds)).toBeGreaterThan(0);
    expect(readState().versions[versionName]?.material).toBeUndefined();
    await expect(decryptText(name, ciphertext)).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      message: expect.stringContaining('DESTROYED') as unknown,
    });
    await expect(client.restoreCryptoKeyVersion({ name: versionName })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
  });

  it('refuses to use a disabled version, for decrypt and for encrypt', async () => {
    const key = await createSymmetricKey('disable-me');
    const name = key.name ?? '';
    const ciphertext = await encrypt(name, 'paused');
    const [disabled] = await client.updateCryptoKeyVersion({
      cryptoKeyVersion: { name: `${name}/cryptoKeyVersions/1`, state: 'DISABLED' },
      updateMask: { paths: ['state'] },
    });
    expect(disabled.state).toBe('DISABLED');
    await expect(decryptText(name, ciphertext)).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      message: expect.stringContaining('DISABLED') as unknown,
    });
    await expect(encrypt(name, 'more')).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });

    await client.updateCryptoKeyVersion({
      cryptoKeyVersion: { name: `${name}/cryptoKeyVersions/1`, state: 'ENABLED' },
      updateMask: { paths: ['state'] },
    });
    expect(await decryptText(name, ciphertext)).toBe('paused');
  });

  it('refuses to encrypt with a signing key and to sign with an encryption key', async () => {
    const [signer] = await client.createCryptoKey({
      parent: RING,
      cryptoKeyId: 'wrong-purpose',
      cryptoKey: {
        purpose: 'ASYMMETRIC_SIGN',
        versionTemplate: { algorithm: 'EC_SIGN_P256_SHA256' },
      },
    });
    await expect(encrypt(signer.name ?? '', 'nope')).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    await expect(
      client.asymmetricSign({
        name: `${keyName}/cryptoKeyVersions/1`,
        digest: { sha256: createHash('sha256').update('x').digest() },
      }),
    ).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
  });

  it('answers NOT_FOUND for unknown resources and INVALID_ARGUMENT for malformed names', async () => {
    await expect(encrypt(`${RING}/cryptoKeys/missing`, 'x')).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
    await expect(client.getKeyRing({ name: `${LOCATION}/keyRings/missing` })).rejects.toMatchObject(
      {
        code: status.NOT_FOUND,
      },
    );
    await expect(
      client.getCryptoKeyVersion({ name: `${keyName}/cryptoKeyVersions/99` }),
    ).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
    await expect(
      client.getCryptoKeyVersion({ name: `${keyName}/cryptoKeyVersions/abc` }),
    ).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    await expect(encrypt('projects/p/keyRings/r/cryptoKeys/k', 'x')).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    await expect(
      client.createCryptoKey({
        parent: RING,
        cryptoKeyId: 'bad id!',
        cryptoKey: { purpose: 'ENCRYPT_DECRYPT' },
      }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('answers ALREADY_EXISTS for a duplicate key ring or key', async () => {
    await expect(
      client.createKeyRing({ parent: LOCATION, keyRingId: 'tenants', keyRing: {} }),
    ).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
    await expect(createSymmetricKey('denials')).rejects.toMatchObject({
      code: status.ALREADY_EXISTS,
    });
  });

  it('answers UNIMPLEMENTED for RPCs the emulator does not provide', async () => {
    await expect(
      client.macSign({ name: `${keyName}/cryptoKeyVersions/1`, data: Buffer.from('x') }),
    ).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
    await expect(client.listImportJobs({ parent: RING })).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
    });
  });
});

describe('KMS emulator: symmetric encryption and rotation', () => {
  it('encrypts and decrypts with verified checksums and reports the version used', async () => {
    const key = await createSymmetricKey('round-trip');
    const name = key.name ?? '';
    expect(key.primary?.name).toBe(`${name}/cryptoKeyVersions/1`);
    expect(key.primary?.state).toBe('ENABLED');
    expect(key.primary?.algorithm).toBe('GOOGLE_SYMMETRIC_ENCRYPTION');
    expect(Number(key.destroyScheduledDuration?.seconds)).toBe(30 * DAY_SECONDS);

    const plaintext = Buffer.from('invoice #4711');
    const aad = Buffer.from('tenant-a');
    const [encrypted] = await client.encrypt({
      name,
      plaintext,
      additionalAuthenticatedData: aad,
      plaintextCrc32c: { value: crc32c(plaintext) },
      additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
    });
    const ciphertext = Buffer.from(encrypted.ciphertext as Uint8Array);
    expect(encrypted.name).toBe(`${name}/cryptoKeyVersions/1`);
    expect(encrypted.verifiedPlaintextCrc32c).toBe(true);
    expect(encrypted.verifiedAdditionalAuthenticatedDataCrc32c).toBe(true);
    expect(Number(encrypted.ciphertextCrc32c?.value)).toBe(crc32c(ciphertext));
    expect(encrypted.protectionLevel).toBe('SOFTWARE');
    expect(ciphertext.includes(plaintext)).toBe(false);

    const [decrypted] = await client.decrypt({
      name,
      ciphertext,
      additionalAuthenticatedData: aad,
      ciphertextCrc32c: { value: crc32c(ciphertext) },
    });
    expect(Buffer.from(decrypted.plaintext as Uint8Array).toString()).toBe('invoice #4711');
    expect(Number(decrypted.plaintextCrc32c?.value)).toBe(crc32c(plaintext));
    expect(decrypted.usedPrimary).toBe(true);

    // Two encryptions of the same plaintext differ: a fresh IV each time.
    const [again] = await client.encrypt({ name, plaintext, additionalAuthenticatedData: aad });
    expect(Buffer.from(again.ciphertext as Uint8Array).equals(ciphertext)).toBe(false);
  });

  it('rotates: a new version becomes primary only when promoted, and old ciphertext still decrypts', async () => {
    const key = await createSymmetricKey('rotating');
    const name = key.name ?? '';
    const old = await encrypt(name, 'before rotation');

    const [v2] = await client.createCryptoKeyVersion({ parent: name, cryptoKeyVersion: {} });
    expect(v2.name).toBe(`${name}/cryptoKeyVersions/2`);
    expect(v2.state).toBe('ENABLED');
    const [unchanged] = await client.getCryptoKey({ name });
    expect(unchanged.primary?.name).toBe(`${name}/cryptoKeyVersions/1`);

    const [rotated] = await client.updateCryptoKeyPrimaryVersion({ name, cryptoKeyVersionId: '2' });
    expect(rotated.primary?.name).toBe(`${name}/cryptoKeyVersions/2`);

    const [fresh] = await client.encrypt({ name, plaintext: Buffer.from('after rotation') });
    expect(fresh.name).toBe(`${name}/cryptoKeyVersions/2`);
    const [oldDecrypted] = await client.decrypt({ name, ciphertext: old });
    expect(Buffer.from(oldDecrypted.plaintext as Uint8Array).toString()).toBe('before rotation');
    expect(oldDecrypted.usedPrimary).toBe(false);
    expect(await decryptText(name, Buffer.from(fresh.ciphertext as Uint8Array))).toBe(
      'after rotation',
    );

    // Encrypting under an explicit, non-primary version is allowed.
    const [pinned] = await client.encrypt({
      name: `${name}/cryptoKeyVersions/1`,
      plaintext: Buffer.from('pinned'),
    });
    expect(pinned.name).toBe(`${name}/cryptoKeyVersions/1`);

    // A disabled version cannot be promoted.
    await client.updateCryptoKeyVersion({
      cryptoKeyVersion: { name: `${name}/cryptoKeyVersions/1`, state: 'DISABLED' },
      updateMask: { paths: ['state'] },
    });
    await expect(
      client.updateCryptoKeyPrimaryVersion({ name, cryptoKeyVersionId: '1' }),
    ).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });

    const [versions] = await client.listCryptoKeyVersions({ parent: name });
    expect(versions.map((v) => [v.name?.split('/').pop(), v.state])).toEqual([
      ['1', 'DISABLED'],
      ['2', 'ENABLED'],
    ]);
    const [enabled] = await client.listCryptoKeyVersions({ parent: name, filter: 'state=ENABLED' });
    expect(enabled.map((v) => v.name)).toEqual([`${name}/cryptoKeyVersions/2`]);
  });

  it('rotates automatically at next_rotation_time and advances it by the rotation period', async () => {
    const nextRotation = Math.ceil(Date.now() / 1000) + 1;
    const [key] = await client.createCryptoKey({
      parent: RING,
      cryptoKeyId: 'auto-rotating',
      cryptoKey: {
        purpose: 'ENCRYPT_DECRYPT',
        rotationPeriod: { seconds: DAY_SECONDS },
        nextRotationTime: { seconds: nextRotation },
      },
    });
    expect(Number(key.rotationPeriod?.seconds)).toBe(DAY_SECONDS);
    expect(key.primary?.name?.endsWith('/cryptoKeyVersions/1')).toBe(true);
    await sleep(nextRotation * 1000 - Date.now() + 200);
    const [rotated] = await client.getCryptoKey({ name: key.name ?? '' });
    expect(rotated.primary?.name?.endsWith('/cryptoKeyVersions/2')).toBe(true);
    expect(Number(rotated.nextRotationTime?.seconds)).toBe(nextRotation + DAY_SECONDS);
  });

  it('updates labels and the rotation schedule through an update mask', async () => {
    const key = await createSymmetricKey('labelled');
    const name = key.name ?? '';
    const next = Math.floor(Date.now() / 1000) + 7 * DAY_SECONDS;
    const [updated] = await client.updateCryptoKey({
      cryptoKey: {
        name,
        labels: { tenant: 'a', env: 'local' },
        rotationPeriod: { seconds: 90 * DAY_SECONDS },
        nextRotationTime: { seconds: next },
      },
      updateMask: { paths: ['labels', 'rotation_period', 'next_rotation_time'] },
    });
    expect(updated.labels).toEqual({ tenant: 'a', env: 'local' });
    expect(Number(updated.rotationPeriod?.seconds)).toBe(90 * DAY_SECONDS);
    expect(Number(updated.nextRotationTime?.seconds)).toBe(next);

    await expect(
      client.updateCryptoKey({
        cryptoKey: { name, rotationPeriod: { seconds: 3600 } },
        updateMask: { paths: ['rotation_period'] },
      }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(
      client.updateCryptoKey({
        cryptoKey: { name, purpose: 'MAC' },
        updateMask: { paths: ['purpose'] },
      }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });

    const [keys] = await client.listCryptoKeys({ parent: RING });
    expect(keys.find((k) => k.name === name)?.labels).toEqual({ tenant: 'a', env: 'local' });
    const [rings] = await client.listKeyRings({ parent: LOCATION });
    expect(rings.map((r) => r.name)).toEqual([RING]);
  });
});

describe('KMS emulator: asymmetric signing', () => {
  it('signs a SHA-256 digest with EC P-256 that node:crypto verifies against GetPublicKey', async () => {
    const [key] = await client.createCryptoKey({
      parent: RING,
      cryptoKeyId: 'signer',
      cryptoKey: {
        purpose: 'ASYMMETRIC_SIGN',
        versionTemplate: { algorithm: 'EC_SIGN_P256_SHA256' },
      },
    });
    expect(key.primary).toBeFalsy();
    const versionName = `${key.name ?? ''}/cryptoKeyVersions/1`;
    await generated(versionName);

    const [publicKey] = await client.getPublicKey({ name: versionName });
    const pem = publicKey.pem ?? '';
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(Number(publicKey.pemCrc32c?.value)).toBe(crc32c(Buffer.from(pem)));
    expect(publicKey.algorithm).toBe('EC_SIGN_P256_SHA256');
    expect(publicKey.name).toBe(versionName);
    expect(publicKey.protectionLevel).toBe('SOFTWARE');

    const message = Buffer.from('audit record 42');
    const digest = createHash('sha256').update(message).digest();
    const [signed] = await client.asymmetricSign({
      name: versionName,
      digest: { sha256: digest },
      digestCrc32c: { value: crc32c(digest) },
    });
    const signature = Buffer.from(signed.signature as Uint8Array);
    expect(signature[0]).toBe(0x30);
    expect(signed.name).toBe(versionName);
    expect(signed.verifiedDigestCrc32c).toBe(true);
    expect(Number(signed.signatureCrc32c?.value)).toBe(crc32c(signature));
    expect(verify('sha256', message, pem, signature)).toBe(true);
    expect(verify('sha256', Buffer.from('audit record 43'), pem, signature)).toBe(false);

    await expect(
      client.asymmetricSign({
        name: versionName,
        digest: { sha256: digest },
        digestCrc32c: { value: 1 },
      }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(
      client.asymmetricSign({ name: versionName, digest: { sha256: digest.subarray(0, 20) } }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});

describe('KMS emulator: persistence', () => {
  it('decrypts and verifies after a restart on the same data folder', async () => {
    const key = await createSymmetricKey('durable');
    const name = key.name ?? '';
    const ciphertext = await encrypt(name, 'survives restarts', 'ctx');
    const signerVersion = `${RING}/cryptoKeys/signer/cryptoKeyVersions/1`;
    const [before] = await client.getPublicKey({ name: signerVersion });

    await client.close();
    await emulator.close();
    emulator = await startKmsEmulator(emulatorOptions());
    client = connect(emulator.port);

    expect(await decryptText(name, ciphertext, 'ctx')).toBe('survives restarts');
    const [after] = await client.getPublicKey({ name: signerVersion });
    expect(after.pem).toBe(before.pem);
    const [reloaded] = await client.getCryptoKey({ name: `${RING}/cryptoKeys/rotating` });
    expect(reloaded.primary?.name).toBe(`${RING}/cryptoKeys/rotating/cryptoKeyVersions/2`);
    // Ids keep counting after a restart rather than reusing a number.
    const [v3] = await client.createCryptoKeyVersion({
      parent: `${RING}/cryptoKeys/rotating`,
      cryptoKeyVersion: {},
    });
    expect(v3.name).toBe(`${RING}/cryptoKeys/rotating/cryptoKeyVersions/3`);
  });
});

describe('KMS emulator: key lifecycles as Cloud KMS documents them', () => {
  it('refuses a destroy scheduled duration under 24 hours or over 120 days with INVALID_ARGUMENT', async () => {
    for (const seconds of [1, DAY_SECONDS - 1, 120 * DAY_SECONDS + 1]) {
      await expect(
        createSymmetricKey(`destroy-duration-${String(seconds)}`, {
          destroyScheduledDuration: { seconds },
        }),
      ).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        message: expect.stringContaining('destroy_scheduled_duration') as unknown,
      });
    }
    const [keys] = await client.listCryptoKeys({ parent: RING });
    expect(keys.filter((k) => k.name?.includes('/destroy-duration-'))).toEqual([]);
    const shortest = await createSymmetricKey('destroy-duration-min', {
      destroyScheduledDuration: { seconds: DAY_SECONDS },
    });
    expect(Number(shortest.destroyScheduledDuration?.seconds)).toBe(DAY_SECONDS);
  });

  it('starts an asymmetric version PENDING_GENERATION and refuses every use until it is ENABLED', async () => {
    const [key] = await client.createCryptoKey({
      parent: RING,
      cryptoKeyId: 'pending-signer',
      cryptoKey: {
        purpose: 'ASYMMETRIC_SIGN',
        versionTemplate: { algorithm: 'EC_SIGN_P256_SHA256' },
      },
    });
    const v1 = `${key.name ?? ''}/cryptoKeyVersions/1`;
    const [pending] = await client.getCryptoKeyVersion({ name: v1 });
    expect(pending.state).toBe('PENDING_GENERATION');
    expect(pending.generateTime).toBeFalsy();
    const digest = createHash('sha256').update('too early').digest();
    await expect(
      client.asymmetricSign({ name: v1, digest: { sha256: digest } }),
    ).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      message: expect.stringContaining('PENDING_GENERATION') as unknown,
    });
    await expect(client.getPublicKey({ name: v1 })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    // "It may not be used, enabled, disabled, or destroyed yet" (key-states docs).
    await expect(client.destroyCryptoKeyVersion({ name: v1 })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    await expect(
      client.updateCryptoKeyVersion({
        cryptoKeyVersion: { name: v1, state: 'DISABLED' },
        updateMask: { paths: ['state'] },
      }),
    ).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });

    await generated(v1);
    const [ready] = await client.getCryptoKeyVersion({ name: v1 });
    expect(ready.state).toBe('ENABLED');
    expect(Number(ready.generateTime?.seconds)).toBeGreaterThan(0);
    const [signed] = await client.asymmetricSign({ name: v1, digest: { sha256: digest } });
    const [publicKey] = await client.getPublicKey({ name: v1 });
    expect(
      verify(
        'sha256',
        Buffer.from('too early'),
        publicKey.pem ?? '',
        signed.signature as Uint8Array,
      ),
    ).toBe(true);

    // A later version of an asymmetric key is generated too, whatever state was asked for.
    const [v2] = await client.createCryptoKeyVersion({
      parent: key.name ?? '',
      cryptoKeyVersion: { state: 'ENABLED' },
    });
    expect(v2.state).toBe('PENDING_GENERATION');
  });

  it('starts a symmetric version ENABLED, usable at once', async () => {
    const key = await createSymmetricKey('symmetric-ready');
    expect(key.primary?.state).toBe('ENABLED');
    const [v2] = await client.createCryptoKeyVersion({
      parent: key.name ?? '',
      cryptoKeyVersion: {},
    });
    expect(v2.state).toBe('ENABLED');
  });
});

describe('KMS emulator: IAM on a customer-managed key', () => {
  const CUSTOMER = 'user:owner@customer.example';
  const STRANGER = 'user:mallory@elsewhere.example';
  const CUSTOMER_LOCATION = 'projects/customer-project/locations/europe-west1';
  const CUSTOMER_RING = `${CUSTOMER_LOCATION}/keyRings/cmek`;
  let keyName: string;

  const setPlatformGrant = (resource: string, granted: boolean) =>
    setGrant(client, CUSTOMER, resource, granted);

  const deniedOn = (permission: string, resource: string) => ({
    code: status.PERMISSION_DENIED,
    message: expect.stringContaining(
      `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`,
    ) as unknown,
  });

  beforeAll(async () => {
    // The customer's project: the customer creates the ring, so the project is theirs.
    await client.createKeyRing(
      { parent: CUSTOMER_LOCATION, keyRingId: 'cmek', keyRing: {} },
      as(CUSTOMER),
    );
    const [key] = await client.createCryptoKey(
      {
        parent: CUSTOMER_RING,
        cryptoKeyId: 'tenant-kek',
        cryptoKey: { purpose: 'ENCRYPT_DECRYPT' },
      },
      as(CUSTOMER),
    );
    keyName = key.name ?? '';
  });

  it('denies the platform a key in a project it cannot see, whether or not the key exists', async () => {
    await expect(encrypt(keyName, 'x')).rejects.toMatchObject(
      deniedOn('cloudkms.cryptoKeyVersions.useToEncrypt', keyName),
    );
    const missing = `${CUSTOMER_RING}/cryptoKeys/missing`;
    // Not NOT_FOUND: a caller without access cannot tell a missing key from a hidden one.
    await expect(encrypt(missing, 'x')).rejects.toMatchObject(
      deniedOn('cloudkms.cryptoKeyVersions.useToEncrypt', missing),
    );
    await expect(client.getCryptoKey({ name: keyName })).rejects.toMatchObject(
      deniedOn('cloudkms.cryptoKeys.get', keyName),
    );
    await expect(
      client.createKeyRing({ parent: CUSTOMER_LOCATION, keyRingId: 'intruder', keyRing: {} }),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it('answers PERMISSION_DENIED once the customer revokes the grant, and serves again once re-granted', async () => {
    await setPlatformGrant(keyName, true);
    const ciphertext = await encrypt(keyName, 'tenant wrapping key', 'aad');
    expect(await decryptText(keyName, ciphertext, 'aad')).toBe('tenant wrapping key');
    // The grant is to use the key, not to manage or even read it.
    await expect(client.getCryptoKey({ name: keyName })).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    await expect(
      client.destroyCryptoKeyVersion({ name: `${keyName}/cryptoKeyVersions/1` }),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });

    await setPlatformGrant(keyName, false);
    await expect(decryptText(keyName, ciphertext, 'aad')).rejects.toMatchObject(
      deniedOn('cloudkms.cryptoKeyVersions.useToDecrypt', keyName),
    );
    await expect(encrypt(keyName, 'more')).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    // The owner still can: the key is fine, only the platform's access is gone.
    const [own] = await client.decrypt(
      { name: keyName, ciphertext, additionalAuthenticatedData: Buffer.from('aad') },
      as(CUSTOMER),
    );
    expect(Buffer.from(own.plaintext as Uint8Array).toString()).toBe('tenant wrapping key');

    await setPlatformGrant(keyName, true);
    expect(await decryptText(keyName, ciphertext, 'aad')).toBe('tenant wrapping key');
  });

  it('applies a grant on the key ring to every key on it', async () => {
    const [other] = await client.createCryptoKey(
      {
        parent: CUSTOMER_RING,
        cryptoKeyId: 'ring-wide',
        cryptoKey: { purpose: 'ENCRYPT_DECRYPT' },
      },
      as(CUSTOMER),
    );
    await expect(encrypt(other.name ?? '', 'x')).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    await setPlatformGrant(CUSTOMER_RING, true);
    await expect(encrypt(other.name ?? '', 'x')).resolves.toBeInstanceOf(Buffer);
    await setPlatformGrant(CUSTOMER_RING, false);
    await expect(encrypt(other.name ?? '', 'x')).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
  });

  it('reports held permissions through TestIamPermissions without denying', async () => {
    await setPlatformGrant(keyName, true);
    const asked = [
      'cloudkms.cryptoKeyVersions.useToEncrypt',
      'cloudkms.cryptoKeyVersions.useToDecrypt',
      'cloudkms.cryptoKeys.get',
    ];
    const [mine] = await client.testIamPermissions(
      iamRequest<'testIamPermissions'>({ resource: keyName, permissions: asked }),
    );
    expect(mine.permissions).toEqual(asked.slice(0, 2));
    const [theirs] = await client.testIamPermissions(
      iamRequest<'testIamPermissions'>({ resource: keyName, permissions: asked }),
      as(STRANGER),
    );
    expect(theirs.permissions).toEqual([]);
  });

  it('refuses a policy change from anyone but the owner, and a stale etag with ABORTED', async () => {
    await expect(
      client.setIamPolicy(
        iamRequest<'setIamPolicy'>({
          resource: keyName,
          policy: { bindings: [{ role: 'roles/owner', members: [STRANGER] }] },
        }),
        as(STRANGER),
      ),
    ).rejects.toMatchObject(deniedOn('cloudkms.cryptoKeys.setIamPolicy', keyName));
    // The platform holds use, not setIamPolicy: it cannot grant itself more.
    await expect(
      client.setIamPolicy(
        iamRequest<'setIamPolicy'>({
          resource: keyName,
          policy: { bindings: [{ role: 'roles/cloudkms.admin', members: [DEFAULT_CALLER] }] },
        }),
      ),
    ).rejects.toMatchObject({ code: status.PERMISSION_DENIED });

    const [before] = await client.getIamPolicy(
      iamRequest<'getIamPolicy'>({ resource: keyName }),
      as(CUSTOMER),
    );
    await setPlatformGrant(keyName, false);
    await expect(
      client.setIamPolicy(
        iamRequest<'setIamPolicy'>({
          resource: keyName,
          policy: { etag: before.etag, bindings: [] },
        }),
        as(CUSTOMER),
      ),
    ).rejects.toMatchObject({ code: status.ABORTED });
    await expect(
      client.setIamPolicy(
        iamRequest<'setIamPolicy'>({
          resource: keyName,
          policy: { bindings: [{ role: 'roles/made.up', members: [DEFAULT_CALLER] }] },
        }),
        as(CUSTOMER),
      ),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
