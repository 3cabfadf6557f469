import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { canonicalJson, sha256Hex } from '../../functions/src/evidence/canonical';
import { contextBytes } from '../../functions/src/evidence/signing-context';
import {
  contentHash,
  type EvidenceBody,
  type EvidenceRecord,
} from '../../functions/src/evidence/record';
import {
  compareRecords,
  EPOCH_ISO,
  exportLine,
  exportPaths,
  leafData,
  SEAL_VERSION,
  sealDigest,
  sealFileContent,
  sealHash,
  SealSchema,
  verifySealSignature,
  type Seal,
  type UnsignedSeal,
} from '../../functions/src/evidence/seal';
// The local KMS emulator's digest signer: signs a precomputed SHA-256 digest exactly as Cloud
// KMS AsymmetricSign does, so the test proves sealer (KMS) and verifier (node:crypto) agree.
import { signP256Digest } from '../../scripts/local/emulators/kms/ecdsa';

const h = (label: string) => sha256Hex(label);

function p256() {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}
const platform = p256();
const other = p256();
const platformPem = platform.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const otherPem = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();

function unsigned(overrides: Partial<UnsignedSeal> = {}): UnsignedSeal {
  return {
    version: 1,
    tenantId: 'tenant-a',
    seq: 2,
    treeSize: 5,
    rootHash: h('root'),
    batch: { firstIndex: 3, count: 2 },
    coverage: { from: '2026-03-12T10:00:00.000Z', to: '2026-03-12T11:00:00.000Z' },
    prevSealHash: h('prev'),
    sealedAt: '2026-03-12T11:05:00.123Z',
    ...overrides,
  };
}

/** Signs like node:crypto does: SHA-256 over the seal context and canonical bytes, DER ECDSA. */
function signNode(u: UnsignedSeal, key: KeyObject, keyVersion = 'platform/1'): Seal {
  const value = sign('sha256', contextBytes('seal', canonicalJson(u)), key).toString('base64');
  return { ...u, signature: { keyVersion, algorithm: 'EC_SIGN_P256_SHA256', value } };
}

/** Signs like Cloud KMS does: ECDSA over the supplied digest. */
function signKms(u: UnsignedSeal, key: KeyObject): Seal {
  const value = signP256Digest(key, sealDigest(u)).toString('base64');
  return { ...u, signature: { keyVersion: 'platform/1', algorithm: 'EC_SIGN_P256_SHA256', value } };
}

function record(n: number, createdAt: string): EvidenceRecord {
  const body: EvidenceBody = {
    id: `ev_ext-${n}`,
    tenantId: 'tenant-a',
    extractionId: `ext-${n}`,
    kind: 'extraction',
    request: {
      payloadSha256: h(`payload ${n}`),
      contentType: 'application/pdf',
      bytes: 1000 + n,
      ciphertextRef: `gs://docs/tenant-a/documents/doc-${n}`,
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
      rawSha256: h(`raw ${n}`),
      ciphertextRef: `gs://docs/tenant-a/responses/ext-${n}`,
      usage: { inputTokens: 10, outputTokens: 5 },
      latencyMs: 100,
      attempts: [],
    },
    postProcessing: [],
    output: { sha256: h(`out ${n}`), schema: 'invoice', schemaVersion: 1 },
    actor: { kind: 'apiKey', id: 'key-1' },
    subprocessors: ['openai'],
  };
  return { ...body, contentSha256: contentHash(body), createdAt };
}

