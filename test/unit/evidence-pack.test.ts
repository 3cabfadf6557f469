/**
 * Issue 15, the evidence pack, from its pure builders up to the CLI in-process, over a
 * synthetic period (1..10 March 2026) with a baseline before it: two extractions a day, a day
 * without a seal (5 March), a mid-period model change (4 March), a prompt change with a new
 * schema version (7 March), a platform configuration change (rules, 6 March), a break-glass
 * read (3 March), a sub-processor notice (8 March) and a key rotation (9 March).
 */
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { runCli } from '../../functions/src/cli/program';
import type { CliIo } from '../../functions/src/cli/io';
import { directorySource } from '../../functions/src/evidence/export-source';
import {
  assemblePack,
  packFiles,
  type EvidencePack,
} from '../../functions/src/evidence/pack/build';
import { controlChanges } from '../../functions/src/evidence/pack/changes';
import { barChartSvg } from '../../functions/src/evidence/pack/charts';
import { continuity, periodDays, seqGaps } from '../../functions/src/evidence/pack/continuity';
import { readPackLog, type PackLog } from '../../functions/src/evidence/pack/log';
import {
  defaultSeed,
  sampleExtractions,
  selectSample,
} from '../../functions/src/evidence/pack/sample';
import { trustedKey, type TrustedKey } from '../../functions/src/evidence/trust-root';
import { verifyExport } from '../../functions/src/evidence/verify-export';
import {
  eventBody,
  extractionBody,
  h,
  platformPem,
  stored,
  writeSealedLog,
  type ExtractionSpec,
  type Stored,
} from '../support/synthetic-log';

const PERIOD = { from: '2026-03-01T00:00:00.000Z', to: '2026-03-11T00:00:00.000Z' };
const key = trustedKey(platformPem) as TrustedKey;
const day = (d: number) => `2026-03-${String(d).padStart(2, '0')}`;

/** What extraction records of day d were made with. */
function specOn(d: number): ExtractionSpec {
  return {
    ...(d >= 4 ? { model: 'gpt-4o', modelVersion: 'gpt-4o-2024-08-06' } : {}),
    ...(d >= 7 ? { prompt: 'prompt v2', schemaVersion: 2 } : {}),
  };
}

/** The tenant's batches: one seal a day at 23:00, none on 5 March (its records wait a day). */
function tenantBatches(tenantId: string, withNewKinds: boolean) {
  const batches: { records: Stored[]; sealedAt: string }[] = [
    {
      records: [stored(extractionBody(tenantId, 'base-1'), '2026-02-28T09:00:00.000Z')],
      sealedAt: '2026-02-28T23:00:00.000Z',
    },
  ];
  let pending: Stored[] = [];
  for (let d = 1; d <= 10; d++) {
    for (const [i, at] of ['09:00', '09:01'].entries())
      pending.push(
        stored(
          extractionBody(tenantId, `d${String(d)}-${String(i)}`, specOn(d)),
          `${day(d)}T${at}:00.000Z`,
        ),
      );
    if (d === 3)
      pending.push(
        stored(
          eventBody(
            tenantId,
            'ev_grant-1',
            'content_access',
            { type: 'extraction', id: 'd1-0' },
            {
              purpose: 'break_glass',
              grantId: 'req-1',
              ticket: 'SEC-1 <script>alert(1)</script>',
              requester: 'engineer-1',
              approvers: ['approver-1', 'approver-2'],
              objects: ['result'],
              accessedAt: `${day(3)}T10:00:00.000Z`,
            },
          ),
          `${day(3)}T10:00:00.000Z`,
        ),
      );
    if (d === 8 && withNewKinds)
      pending.push(
        stored(
          eventBody(
            tenantId,
            'ev_notice-1',
            'subprocessor_notice',
            { type: 'subprocessor', id: 'mistral' },
            {
              change: 'added',
              subscriber: 'security@acme.example',
              deliveryId: 'msg-1',
              status: 'delivered',
              deliveredAt: `${day(8)}T10:00:00.000Z`,
            },
          ),
          `${day(8)}T10:00:00.000Z`,
        ),
      );
    if (d === 8 && withNewKinds)
      // A kind a later build might write, which this build cannot check.
      pending.push(
        stored(
          eventBody(
            tenantId,
            'ev_future-1',
            'future_kind',
            { type: 'tenant', id: tenantId },
            { note: 'written by a newer build' },
          ),
          `${day(8)}T11:00:00.000Z`,
        ),
      );
    if (d === 9)
      pending.push(
        stored(
          eventBody(
            tenantId,
            'ev_rotation-1',
            'key_rotation',
            { type: 'tenant', id: tenantId },
            {
              fromVersion: '1',
              toVersion: '2',
            },
          ),
          `${day(9)}T10:00:00.000Z`,
        ),
      );
    if (d === 5) continue;
    batches.push({ records: pending, sealedAt: `${day(d)}T23:00:00.000Z` });
    pending = [];
  }
  return batches;
}

