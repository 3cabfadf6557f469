/**
 * The evidence trail on the local stack: extractions sealed into a signed Merkle log, exported
 * Locked to the audit bucket, verified by the auditor CLI, proven by receipts, replayed byte
 * for byte, and resumed correctly after a crash at each step of a seal.
 */
import { captureCli } from '../support/cli';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { runCli } from '../../functions/src/cli/program';
import { parseConfig } from '../../functions/src/config';
import { verifyConsistency } from '../../functions/src/evidence/merkle';
import { verifyReceipt, type Receipt } from '../../functions/src/evidence/receipts';
import { sealTenantEvidence } from '../../functions/src/ledger/sealer';
import { verifyExport } from '../../functions/src/evidence/verify-export';
import { trustedKey, type TrustRoot } from '../../functions/src/evidence/trust-root';
import { createServices, type Services } from '../../functions/src/services';
import { bucketSource } from '../../functions/src/storage/bucket-source';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import {
  callApi,
  eventually,
  stack,
  waitForTerminal,
  withCanary,
  type ExtractionBody,
} from '../support/api';
import { sealEverything as sealAll } from '../support/sealing';

let services: Services;
let tenant: TenantProfile;
let apiKey: string;
const extractionIds: string[] = [];

async function extract(text: string): Promise<ExtractionBody> {
  const created = await callApi('/v1/extractions', {
    method: 'POST',
    key: apiKey,
    body: { document: { contentType: 'text/plain', text }, schema: 'invoice' },
  });
  expect(created.status).toBe(202);
  const done = await waitForTerminal((created.body as ExtractionBody).id, apiKey);
  expect(done.status).toBe('succeeded');
  extractionIds.push(done.id);
  return done;
}

const invoice = (n: number) =>
  withCanary(`Vendor: Trail Co ${String(n)}\nInvoice No: T-${String(n)}\nTotal: ${String(n)}.00`);
const source = () =>
  bucketSource(
    services.objects,
    services.config.AUDIT_BUCKET,
    services.config.AUDIT_EXPORT_PREFIX,
    {
      under: tenant.id,
    },
  );
/** The auditor's trust root: the sealing key version, fetched from KMS by name. */
const trustRoot = () => ['--kms-key', services.config.SEALING_KEY_VERSION];
const pinned = async (): Promise<TrustRoot> => {
  const key = trustedKey(
    await services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION),
  );
  if (!key) throw new Error('the sealing key is not a public key');
  return { key };
};
const platformKey = async (v: string) =>
  v === services.config.SEALING_KEY_VERSION ? services.keyManager.getPublicKeyPem(v) : undefined;
/**
 * The test seals with its own services and no safety window: every record it waits for is
 * committed, and it gets there before the background scheduler (2 s window) does. The sealer's
 * clock must never run ahead of Firestore commit times by more than the window: a future `now`
 * would close a window that records can still be committed into.
 */
const sealEverything = () => sealAll(services, tenant);

async function sealedRecordCount(): Promise<number> {
  const report = await verifyExport(source(), platformKey);
  return report.tenants.find((t) => t.tenantId === tenant.id)?.records ?? 0;
}

beforeAll(async () => {
  services = createServices(parseConfig({ ...process.env, SEAL_SAFETY_SECONDS: '0' }));
  const onboarded = await onboardTenant(services, {
    tenantId: `trail-${randomBytes(4).toString('hex')}`,
    // Longer than the platform's 7-year minimum, which it may extend but never shorten.
    retentionDays: 4000,
    name: 'Trail',
  });
  tenant = onboarded.tenant;
  apiKey = onboarded.apiKey.token;
  for (let i = 1; i <= 3; i++) await extract(invoice(i));
  await sealEverything();
}, 90_000);

afterAll(async () => {
  await services.close();
});

