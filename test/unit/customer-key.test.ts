// How a customer-managed key's refusal is told apart from every other failure, and how the
// KMS adapter waits for a new asymmetric version: pure, with the KMS client stubbed at its
// method boundary (the emulator tests and keys-cmek drive the real client end to end).
import type { KeyManagementServiceClient } from '@google-cloud/kms';
import { wrappingKeyAad } from '../../functions/src/crypto/envelope';
import {
  CloudKmsKeyManager,
  KmsKeyUnavailableError,
  KmsVersionNotReadyError,
  type KeyManager,
} from '../../functions/src/crypto/kms';
import {
  confirmCustomerKey,
  customerKeyFailure,
  type CustomerKeyTenant,
} from '../../functions/src/extraction/customer-key';

const KEK = 'projects/customer/locations/eu/keyRings/r/cryptoKeys/k';
const tenant = (kekManagedBy: CustomerKeyTenant['kekManagedBy']): CustomerKeyTenant => ({
  id: 't1',
  kekName: KEK,
  wrappingKey: {
    wrapped: Buffer.from('wrapped').toString('base64'),
    kekVersion: `${KEK}/cryptoKeyVersions/1`,
  },
  kekManagedBy,
});
const refusal = (reason: KmsKeyUnavailableError['reason'], keyName = KEK) =>
  new KmsKeyUnavailableError(keyName, reason === 'permission_denied' ? 7 : 9, reason, 'refused');

/** A KMS client with only the given methods, as the adapter calls them. */
function stubClient(methods: Record<string, (...args: unknown[]) => Promise<unknown>>) {
  return new CloudKmsKeyManager(methods as unknown as KeyManagementServiceClient);
}

describe('customerKeyFailure', () => {
  it.each([
    ['permission_denied', 'roles/cloudkms.cryptoKeyEncrypterDecrypter'],
    ['key_not_enabled', 'disabled'],
  ] as const)(
    'makes %s on the tenant’s own customer key a terminal customer_key_unavailable',
    (reason, advice) => {
      const failure = customerKeyFailure(tenant('customer'), 'x1', refusal(reason));
      expect(failure?.code).toBe('customer_key_unavailable');
      expect(failure?.message).toContain(reason);
      expect(failure?.message).toContain(advice);
    },
  );

  it('leaves every other failure to the usual retries', () => {
    // A platform-managed key: our own IAM or state, for an operator to fix, not the customer.
    expect(
      customerKeyFailure(tenant('platform'), 'x1', refusal('permission_denied')),
    ).toBeUndefined();
    expect(
      customerKeyFailure(tenant(undefined), 'x1', refusal('permission_denied')),
    ).toBeUndefined();
    // Another key than the tenant's KEK.
    expect(
      customerKeyFailure(tenant('customer'), 'x1', refusal('permission_denied', `${KEK}-other`)),
    ).toBeUndefined();
    // Firestore answers with the same gRPC codes (7, 9): never mistaken for the key.
    const firestoreLike = Object.assign(new Error('9 FAILED_PRECONDITION: index'), { code: 9 });
    expect(customerKeyFailure(tenant('customer'), 'x1', firestoreLike)).toBeUndefined();
  });
});

describe('confirmCustomerKey', () => {
  it('asks KMS afresh with the tenant’s wrapped key and AAD for a customer key only', async () => {
    const calls: [string, Buffer, Buffer][] = [];
    const plain = Buffer.alloc(32, 7);
    const keyManager = {
      decrypt: (name: string, ciphertext: Buffer, aad: Buffer) => {
        calls.push([name, ciphertext, aad]);
        return Promise.resolve(plain);
      },
    } as unknown as KeyManager;
    await confirmCustomerKey(keyManager, tenant('platform'));
    expect(calls).toEqual([]);
    await confirmCustomerKey(keyManager, tenant('customer'));
    expect(calls).toEqual([[KEK, Buffer.from('wrapped'), wrappingKeyAad('t1')]]);
    // The unwrapped key is not kept: zeroed once it proved the key still serves us.
    expect(plain.equals(Buffer.alloc(32))).toBe(true);
  });
});

describe('CloudKmsKeyManager', () => {
  it('turns PERMISSION_DENIED and FAILED_PRECONDITION of Encrypt/Decrypt into KmsKeyUnavailableError, keeping the gRPC code', async () => {
    const details = `Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied on resource '${KEK}' (or it may not exist).`;
    const denied = Object.assign(new Error(`7 PERMISSION_DENIED: ${details}`), {
      code: 7,
      details,
    });
    const manager = stubClient({
      decrypt: () => Promise.reject(denied),
      encrypt: () =>
        Promise.reject(Object.assign(new Error('9'), { code: 9, details: 'state is: DISABLED' })),
    });
    await expect(manager.decrypt(KEK, Buffer.from('c'), Buffer.from('a'))).rejects.toMatchObject({
      name: 'KmsKeyUnavailableError',
      keyName: KEK,
      code: 7,
      reason: 'permission_denied',
      message: details,
    });
    await expect(manager.encrypt(KEK, Buffer.from('p'), Buffer.from('a'))).rejects.toMatchObject({
      code: 9,
      reason: 'key_not_enabled',
    });
  });

  it('passes other failures through unchanged', async () => {
    const invalid = Object.assign(new Error('3 INVALID_ARGUMENT'), { code: 3 });
    const manager = stubClient({ decrypt: () => Promise.reject(invalid) });
    await expect(manager.decrypt(KEK, Buffer.from('c'), Buffer.from('a'))).rejects.toBe(invalid);
  });

  it('returns a new signing key only once its first version has left PENDING_GENERATION', async () => {
    const states = ['PENDING_GENERATION', 'PENDING_GENERATION', 'ENABLED'];
    let polls = 0;
    const manager = stubClient({
      createCryptoKey: () => Promise.resolve([{}]),
      getCryptoKeyVersion: (request) => {
        polls += 1;
        return Promise.resolve([
          { name: (request as { name: string }).name, state: states[polls] },
        ]);
      },
    });
    await expect(manager.ensureSigningKey('projects/p/locations/l/keyRings/r', 's')).resolves.toBe(
      'projects/p/locations/l/keyRings/r/cryptoKeys/s/cryptoKeyVersions/1',
    );
    expect(polls).toBe(2);
  });

  it('fails with kms_version_not_ready when generation ends in another state than ENABLED', async () => {
    const manager = stubClient({
      createCryptoKey: () => Promise.resolve([{}]),
      getCryptoKeyVersion: () => Promise.resolve([{ name: 'v', state: 'GENERATION_FAILED' }]),
    });
    const failure = manager.ensureSigningKey('projects/p/locations/l/keyRings/r', 's');
    await expect(failure).rejects.toBeInstanceOf(KmsVersionNotReadyError);
    await expect(failure).rejects.toMatchObject({ code: 'kms_version_not_ready' });
  });
});