function platformBatches() {
  const config = (id: string, rules: string, at: string) =>
    stored(
      eventBody(
        'platform',
        id,
        'configuration',
        { type: 'deployment', id },
        {
          // The shape lifecycle/configuration.ts records: component hashes by path, then the
          // record's bookkeeping, which the change log must not report as changes.
          'rules/firestore.rules': h(rules),
          'prompt/invoice': h('prompts 1'),
          'terraform/main.tf': h('tf 1'),
          sha256: h(`all ${rules}`),
          seq: id === 'cfg-1' ? 1 : 2,
          previousSha256: id === 'cfg-1' ? null : h('all rules 1'),
          changed: id === 'cfg-1' ? [] : ['rules/firestore.rules'],
          trigger: 'deploy',
        },
      ),
      at,
    );
  return [
    {
      records: [config('cfg-1', 'rules 1', '2026-02-20T08:00:00.000Z')],
      sealedAt: '2026-02-20T09:00:00.000Z',
    },
    {
      records: [config('cfg-2', 'rules 2', '2026-03-06T08:00:00.000Z')],
      sealedAt: '2026-03-06T09:00:00.000Z',
    },
  ];
}

let exportDir: string;
/** Kinds this build knows only: the CLI's verification passes over it. */
let knownKindsDir: string;
let tenantLog: PackLog;
let platformLog: PackLog;
let pack: EvidencePack;

beforeAll(async () => {
  exportDir = mkdtempSync(join(tmpdir(), 'pack-export-'));
  writeSealedLog(exportDir, 'acme', tenantBatches('acme', true));
  writeSealedLog(exportDir, 'platform', platformBatches());
  knownKindsDir = mkdtempSync(join(tmpdir(), 'pack-known-'));
  writeSealedLog(knownKindsDir, 'beta', tenantBatches('beta', false));
  writeSealedLog(knownKindsDir, 'platform', [
    {
      records: [
        stored(
          eventBody(
            'platform',
            'ev_platform-rotation',
            'key_rotation',
            { type: 'platform', id: 'sealing' },
            {},
          ),
          '2026-03-02T08:00:00.000Z',
        ),
      ],
      sealedAt: '2026-03-02T09:00:00.000Z',
    },
  ]);
  const source = directorySource(exportDir);
  tenantLog = await readPackLog(source, 'acme');
  platformLog = await readPackLog(source, 'platform');
  pack = assemblePack({
    tenantId: 'acme',
    logs: [tenantLog, platformLog],
    verification: await verifyExport(source, () => Promise.resolve(platformPem)),
    period: PERIOD,
    seed: 'seed-1',
    sampleSize: 5,
    key,
    location: exportDir,
    generatedAt: '2026-03-12T00:00:00.000Z',
  });
});

describe('continuity over the synthetic period', () => {
  it('names the day without a seal and how many records waited on it, with their seal lag', () => {
    const c = continuity(tenantLog.seals, tenantLog.records, PERIOD);
    expect(periodDays(PERIOD)).toHaveLength(10);
    expect(c.daysWithoutSeals).toEqual([{ date: '2026-03-05', recordsWritten: 2 }]);
    expect(c.seqGaps).toEqual([]);
    expect(c.sealsInPeriod).toBe(9);
    // 20 extractions, the access, the notice, the future kind and the rotation.
    expect(c.recordsInPeriod).toBe(20 + 1 + 1 + 1 + 1);
    const fifth = c.days.find((d) => d.date === '2026-03-05');
    // Written 09:00 and 09:01 on the 5th, sealed 23:00 on the 6th.
    expect(fifth).toMatchObject({ records: 2, seals: 0, maxSealLagSeconds: 38 * 3600 });
    expect(c.days.find((d) => d.date === '2026-03-02')).toMatchObject({
      records: 2,
      seals: 1,
      maxSealLagSeconds: 14 * 3600,
      medianSealLagSeconds: 14 * 3600 - 30,
    });
  });

  it('finds sequence gaps between the seals present, and before the first', () => {
    expect(seqGaps([{ seq: 2 }, { seq: 3 }, { seq: 6 }])).toEqual([
      { after: 0, next: 2, missing: 1 },
      { after: 3, next: 6, missing: 2 },
    ]);
  });
});