describe('crash injection: a seal interrupted at any step resumes to the same log', () => {
  it.each([
    ['after the intent is stored', 'afterIntent'],
    ['after KMS signed the seal', 'afterSign'],
    ['after the seal is stored, before the export', 'afterSealWrite'],
  ] as const)(
    '%s',
    async (_, hook) => {
      const before = await sealedRecordCount();
      await extract(invoice(100 + before));
      await extract(invoice(200 + before));
      await expect(
        sealTenantEvidence(services, tenant, new Date(), {
          [hook]: () => Promise.reject(new Error('injected crash')),
        }),
      ).rejects.toThrow('injected crash');
      await sealEverything();
      const report = await verifyExport(source(), platformKey);
      const mine = report.tenants.find((t) => t.tenantId === tenant.id);
      expect(mine?.problems).toEqual([]);
      expect(mine?.records).toBe(before + 2);
      expect(report.ok).toBe(true);
    },
    60_000,
  );

  it('two instances resuming the same intent both finish, with one seal exported', async () => {
    const before = await sealedRecordCount();
    await extract(invoice(300 + before));
    await expect(
      sealTenantEvidence(services, tenant, new Date(), {
        afterIntent: () => Promise.reject(new Error('injected crash')),
      }),
    ).rejects.toThrow('injected crash');
    // Each signs the same intent (ECDSA: different signatures); the second must adopt the first.
    const outcomes = await Promise.all([
      sealTenantEvidence(services, tenant, new Date()),
      sealTenantEvidence(services, tenant, new Date()),
    ]);
    expect(outcomes.some((o) => o.resumed)).toBe(true);
    await sealEverything();
    const report = await verifyExport(source(), platformKey);
    const mine = report.tenants.find((t) => t.tenantId === tenant.id);
    expect(mine?.problems).toEqual([]);
    expect(mine?.records).toBe(before + 1);
  }, 60_000);
});

describe('the exported log', () => {
  it('verifies with the auditor CLI, and a flipped byte in a local copy is caught', async () => {
    const verified = captureCli();
    expect(
      await runCli(
        [
          'audit',
          'verify',
          `gs://${services.config.AUDIT_BUCKET}/${services.config.AUDIT_EXPORT_PREFIX}`,
          '--json',
          ...trustRoot(),
        ],
        verified,
      ),
    ).toBe(0);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'audit-'));
    expect(
      await runCli(['audit', 'export', '--out', dir, '--tenant', tenant.id], captureCli()),
    ).toBe(0);
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(dir);
    expect(files.filter((f) => f.endsWith('.seal.json')).length).toBeGreaterThanOrEqual(4);
    expect(await runCli(['audit', 'verify', dir, ...trustRoot()], captureCli())).toBe(0);

    const jsonl = files.find((f) => f.endsWith('.jsonl')) ?? '';
    const bytes = readFileSync(jsonl);
    bytes[40] = (bytes[40] ?? 0) ^ 1;
    writeFileSync(jsonl, bytes);
    const tampered = captureCli();
    expect(await runCli(['audit', 'verify', dir, '--json', ...trustRoot()], tampered)).toBe(2);
    const report = JSON.parse(tampered.lines[0] ?? '{}') as {
      ok: boolean;
      firstProblem: { tenantId: string } | null;
    };
    expect(report.ok).toBe(false);
    expect(report.firstProblem?.tenantId).toBe(tenant.id);
  }, 60_000);

  it('is retention-locked: an exported object cannot be deleted or overwritten', async () => {
    const [name] = await services.objects.list(
      services.config.AUDIT_BUCKET,
      `${services.config.AUDIT_EXPORT_PREFIX}/${tenant.id}/`,
    );
    const storage = new Storage({
      apiEndpoint: `http://${stack().emulators.storage}`,
      projectId: stack().projectId,
    });
    const file = storage.bucket(services.config.AUDIT_BUCKET).file(name ?? '');
    await expect(file.delete()).rejects.toMatchObject({ code: 403 });
    const [metadata] = await file.getMetadata();
    expect(metadata.retention?.mode).toBe('Locked');
    const retainUntil = Date.parse(metadata.retention?.retainUntilTime ?? '');
    expect(retainUntil).toBeGreaterThan(Date.now() + 3999 * 86_400_000);
    expect(retainUntil).toBeLessThan(Date.now() + 4001 * 86_400_000);
  });
});

