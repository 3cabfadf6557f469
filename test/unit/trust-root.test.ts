/**
 * Issue 9, finding 4 without a stack: `verifyReceipt` trusts the root the auditor gives, never
 * the key inside the receipt, and compares keys as SPKI DER bytes.
 */
import { generateKeyPairSync } from 'node:crypto';
import { sha256Hex } from '../../functions/src/evidence/canonical';
import { leafHash } from '../../functions/src/evidence/merkle';
import { buildReceipt, verifyReceipt, type Receipt } from '../../functions/src/evidence/receipts';
import {
  contentHash,
  type EvidenceBody,
  type EvidenceRecord,
} from '../../functions/src/evidence/record';
import {
  leafData,
  sealDigest,
  type Seal,
  type UnsignedSeal,
} from '../../functions/src/evidence/seal';
import {
  matchesTrustRoot,
  parseFingerprint,
  trustedKey,
  type TrustedKey,
} from '../../functions/src/evidence/trust-root';
import { rootHash } from '../../functions/src/evidence/merkle';
import { signP256Digest } from '../../scripts/local/emulators/kms/ecdsa';

const h = (label: string) => sha256Hex(label);
const p256 = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const platform = p256();
const forger = p256();
const pemOf = (k: typeof platform) =>
  k.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const platformKey = trustedKey(pemOf(platform)) as TrustedKey;

function record(n: number): EvidenceRecord {
  const body: EvidenceBody = {
    id: `ev_ext-${String(n)}`,
    tenantId: 'tenant-a',
    extractionId: `ext-${String(n)}`,
    kind: 'extraction',
    request: {
      payloadSha256: h(`payload ${String(n)}`),
      contentType: 'application/pdf',
      bytes: 1000 + n,
      ciphertextRef: `gs://docs/tenant-a/documents/doc-${String(n)}`,
    },
    model: {
      provider: 'openai',
      model: 'gpt-4o-mini',
      modelVersion: 'gpt-4o-mini-2024-07-18',
      systemPromptSha256: h('system'),
      promptTemplateVersion: 'invoice@1',
      params: { temperature: 0 },
      providerSettings: { store: false },
    },
    response: {
      rawSha256: h(`raw ${String(n)}`),
      ciphertextRef: `gs://docs/tenant-a/responses/ext-${String(n)}`,
      usage: { inputTokens: 10, outputTokens: 5 },
      latencyMs: 100,
      attempts: [],
    },
    postProcessing: [],
    output: { sha256: h(`out ${String(n)}`), schema: 'invoice', schemaVersion: 1 },
    actor: { kind: 'apiKey', id: 'key-1' },
    subprocessors: ['openai'],
  };
  return {
    ...body,
    contentSha256: contentHash(body),
    createdAt: `2026-03-12T10:00:0${String(n)}.000Z`,
  };
}

function sealOver(records: EvidenceRecord[], key: typeof platform): Seal {
  const unsigned: UnsignedSeal = {
    version: 1,
    tenantId: 'tenant-a',
    seq: 1,
    treeSize: records.length,
    rootHash: rootHash(records.map((r) => leafHash(leafData(r)))).toString('hex'),
    batch: { firstIndex: 0, count: records.length },
    coverage: { from: '1970-01-01T00:00:00.000Z', to: '2026-03-12T11:00:00.000Z' },
    prevSealHash: null,
    sealedAt: '2026-03-12T11:05:00.000Z',
  };
  const value = signP256Digest(key.privateKey, sealDigest(unsigned)).toString('base64');
  return { ...unsigned, signature: { keyVersion: 'k/1', algorithm: 'EC_SIGN_P256_SHA256', value } };
}

const records = [record(1), record(2), record(3)];
const real = buildReceipt(
  { tenantId: 'tenant-a', seals: [sealOver(records, platform)], records },
  records[1]?.id ?? '',
  pemOf(platform),
) as Receipt;
// The forgery: the real record alone in a one-leaf tree, signed by the forger's key, which the
// receipt carries.
const forged = buildReceipt(
  {
    tenantId: 'tenant-a',
    seals: [sealOver([records[1] as EvidenceRecord], forger)],
    records: [records[1] as EvidenceRecord],
  },
  records[1]?.id ?? '',
  pemOf(forger),
) as Receipt;

describe('verifyReceipt against a trust root', () => {
  it('the real receipt passes under the platform key and under its fingerprint', () => {
    expect(verifyReceipt(real, { key: platformKey }).ok).toBe(true);
    expect(verifyReceipt(real, { fingerprint: platformKey.fingerprint }).ok).toBe(true);
  });

  it('a forged receipt (own key, one-leaf tree) is refused under the key and the fingerprint', () => {
    const byKey = verifyReceipt(forged, { key: platformKey });
    expect(byKey.ok).toBe(false);
    expect(byKey.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual([
      'the receipt carries the trusted public key',
      'seal signature under the trusted key',
    ]);
    expect(verifyReceipt(forged, { fingerprint: platformKey.fingerprint }).ok).toBe(false);
  });

  it('the forgery is self-consistent: trusting its own key would have passed it', () => {
    const own = trustedKey(forged.publicKeyPem) as TrustedKey;
    expect(verifyReceipt(forged, { key: own }).ok).toBe(true);
  });
});

describe('keys are compared as SPKI DER bytes', () => {
  it('another PEM text of the same key matches; another key does not', () => {
    const crlf = `comment\r\n${pemOf(platform).replaceAll('\n', '\r\n')}`;
    expect(matchesTrustRoot({ key: platformKey }, crlf)).toBe(true);
    expect(matchesTrustRoot({ key: platformKey }, pemOf(forger))).toBe(false);
    expect(matchesTrustRoot({ key: platformKey }, 'not a key')).toBe(false);
  });

  it('fingerprints parse in the forms providers publish them', () => {
    const hex = platformKey.fingerprint.slice('sha256:'.length);
    expect(parseFingerprint(hex.toUpperCase())).toBe(platformKey.fingerprint);
    expect(parseFingerprint(hex.match(/../g)?.join(':') ?? '')).toBe(platformKey.fingerprint);
    expect(parseFingerprint('sha256:abc')).toBeUndefined();
  });
});