describe('verifySealSignature rejects', () => {
  const good = signNode(unsigned(), platform.privateKey);

  it('a seal signed by another key', () => {
    expect(verifySealSignature(signNode(unsigned(), other.privateKey), platformPem)).toBe(false);
    expect(verifySealSignature(good, otherPem)).toBe(false);
  });

  // Every signed field: changing any of them after signing must invalidate the signature.
  const mutations: [string, (s: Seal) => Seal][] = [
    ['tenantId', (s) => ({ ...s, tenantId: 'tenant-b' })],
    ['seq', (s) => ({ ...s, seq: s.seq + 1 })],
    ['treeSize', (s) => ({ ...s, treeSize: s.treeSize + 1 })],
    ['rootHash', (s) => ({ ...s, rootHash: h('other root') })],
    ['batch.firstIndex', (s) => ({ ...s, batch: { ...s.batch, firstIndex: 2 } })],
    ['batch.count', (s) => ({ ...s, batch: { ...s.batch, count: 3 } })],
    ['coverage.from', (s) => ({ ...s, coverage: { ...s.coverage, from: EPOCH_ISO } })],
    ['coverage.to', (s) => ({ ...s, coverage: { ...s.coverage, to: '2026-03-12T11:00:00.001Z' } })],
    ['prevSealHash', (s) => ({ ...s, prevSealHash: h('other prev') })],
    ['prevSealHash null', (s) => ({ ...s, prevSealHash: null })],
    ['sealedAt', (s) => ({ ...s, sealedAt: '2026-03-12T11:05:00.124Z' })],
    ['an added field', (s) => ({ ...s, note: 'x' }) as Seal],
    [
      'algorithm',
      (s) => ({ ...s, signature: { ...s.signature, algorithm: 'RSA' } }) as unknown as Seal,
    ],
    [
      'a truncated signature',
      (s) => ({
        ...s,
        signature: {
          ...s.signature,
          value: Buffer.from(s.signature.value, 'base64').subarray(0, 40).toString('base64'),
        },
      }),
    ],
    ['an empty signature', (s) => ({ ...s, signature: { ...s.signature, value: '' } })],
    ['a non-base64 signature', (s) => ({ ...s, signature: { ...s.signature, value: '!!' } })],
  ];
  it.each(mutations)('a changed %s', (_name, mutate) => {
    expect(verifySealSignature(good, platformPem)).toBe(true);
    expect(verifySealSignature(mutate(structuredClone(good)), platformPem)).toBe(false);
  });

  it('an IEEE P1363 (r||s) signature instead of DER', () => {
    const value = sign('sha256', Buffer.from(canonicalJson(unsigned())), {
      key: platform.privateKey,
      dsaEncoding: 'ieee-p1363',
    }).toString('base64');
    const seal: Seal = { ...good, signature: { ...good.signature, value } };
    expect(verifySealSignature(seal, platformPem)).toBe(false);
  });

  it('keys that are not P-256 public keys, without throwing', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifySealSignature(good, pem(rsa.publicKey))).toBe(false);
    expect(verifySealSignature(good, pem(p384.publicKey))).toBe(false);
    expect(verifySealSignature(good, 'not a pem')).toBe(false);
    expect(verifySealSignature(good, '')).toBe(false);
  });
});

describe('verifySealSignature accepts', () => {
  it('a node:crypto signature over the canonical bytes', () => {
    expect(verifySealSignature(signNode(unsigned(), platform.privateKey), platformPem)).toBe(true);
  });

  it('a KMS-style signature over sealDigest (the two are the same thing)', () => {
    const seal = signKms(unsigned(), platform.privateKey);
    expect(verifySealSignature(seal, platformPem)).toBe(true);
    expect(verifySealSignature(seal, otherPem)).toBe(false);
  });

  it('a seal whose fields arrive in another order (signatures cover canonical JSON)', () => {
    const seal = signNode(unsigned(), platform.privateKey);
    const reordered = JSON.parse(
      JSON.stringify(Object.fromEntries(Object.entries(seal).reverse())),
    ) as Seal;
    expect(verifySealSignature(reordered, platformPem)).toBe(true);
  });

  it('the first seal (prevSealHash null, coverage from the epoch)', () => {
    const first = unsigned({
      seq: 1,
      prevSealHash: null,
      batch: { firstIndex: 0, count: 3 },
      treeSize: 3,
      coverage: { from: EPOCH_ISO, to: '2026-03-12T10:00:00.000Z' },
    });
    expect(verifySealSignature(signNode(first, platform.privateKey), platformPem)).toBe(true);
  });
});

describe('sealDigest and sealHash', () => {
  it('digest is SHA-256 of the seal context and the canonical unsigned seal, whatever the key order', () => {
    const u = unsigned();
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('provenant/seal/v1\0'), Buffer.from(canonicalJson(u))]))
      .digest();
    expect(sealDigest(u).equals(expected)).toBe(true);
    const reordered = Object.fromEntries(Object.entries(u).reverse()) as UnsignedSeal;
    expect(sealDigest(reordered).equals(expected)).toBe(true);
    expect(sealDigest(unsigned()).equals(expected)).toBe(true);
  });

  it('digest changes with every field and never covers a signature passed along', () => {
    const base = sealDigest(unsigned()).toString('hex');
    expect(sealDigest(unsigned({ seq: 3 })).toString('hex')).not.toBe(base);
    expect(sealDigest(unsigned({ rootHash: h('x') })).toString('hex')).not.toBe(base);
    expect(sealDigest(unsigned({ tenantId: 'tenant-b' })).toString('hex')).not.toBe(base);
    const signed = signNode(unsigned(), platform.privateKey);
    expect(sealDigest(signed).toString('hex')).toBe(base);
  });

  it('hash covers the signature, so a re-signed seal breaks the chain', () => {
    const a = signNode(unsigned(), platform.privateKey);
    const b = signNode(unsigned(), other.privateKey);
    expect(sealHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(sealHash(a)).toBe(sealHash(structuredClone(a)));
    expect(sealHash(a)).toBe(sha256Hex(canonicalJson(a)));
    expect(sealHash(a)).not.toBe(sealHash(b));
    expect(sealHash({ ...a, signature: { ...a.signature, keyVersion: 'platform/2' } })).not.toBe(
      sealHash(a),
    );
  });

  it('.seal.json content parses back to the same seal and hash', () => {
    const seal = signNode(unsigned(), platform.privateKey);
    const text = sealFileContent(seal);
    expect(text.endsWith('}\n')).toBe(true);
    const parsed = SealSchema.parse(JSON.parse(text));
    expect(parsed).toEqual(seal);
    expect(sealHash(parsed)).toBe(sealHash(seal));
  });
});

