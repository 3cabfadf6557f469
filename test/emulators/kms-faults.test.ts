// The KMS emulator's fault hook (scripts/local/emulators/kms/faults.ts), seen through the
// official @google-cloud/kms client: queued UNAVAILABLE faults, then normal service.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { credentials, status } from '@grpc/grpc-js';
import {
  startKmsEmulator,
  type RunningKmsEmulator,
} from '../../scripts/local/emulators/kms/server';

const RING = 'projects/provenant-local/locations/europe-west1/keyRings/faults';

let dataDir: string;
let emulator: RunningKmsEmulator;
let client: KeyManagementServiceClient;
let keyName: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kms-faults-'));
  emulator = await startKmsEmulator({ port: 0, dataDir });
  client = new KeyManagementServiceClient({
    apiEndpoint: '127.0.0.1',
    port: emulator.port,
    sslCreds: credentials.createInsecure(),
  });
  const [parent, id] = [RING.split('/keyRings/')[0] ?? '', 'faults'];
  await client.createKeyRing({ parent, keyRingId: id });
  const [key] = await client.createCryptoKey({
    parent: RING,
    cryptoKeyId: 'wrap',
    cryptoKey: { purpose: 'ENCRYPT_DECRYPT' },
  });
  keyName = key.name ?? '';
});

afterAll(async () => {
  await client.close();
  await emulator.close();
  rmSync(dataDir, { recursive: true, force: true });
});

afterEach(async () => {
  await admin('POST', '/admin/reset');
});

async function admin(method: string, path: string, body?: unknown) {
  const response = await fetch(`http://${emulator.adminHost}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function queued(): Promise<{ method?: string; remaining: number }[]> {
  return (await admin('GET', '/admin/faults')).body.faults as { remaining: number }[];
}

/** The client with its own retries off, so a single UNAVAILABLE reaches the caller. */
const NO_RETRY = { retry: { retryCodes: [] as number[] } };

it('a queued unavailable fault fails the next matching call with UNAVAILABLE (14), then serves normally', async () => {
  const [encrypted] = await client.encrypt({ name: keyName, plaintext: Buffer.from('dek') });
  expect(
    (await admin('POST', '/admin/faults', { fault: 'unavailable', method: 'Decrypt' })).status,
  ).toBe(200);

  await expect(
    client.decrypt({ name: keyName, ciphertext: encrypted.ciphertext }, NO_RETRY),
  ).rejects.toMatchObject({
    code: status.UNAVAILABLE,
    details: 'The service is currently unavailable.',
  });
  expect(await queued()).toEqual([]);

  const [decrypted] = await client.decrypt({ name: keyName, ciphertext: encrypted.ciphertext });
  expect(Buffer.from(decrypted.plaintext as Uint8Array).toString()).toBe('dek');
});

it('the client retries UNAVAILABLE by itself: a short outage is invisible to the caller', async () => {
  // Decrypt is `idempotent` in key_management_service_client_config.json: retried on
  // UNAVAILABLE with backoff, so three failed attempts end in a successful fourth.
  const [encrypted] = await client.encrypt({ name: keyName, plaintext: Buffer.from('dek') });
  await admin('POST', '/admin/faults', { fault: 'unavailable', times: 3, method: 'Decrypt' });

  const [decrypted] = await client.decrypt({ name: keyName, ciphertext: encrypted.ciphertext });
  expect(Buffer.from(decrypted.plaintext as Uint8Array).toString()).toBe('dek');
  expect(await queued()).toEqual([]);
});

it('a fault only meets calls of its method and resource', async () => {
  await admin('POST', '/admin/faults', {
    fault: 'unavailable',
    method: 'Encrypt',
    match: 'cryptoKeys/other',
  });
  // Neither another method nor another key spends it.
  await client.getCryptoKey({ name: keyName }, NO_RETRY);
  await client.encrypt({ name: keyName, plaintext: Buffer.from('x') }, NO_RETRY);
  expect(await queued()).toEqual([
    { fault: 'unavailable', remaining: 1, method: 'Encrypt', match: 'cryptoKeys/other' },
  ]);
});

it('refuses a fault it does not know with 400, and queues nothing', async () => {
  for (const body of [
    { fault: 'latency:10' },
    { fault: 'unavailable', times: 0 },
    { fault: 'unavailable', method: 7 },
  ]) {
    expect((await admin('POST', '/admin/faults', body)).status).toBe(400);
  }
  expect(await queued()).toEqual([]);
});
