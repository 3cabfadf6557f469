import { canonicalJson, canonicalSha256, sha256Hex } from '../../functions/src/evidence/canonical';
import {
  contentHash,
  evidenceIdFor,
  verifyContentHash,
  type ExtractionEvidenceBody as EvidenceBody,
  type ExtractionEvidenceRecord as EvidenceRecord,
  type EventEvidenceBody,
} from '../../functions/src/evidence/record';

const h = (label: string) => sha256Hex(label);

function body(): EvidenceBody {
  return {
    id: 'ev_ext-0001',
    tenantId: 'tenant-a',
    extractionId: 'ext-0001',
    kind: 'extraction',
    request: {
      payloadSha256: h('payload'),
      contentType: 'application/pdf',
      bytes: 48_213,
      ciphertextRef: 'gs://provenant-documents/tenant-a/documents/doc-1',
    },
    model: {
      provider: 'openai',
      model: 'gpt-4o-mini',
      modelVersion: 'gpt-4o-mini-2024-07-18',
      systemPromptSha256: h('system prompt'),
      promptTemplateVersion: 'invoice@1',
      params: { temperature: 0, max_tokens: 2048, seed: null },
      providerSettings: { store: false },
    },
    response: {
      rawSha256: h('raw response'),
      ciphertextRef: 'gs://provenant-documents/tenant-a/responses/ext-0001',
      usage: { inputTokens: 1200, outputTokens: 340 },
      latencyMs: 2350,
      attempts: [
        {
          provider: 'openai',
          model: 'gpt-4o-mini',
          outcome: 'rate_limited',
          latencyMs: 120,
          providerRequestId: 'req_1',
        },
        {
          provider: 'openai',
          model: 'gpt-4o-mini',
          outcome: 'ok',
          latencyMs: 2230,
          providerRequestId: 'req_2',
        },
      ],
    },
    postProcessing: [
      { step: 'parse-output', version: 1, inputSha256: h('0'), outputSha256: h('1') },
      { step: 'ground-quotes', version: 1, inputSha256: h('1'), outputSha256: h('2') },
      { step: 'normalize-amounts', version: 1, inputSha256: h('2'), outputSha256: h('3') },
    ],
    output: { sha256: h('output'), schema: 'invoice', schemaVersion: 1 },
    actor: { kind: 'apiKey', id: 'abcdef0123456789' },
    subprocessors: ['openai', 'google-cloud'],
  };
}

function record(): EvidenceRecord {
  const b = body();
  return { ...b, contentSha256: contentHash(b), createdAt: '2026-03-12T10:00:00.123456Z' };
}