describe('control change log', () => {
  it('dates the mid-period model change, the prompt change and the platform rules change', () => {
    const lines = pack.changes.map((c) => [c.at, c.source, c.component, c.from, c.to]);
    expect(lines).toEqual([
      [
        '2026-03-04T09:00:00.000Z',
        'extraction',
        'model',
        'openai/gpt-4o-mini (gpt-4o-mini-2024-07-18)',
        'openai/gpt-4o (gpt-4o-2024-08-06)',
      ],
      [
        '2026-03-06T08:00:00.000Z',
        'configuration',
        'rules/firestore.rules',
        h('rules 1'),
        h('rules 2'),
      ],
      [
        '2026-03-07T09:00:00.000Z',
        'extraction',
        'prompt',
        `${h('prompt v1')} (template invoice@1)`,
        `${h('prompt v2')} (template invoice@1)`,
      ],
      ['2026-03-07T09:00:00.000Z', 'extraction', 'schema', 'v1', 'v2'],
    ]);
    expect(pack.changes[0]?.recordId).toBe('ev_d4-0');
  });

  it('states a schema first used in the period once, and nothing for an unchanged record', () => {
    const records = [
      ...tenantLog.records.filter((r) => r.kind === 'extraction').slice(0, 3),
      ...tenantLog.records
        .filter((r) => r.kind === 'extraction')
        .slice(1, 2)
        .map((r) => ({
          ...r,
          id: 'ev_receipt-1',
          body: { ...r.body, output: { ...(r.body.output as object), schema: 'receipt' } },
        })),
    ];
    const changes = controlChanges(records, PERIOD);
    expect(changes.filter((c) => c.scope === 'invoice')).toEqual([]);
    expect(changes.filter((c) => c.scope === 'receipt').map((c) => [c.component, c.from])).toEqual([
      ['model', null],
      ['prompt', null],
      ['schema', null],
      ['post_processing', null],
    ]);
  });
});

describe('reproducible sample', () => {
  it('selects the same records for the same seed, and proves each under the trust root', () => {
    const again = sampleExtractions(tenantLog, PERIOD, 'seed-1', 5, key);
    expect(again.map((s) => s.evidenceId)).toEqual(pack.sample.map((s) => s.evidenceId));
    expect(pack.sample).toHaveLength(5);
    expect(pack.sample.every((s) => s.verified)).toBe(true);
    expect(pack.sample.every((s) => s.createdAt >= PERIOD.from && s.createdAt < PERIOD.to)).toBe(
      true,
    );
    const other = sampleExtractions(tenantLog, PERIOD, 'seed-2', 5, key);
    expect(other.map((s) => s.evidenceId)).not.toEqual(pack.sample.map((s) => s.evidenceId));
  });

  it('ranks by the hash of seed and id, independent of input order', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `ev_${String(i)}`);
    const picked = selectSample(ids, 's', 7);
    expect(selectSample([...ids].reverse(), 's', 7)).toEqual(picked);
    const rank = (id: string) => createHash('sha256').update(`s\n${id}`).digest('hex');
    expect(picked).toEqual([...ids].sort((a, b) => (rank(a) < rank(b) ? -1 : 1)).slice(0, 7));
  });

  it('derives the default seed from the scope and the period', () => {
    expect(defaultSeed('acme', PERIOD)).toBe(defaultSeed('acme', { ...PERIOD }));
    expect(defaultSeed('acme', PERIOD)).not.toBe(defaultSeed('beta', PERIOD));
    expect(defaultSeed('acme', PERIOD)).not.toBe(
      defaultSeed('acme', { ...PERIOD, to: '2026-03-12T00:00:00.000Z' }),
    );
  });

  it('marks a sampled record unverified under another trust root', () => {
    const other = trustedKey(
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString(),
    );
    if (other === undefined) throw new Error('test key');
    const sample = sampleExtractions(tenantLog, PERIOD, 'seed-1', 2, other);
    expect(sample.map((s) => s.verified)).toEqual([false, false]);
  });
});

