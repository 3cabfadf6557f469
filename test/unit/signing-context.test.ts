/**
 * Issue 9, pinned trust: seals and deletion certificates are signed by the same platform key,
 * so a signature made for one must never verify as the other. Each test signs the exact digest
 * one signing path hands to KMS and presents it as the other kind.
 */
import { generateKeyPairSync } from 'node:crypto';
import { sha256Hex } from '../../functions/src/evidence/canonical';
import {
  SealSchema,
  sealDigest,
  verifySealSignature,
  type UnsignedSeal,
} from '../../functions/src/evidence/seal';
import { contextDigest } from '../../functions/src/evidence/signing-context';
import {
  certificateDigest,
  verifyCertificate,
  type UnsignedCertificate,
} from '../../functions/src/lifecycle/offboarding';
import { signP256Digest } from '../../scripts/local/emulators/kms/ecdsa';

const platform = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = platform.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const sign = (digest: Buffer) => signP256Digest(platform.privateKey, digest).toString('base64');

const unsignedSeal: UnsignedSeal = {
  version: 1,
  tenantId: 'tenant-a',
  seq: 1,
  treeSize: 1,
  rootHash: sha256Hex('leaf'),
  batch: { firstIndex: 0, count: 1 },
  coverage: { from: '1970-01-01T00:00:00.000Z', to: '2026-03-12T11:00:00.000Z' },
  prevSealHash: null,
  sealedAt: '2026-03-12T11:05:00.123Z',
};
const unsignedCertificate: UnsignedCertificate = {
  version: 1,
  tenantId: 'tenant-a',
  offboardedAt: '2026-03-12T11:05:00.123Z',
  keyVersionsDestroyed: [],
  counts: { dataKeys: 0, documents: 0, extractions: 0, evidenceRecords: 0 },
};
const signature = (value: string) => ({
  keyVersion: 'platform/1',
  algorithm: 'EC_SIGN_P256_SHA256' as const,
  value,
});

describe('a signature for one kind never verifies as another (domain separation)', () => {
  it('each kind verifies with its own digest (the control)', () => {
    const seal = SealSchema.parse({
      ...unsignedSeal,
      signature: signature(sign(sealDigest(unsignedSeal))),
    });
    expect(verifySealSignature(seal, pem)).toBe(true);
    const cert = {
      ...unsignedCertificate,
      signature: signature(sign(certificateDigest(unsignedCertificate))),
    };
    expect(verifyCertificate(cert, pem)).toBe(true);
  });

  it('a seal whose bytes went through the certificate signing path is refused', () => {
    // What a signer that signs "a certificate" over attacker-chosen JSON would hand out.
    const replayed = sign(certificateDigest(unsignedSeal as unknown as UnsignedCertificate));
    expect(verifySealSignature({ ...unsignedSeal, signature: signature(replayed) }, pem)).toBe(
      false,
    );
  });

  it('a certificate whose bytes went through the seal signing path is refused', () => {
    const replayed = sign(sealDigest(unsignedCertificate as unknown as UnsignedSeal));
    expect(verifyCertificate({ ...unsignedCertificate, signature: signature(replayed) }, pem)).toBe(
      false,
    );
  });

  it('a checkpoint-context signature verifies as neither', () => {
    const asSeal = sign(contextDigest('checkpoint', JSON.stringify(unsignedSeal)));
    expect(verifySealSignature({ ...unsignedSeal, signature: signature(asSeal) }, pem)).toBe(false);
    const asCert = sign(contextDigest('checkpoint', JSON.stringify(unsignedCertificate)));
    expect(verifyCertificate({ ...unsignedCertificate, signature: signature(asCert) }, pem)).toBe(
      false,
    );
  });
});