describe('contentHash', () => {
  it('is the SHA-256 of the RFC 8785 canonical body', () => {
    const b = body();
    expect(contentHash(b)).toBe(canonicalSha256(b));
    expect(contentHash(b)).toBe(sha256Hex(canonicalJson(b)));
    expect(contentHash(b)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on key order', () => {
    const b = body();
    const reordered = Object.fromEntries(Object.entries(b).reverse()) as EvidenceBody;
    reordered.model = Object.fromEntries(
      Object.entries(b.model).reverse(),
    ) as EvidenceBody['model'];
    expect(contentHash(reordered)).toBe(contentHash(b));
  });

  const first = <T>(items: T[]): T => {
    const item = items[0];
    if (item === undefined) throw new Error('fixture has no items');
    return item;
  };

  it.each<[string, (b: EvidenceBody) => void]>([
    ['id', (b) => (b.id = 'ev_ext-0002')],
    ['tenantId', (b) => (b.tenantId = 'tenant-b')],
    ['extractionId', (b) => (b.extractionId = 'ext-0002')],
    ['request.payloadSha256', (b) => (b.request.payloadSha256 = h('other payload'))],
    ['request.contentType', (b) => (b.request.contentType = 'image/png')],
    ['request.bytes', (b) => (b.request.bytes += 1)],
    ['request.ciphertextRef', (b) => (b.request.ciphertextRef += '2')],
    ['model.provider', (b) => (b.model.provider = 'anthropic')],
    ['model.modelVersion', (b) => (b.model.modelVersion = 'gpt-4o-mini-2025-01-01')],
    ['model.systemPromptSha256', (b) => (b.model.systemPromptSha256 = h('other prompt'))],
    ['model.promptTemplateVersion', (b) => (b.model.promptTemplateVersion = 'invoice@2')],
    ['model.params.temperature', (b) => (b.model.params.temperature = 0.2)],
    ['model.params.seed null → 0', (b) => (b.model.params.seed = 0)],
    ['model.params new entry', (b) => (b.model.params.top_p = 1)],
    ['model.providerSettings.store', (b) => (b.model.providerSettings.store = true)],
    ['response.rawSha256', (b) => (b.response.rawSha256 = h('other raw'))],
    ['response.usage.outputTokens', (b) => (b.response.usage.outputTokens = 341)],
    ['response.latencyMs', (b) => (b.response.latencyMs = 2351)],
    ['attempt outcome', (b) => (first(b.response.attempts).outcome = 'server_error')],
    ['attempt latency', (b) => (first(b.response.attempts).latencyMs = 121)],
    ['attempt request id', (b) => (first(b.response.attempts).providerRequestId = null)],
    ['attempt removed', (b) => b.response.attempts.shift()],
    ['attempts reordered', (b) => b.response.attempts.reverse()],
    [
      'attempt added',
      (b) =>
        b.response.attempts.push({
          provider: 'anthropic',
          model: 'claude-sonnet-4-5',
          outcome: 'ok',
          latencyMs: 1,
          providerRequestId: null,
        }),
    ],
    ['post-processing version', (b) => (first(b.postProcessing).version = 2)],
    ['post-processing output hash', (b) => (first(b.postProcessing).outputSha256 = h('x'))],
    ['post-processing step dropped', (b) => b.postProcessing.pop()],
    ['output.sha256', (b) => (b.output.sha256 = h('other output'))],
    ['output.schemaVersion', (b) => (b.output.schemaVersion = 2)],
    ['actor.kind', (b) => (b.actor.kind = 'user')],
    ['actor.id', (b) => (b.actor.id = 'someone-else')],
    ['subprocessors reordered', (b) => b.subprocessors.reverse()],
    ['subprocessor added', (b) => b.subprocessors.push('anthropic')],
  ])('changes when %s changes', (_label, mutate) => {
    const original = body();
    const changed = structuredClone(original);
    mutate(changed);
    expect(canonicalJson(changed)).not.toBe(canonicalJson(original));
    expect(contentHash(changed)).not.toBe(contentHash(original));
  });

  it('refuses a body that is not an evidence body', () => {
    const b = body() as unknown as Record<string, unknown>;
    delete b.actor;
    expect(() => contentHash(b as unknown as EvidenceBody)).toThrow();
  });
});

describe('verifyContentHash', () => {
  it('is true for an intact record, whatever its createdAt', () => {
    const r = record();
    expect(verifyContentHash(r)).toBe(true);
    expect(verifyContentHash({ ...r, createdAt: '2030-01-01T00:00:00Z' })).toBe(true);
  });

  it.each<[string, (r: EvidenceRecord) => void]>([
    ['tenantId', (r) => (r.tenantId = 'tenant-b')],
    ['a nested model param', (r) => (r.model.params.temperature = 1)],
    [
      'an attempt',
      (r) => (r.response.attempts[1] = { ...r.response.attempts[0], outcome: 'ok' } as never),
    ],
    [
      'a post-processing record',
      (r) => (r.postProcessing[2] = { ...r.postProcessing[1] } as never),
    ],
    ['the output hash', (r) => (r.output.sha256 = h('forged'))],
    ['the stored contentSha256', (r) => (r.contentSha256 = h('forged'))],
  ])('is false after tampering with %s', (_label, tamper) => {
    const r = record();
    tamper(r);
    expect(verifyContentHash(r)).toBe(false);
  });

  it('reports a schema-breaking tampered record as not intact, without throwing', () => {
    const r = record();
    (r.request as Record<string, unknown>).payloadSha256 = 'not-a-hash';
    expect(verifyContentHash(r)).toBe(false);
  });

  it.each<[string, (r: EvidenceRecord) => void]>([
    ['a top-level field', (r) => Object.assign(r, { injected: 'x' })],
    ['a nested field', (r) => Object.assign(r.model, { injected: 'x' })],
  ])('is false when %s is added after hashing', (_label, tamper) => {
    const r = record();
    tamper(r);
    expect(verifyContentHash(r)).toBe(false);
  });
});

describe('evidenceIdFor', () => {
  it('is deterministic per extraction and distinct across extractions', () => {
    expect(evidenceIdFor('ext-0001')).toBe('ev_ext-0001');
    expect(evidenceIdFor('ext-0001')).toBe(evidenceIdFor('ext-0001'));
    expect(evidenceIdFor('ext-0002')).not.toBe(evidenceIdFor('ext-0001'));
  });
});

describe('event evidence (erasure, offboarding, key rotation, content access)', () => {
  const event = (): EventEvidenceBody => ({
    id: 'ev_erasure_ex_1',
    tenantId: 'tenant-a',
    kind: 'erasure',
    subject: { type: 'extraction', id: 'ex_1' },
    details: { dataKeysDeleted: 3, objects: ['gs://b/o'] },
    actor: { kind: 'apiKey', id: 'k1' },
  });

  it('hashes and verifies like an extraction record', () => {
    const record = {
      ...event(),
      contentSha256: contentHash(event()),
      createdAt: '2026-01-01T00:00:00.000000Z',
    };
    expect(verifyContentHash(record)).toBe(true);
    expect(verifyContentHash({ ...record, subject: { type: 'extraction', id: 'ex_2' } })).toBe(
      false,
    );
  });

  it('refuses an unknown kind or extraction fields on an event', () => {
    expect(() =>
      contentHash({ ...event(), kind: 'deletion' } as unknown as EventEvidenceBody),
    ).toThrow();
    expect(() =>
      contentHash({ ...event(), extractionId: 'ex_1' } as unknown as EventEvidenceBody),
    ).toThrow();
  });
});