describe('sections and files', () => {
  it('lists the break-glass read, the sub-processor notice and the key rotation in their sections', () => {
    expect(pack.access.map((e) => [e.id, e.details.requester])).toEqual([
      ['ev_grant-1', 'engineer-1'],
    ]);
    expect(pack.notices.map((e) => [e.kind, e.subject?.id, e.details.status])).toEqual([
      ['subprocessor_notice', 'mistral', 'delivered'],
    ]);
    expect(pack.keys.map((e) => e.kind)).toEqual(['key_rotation']);
  });

  it('says verification failed while this build does not know a kind in the log, and still packs it', () => {
    // `future_kind` is in no build's EVENT_KINDS; the platform log's configuration records are.
    expect(pack.summary.verification.ok).toBe(false);
    expect(pack.summary.verification.logs.map((l) => l.problems[0]?.kind)).toEqual([
      'record_shape',
      undefined,
    ]);
  });

  it('writes a report naming each change, the access and the notice, escaped, with two SVG charts', () => {
    const files = packFiles(pack);
    const html = files.get('report.html')?.toString('utf8') ?? '';
    for (const id of [
      'verification',
      'continuity',
      'changes',
      'sample',
      'access',
      'notices',
      'keys',
    ])
      expect(html).toContain(`<section id="${id}"`);
    expect(html).toContain(
      'Model (schema invoice) changed: openai/gpt-4o-mini (gpt-4o-mini-2024-07-18) → openai/gpt-4o (gpt-4o-2024-08-06)',
    );
    expect(html).toContain(`System prompt (schema invoice) changed: ${h('prompt v1')}`);
    expect(html).toContain(
      `Configuration: rules/firestore.rules (platform) changed: ${h('rules 1')} → ${h('rules 2')}`,
    );
    expect(html).toContain('engineer-1');
    expect(html).toContain('Sub-processor notice');
    expect(html).toContain('2026-03-05 (2 records waited)');
    expect(html).not.toContain('<script');
    expect(html).toContain('SEC-1 &lt;script&gt;');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).not.toMatch(/<link |src=|https?:\/\/(?!www\.w3\.org)/);
  });

  it('lists every other file in the manifest with its SHA-256', () => {
    const files = packFiles(pack);
    const manifest = JSON.parse(files.get('manifest.json')?.toString('utf8') ?? '{}') as {
      files: { path: string; sha256: string; bytes: number }[];
    };
    expect(manifest.files.map((f) => f.path).sort()).toEqual(
      [...files.keys()].filter((p) => p !== 'manifest.json').sort(),
    );
    for (const f of manifest.files) {
      const data = files.get(f.path) ?? Buffer.alloc(0);
      expect(f).toEqual({
        path: f.path,
        sha256: createHash('sha256').update(data).digest('hex'),
        bytes: data.length,
      });
    }
    const sampleLines = files.get('sample.jsonl')?.toString('utf8').trim().split('\n') ?? [];
    expect(sampleLines).toHaveLength(5);
    expect(JSON.parse(sampleLines[0] ?? '{}')).toHaveProperty('receipt.inclusionProof');
  });

  it('draws a day without data as a hatched gap, not as zero', () => {
    const svg = barChartSvg({
      id: 'c',
      title: 't',
      description: 'd',
      unit: 'minutes',
      bars: [
        { label: '2026-03-01', value: 2 },
        { label: '2026-03-02', value: null },
      ],
    });
    expect(svg.match(/class="bar"/g)).toHaveLength(1);
    expect(svg.match(/class="nodata"/g)).toHaveLength(1);
    expect(svg).toContain('role="img"');
  });
});

/** The entries of a zip (stored or deflated), read from its central directory. */
function unzip(data: Buffer): Map<string, Buffer> {
  const eocd = data.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = data.readUInt16LE(eocd + 10);
  let at = data.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = data.readUInt16LE(at + 10);
    const size = data.readUInt32LE(at + 20);
    const nameLen = data.readUInt16LE(at + 28);
    const extra = data.readUInt16LE(at + 30);
    const comment = data.readUInt16LE(at + 32);
    const local = data.readUInt32LE(at + 42);
    const name = data.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    const start = local + 30 + data.readUInt16LE(local + 26) + data.readUInt16LE(local + 28);
    const raw = data.subarray(start, start + size);
    out.set(name, method === 8 ? inflateRawSync(raw) : raw);
    at += 46 + nameLen + extra + comment;
  }
  return out;
}