describe('receipts, checkpoints and consistency', () => {
  it('serves a receipt that verifies offline, and fails once tampered', async () => {
    const id = extractionIds[0] ?? '';
    const reply = await callApi(`/v1/extractions/${id}/receipt`, { key: apiKey });
    expect(reply.status).toBe(200);
    const receipt = reply.body as Receipt;
    expect(verifyReceipt(receipt, await pinned())).toMatchObject({ ok: true });

    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'receipt-')), 'receipt.json');
    writeFileSync(file, JSON.stringify(receipt));
    expect(await runCli(['audit', 'verify-receipt', file, ...trustRoot()], captureCli())).toBe(0);

    const forged = structuredClone(receipt);
    if (forged.record.kind !== 'extraction') throw new Error('expected an extraction record');
    forged.record.model.modelVersion = 'gpt-4o-2099-01-01';
    expect(verifyReceipt(forged, await pinned()).ok).toBe(false);
    const otherLeaf = { ...structuredClone(receipt), leafIndex: receipt.leafIndex + 1 };
    expect(verifyReceipt(otherLeaf, await pinned()).ok).toBe(false);
  });

  it("answers another tenant's receipt like one that never existed", async () => {
    const other = await callApi(`/v1/extractions/${extractionIds[0] ?? ''}/receipt`, {
      key: stack().tenants[0]?.apiKey ?? '',
    });
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('lists signed checkpoints whose logs are consistent extensions of each other', async () => {
    const reply = await callApi('/v1/evidence/checkpoints', { key: apiKey });
    expect(reply.status).toBe(200);
    const { checkpoints } = reply.body as {
      checkpoints: { seq: number; treeSize: number; rootHash: string }[];
    };
    expect(checkpoints.map((c) => c.seq)).toEqual(checkpoints.map((_, i) => i + 1));
    const first = checkpoints[0];
    const last = checkpoints[checkpoints.length - 1];
    if (!first || !last) throw new Error('no checkpoints');
    const cli = captureCli();
    expect(
      await runCli(
        [
          'audit',
          'consistency',
          tenant.id,
          String(first.seq),
          String(last.seq),
          '--json',
          ...trustRoot(),
        ],
        cli,
      ),
    ).toBe(0);
    expect(cli.lines).toHaveLength(1);
    const { proof } = JSON.parse(cli.lines[0] ?? '{}') as { proof: string[] };
    const hex = (h: string) => Buffer.from(h, 'hex');
    const buffers = proof.map(hex);
    expect(
      verifyConsistency(
        first.treeSize,
        last.treeSize,
        hex(first.rootHash),
        hex(last.rootHash),
        buffers,
      ),
    ).toBe(true);
    expect(
      verifyConsistency(
        first.treeSize,
        last.treeSize,
        hex(first.rootHash),
        hex(first.rootHash),
        buffers,
      ),
    ).toBe(false);
  });
});

describe('query and replay', () => {
  it('answers which model, prompt and steps produced an extraction', async () => {
    const cli = captureCli();
    expect(
      await runCli(
        ['audit', 'query', '--tenant', tenant.id, '--extraction', extractionIds[0] ?? '', '--json'],
        cli,
      ),
    ).toBe(0);
    expect(cli.lines).toHaveLength(1);
    const lines = JSON.parse(cli.lines[0] ?? '[]') as unknown[];
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      extractionId: extractionIds[0],
      provider: 'openai',
      modelVersion: 'gpt-4o-mini-2024-07-18',
      promptTemplateVersion: 'extract-v1',
      postProcessing: [
        'parse-output@1',
        'ground-quotes@3',
        'normalize-amounts@2',
        'normalize-dates@2',
        'reconcile-totals@1',
      ],
    });
    const byModel = captureCli();
    expect(
      await runCli(
        [
          'audit',
          'query',
          '--tenant',
          tenant.id,
          '--model-version',
          'gpt-4o-mini-2024-07-18',
          '--json',
        ],
        byModel,
      ),
    ).toBe(0);
    expect(JSON.parse(byModel.lines[0] ?? '[]')).toHaveLength(extractionIds.length);
  });

  it('replays the recorded steps on the stored raw response byte for byte', async () => {
    const cli = captureCli();
    expect(
      await runCli(['audit', 'replay', tenant.id, extractionIds[1] ?? '', '--json'], cli),
    ).toBe(0);
    expect(JSON.parse(cli.lines[0] ?? '{}')).toMatchObject({
      reproducible: true,
      outputMatches: true,
    });
  });

  it('draws the same sample for the same seed', async () => {
    const args = [
      'audit',
      'sample',
      '--tenant',
      tenant.id,
      '--from',
      '2000-01-01T00:00:00Z',
      '--to',
      '2100-01-01T00:00:00Z',
      '--n',
      '3',
      '--seed',
      'audit-2026',
      '--json',
      ...trustRoot(),
    ];
    const a = captureCli();
    const b = captureCli();
    expect(await runCli(args, a)).toBe(0);
    expect(await runCli(args, b)).toBe(0);
    expect(a.lines).toHaveLength(1);
    expect(a.lines).toEqual(b.lines);
    const receipts = JSON.parse(a.lines[0] ?? '[]') as unknown[];
    expect(receipts).toHaveLength(3);
    const root = await pinned();
    for (const receipt of receipts) expect(verifyReceipt(receipt, root).ok).toBe(true);
  });
});

it('sees the background scheduler seal new records without being asked', async () => {
  const done = await extract(invoice(999));
  await eventually(async () => {
    const reply = await callApi(`/v1/extractions/${done.id}/receipt`, { key: apiKey });
    return reply.status === 200 ? true : undefined;
  }, 30_000);
}, 45_000);