describe('SealSchema', () => {
  const good = signNode(unsigned(), platform.privateKey);
  it.each([
    ['an extra field', { ...good, extra: 1 }],
    ['an extra batch field', { ...good, batch: { ...good.batch, lastIndex: 4 } }],
    ['seq 0', { ...good, seq: 0 }],
    ['a fractional treeSize', { ...good, treeSize: 1.5 }],
    ['a negative count', { ...good, batch: { firstIndex: 0, count: -1 } }],
    ['an uppercase root', { ...good, rootHash: h('root').toUpperCase() }],
    ['a short prevSealHash', { ...good, prevSealHash: 'abc' }],
    ['a timestamp without ms', { ...good, sealedAt: '2026-03-12T11:05:00Z' }],
    [
      'a timestamp with an offset',
      { ...good, coverage: { ...good.coverage, to: '2026-03-12T11:00:00.000+01:00' } },
    ],
    ['version 2', { ...good, version: 2 }],
    ['no signature', unsigned()],
  ])('rejects %s', (_name, value) => {
    expect(SealSchema.safeParse(value).success).toBe(false);
  });

  it('accepts a signed seal', () => {
    expect(SealSchema.parse(good)).toEqual(good);
    expect(SEAL_VERSION).toBe(1);
  });
});

describe('export lines and paths', () => {
  it('an export line is the canonical JSON of the record, and the leaf is its bytes', () => {
    const r = record(1, '2026-03-12T10:00:00.000Z');
    expect(exportLine(r)).toBe(canonicalJson(r));
    expect(exportLine(r)).not.toContain('\n');
    expect(leafData(r).equals(Buffer.from(canonicalJson(r), 'utf8'))).toBe(true);
    const reordered = Object.fromEntries(Object.entries(r).reverse()) as EvidenceRecord;
    expect(exportLine(reordered)).toBe(exportLine(r));
  });

  it('paths are dated by coverage.to in UTC with a 6-digit seq', () => {
    const seal = signNode(
      unsigned({
        seq: 42,
        coverage: { from: '2025-12-31T23:00:00.000Z', to: '2026-01-01T00:30:00.000Z' },
      }),
      platform.privateKey,
    );
    expect(exportPaths('', seal)).toEqual({
      records: 'tenant-a/2026/01/01/000042.jsonl',
      seal: 'tenant-a/2026/01/01/000042.seal.json',
    });
    expect(exportPaths('audit/v1', seal)).toEqual({
      records: 'audit/v1/tenant-a/2026/01/01/000042.jsonl',
      seal: 'audit/v1/tenant-a/2026/01/01/000042.seal.json',
    });
    expect(exportPaths('audit/', seal).records).toBe('audit/tenant-a/2026/01/01/000042.jsonl');
    expect(exportPaths('', { ...seal, seq: 1_234_567 }).seal).toBe(
      'tenant-a/2026/01/01/1234567.seal.json',
    );
  });

  it('records order by (createdAt, id)', () => {
    const a = { createdAt: '2026-03-12T10:00:00.000Z', id: 'ev_b' };
    const b = { createdAt: '2026-03-12T10:00:00.000Z', id: 'ev_c' };
    const c = { createdAt: '2026-03-12T10:00:00.001Z', id: 'ev_a' };
    expect([c, b, a].sort(compareRecords)).toEqual([a, b, c]);
    expect(compareRecords(a, { ...a })).toBe(0);
    expect(compareRecords(b, a)).toBeGreaterThan(0);
    expect(compareRecords(a, c)).toBeLessThan(0);
  });
});