describe('npx provenant evidence-pack (in-process)', () => {
  const io = () => {
    const lines: string[] = [];
    const errors: string[] = [];
    const progress: string[] = [];
    const cli: CliIo = {
      out: (l) => lines.push(l),
      err: (l) => errors.push(l),
      progress: (l) => progress.push(l),
      services: () => {
        throw new Error('the auditor pack needs no services');
      },
      confirm: () => Promise.resolve(undefined),
    };
    return { cli, lines, errors, progress };
  };
  let work: string;
  let keyFile: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'pack-cli-'));
    keyFile = join(work, 'platform.pem');
    writeFileSync(keyFile, platformPem);
  });
  const args = (out: string, extra: string[] = []) => [
    'evidence-pack',
    '--tenant',
    'beta',
    '--from',
    '2026-03-01',
    '--to',
    '2026-03-11',
    '--out',
    out,
    '--source',
    knownKindsDir,
    '--public-key',
    keyFile,
    ...extra,
  ];

  it('writes the folder and the zip with the same files, verified, with progress on the side', async () => {
    const out = join(work, 'pack-beta');
    const { cli, lines, errors, progress } = io();
    expect(await runCli(args(out), cli)).toBe(0);
    expect(errors).toEqual([]);
    expect(lines.at(-1)).toBe(`pack written to ${out} and ${out}.zip`);
    expect(lines[0]).toMatch(/^OK +beta .*1 days without seals, 0 seq gaps$/);
    expect(progress.at(-1)).toBe('evidence pack 4/4');
    expect(progress.some((p) => /^verified records \d+\/\d+$/.test(p))).toBe(true);
    const zip = unzip(readFileSync(`${out}.zip`));
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      files: { path: string; sha256: string }[];
    };
    expect([...zip.keys()].sort()).toEqual(
      [...manifest.files.map((f) => `pack-beta/${f.path}`), 'pack-beta/manifest.json'].sort(),
    );
    for (const f of manifest.files) {
      expect(zip.get(`pack-beta/${f.path}`)?.equals(readFileSync(join(out, f.path)))).toBe(true);
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      seed: string;
      verification: { ok: boolean; logs: { tenantId: string }[] };
    };
    expect(summary.seed).toBe(defaultSeed('beta', PERIOD));
    expect(summary.verification.ok).toBe(true);
    // The platform log is verified and packed beside the tenant's (its configuration changes).
    expect(summary.verification.logs.map((l) => l.tenantId)).toEqual(['beta', 'platform']);
  });

  it('reproduces the sample from the same seed in a second run', async () => {
    const a = join(work, 'seed-a');
    const b = join(work, 'seed-b');
    expect(await runCli(args(a, ['--seed', 'audit-2026']), io().cli)).toBe(0);
    expect(await runCli(args(b, ['--seed', 'audit-2026']), io().cli)).toBe(0);
    const ids = (dir: string) =>
      readFileSync(join(dir, 'sample.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { evidenceId: string }).evidenceId);
    expect(ids(a)).toEqual(ids(b));
    expect(ids(a)).toHaveLength(20);
  });

  it.each([
    [['--platform'], 'give one scope: --tenant ID or --platform'],
    [['--to', '2026-02-01'], 'must be before --to'],
    [['--seed', 'a b'], 'invalid --seed'],
    [['--sample-size', '-1'], 'invalid --sample-size'],
  ])('refuses %j with a clear error', async (extra, message) => {
    const { cli, errors } = io();
    expect(await runCli(args(join(work, 'refused'), extra), cli)).toBe(1);
    expect(errors.join('\n')).toContain(message);
  });

  it('refuses without a trust root, and into a folder that is not empty', async () => {
    const noKey = args(join(work, 'nokey')).filter(
      (a, i, all) => a !== keyFile && all[i + 1] !== keyFile,
    );
    const first = io();
    expect(await runCli(noKey, first.cli)).toBe(1);
    expect(first.errors.join('\n')).toContain('no trust root given');
    const full = join(work, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'x'), 'x');
    const second = io();
    expect(await runCli(args(full), second.cli)).toBe(1);
    expect(second.errors.join('\n')).toContain('is not empty');
  });

  it('exits 2 when the export holds no seal of the tenant', async () => {
    const { cli, errors } = io();
    const a = args(join(work, 'nobody'));
    a[2] = 'nobody';
    expect(await runCli(a, cli)).toBe(2);
    expect(errors.join('\n')).toContain('nothing to pack');
  });
});
