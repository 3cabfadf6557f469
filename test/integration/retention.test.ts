/**
 * Retention as code on the local stack, under a simulated clock: the retention pass
 * (`provenant retention run --now ISO`, the same runRetention the scheduled function runs)
 * erases content only once it is past the tenant's retention, through the erasure code path,
 * with `erasure` evidence saying `reason: retention`; per-schema and longer retentions are
 * honoured; a second pass is a no-op. Evidence records and seals carry a Firestore Timestamp
 * expiry at the tenant's evidence retention. A tenant cannot choose less than 7 years of
 * evidence, nor content retention out of range.
 */
import { randomBytes } from 'node:crypto';
import { Timestamp } from '@google-cloud/firestore';
import { runCli } from '../../functions/src/cli/program';
import { parseConfig } from '../../functions/src/config';
import { EvidenceRecordSchema, verifyContentHash } from '../../functions/src/evidence/record';
import { erasureEvidenceId } from '../../functions/src/extraction/erasure';
import { EXPIRY_MARGIN_DAYS } from '../../functions/src/ledger/evidence-writer';
import { sealTenantEvidence } from '../../functions/src/ledger/sealer';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { setRetentionSettings } from '../../functions/src/lifecycle/retention';
import { createServices, type Services } from '../../functions/src/services';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import { callApi, extractInvoice, type ExtractionBody } from '../support/api';
import { captureCli } from '../support/cli';

const DAY = 86_400_000;
let services: Services;

interface Onboarded {
  tenant: TenantProfile;
  apiKey: string;
}

async function onboard(prefix: string): Promise<Onboarded> {
  const onboarded = await onboardTenant(services, {
    tenantId: `${prefix}-${randomBytes(4).toString('hex')}`,
    name: prefix,
  });
  return { tenant: onboarded.tenant, apiKey: onboarded.apiKey.token };
}

/** `provenant retention run --now <ISO> --tenant <id> --json`: one outcome per tenant. */
async function runAt(now: Date, tenantId: string, ...extra: string[]) {
  const cli = captureCli();
  const code = await runCli(
    ['retention', 'run', '--now', now.toISOString(), '--tenant', tenantId, '--json', ...extra],
    cli,
  );
  expect({ code, errors: cli.errors }).toEqual({ code: 0, errors: [] });
  expect(cli.lines).toHaveLength(1);
  return JSON.parse(cli.lines[0] ?? '{}') as { erased: number; examined: number; more: boolean };
}

/** `provenant tenant retention <id> ...args`: exit code and error lines. */
async function setRetention(tenantId: string, ...args: string[]) {
  const cli = captureCli();
  const code = await runCli(['tenant', 'retention', tenantId, ...args, '--json'], cli);
  return { code, errors: cli.errors, lines: cli.lines };
}

async function getExtraction(id: string, apiKey: string) {
  const reply = await callApi(`/v1/extractions/${id}`, { key: apiKey });
  expect(reply.status).toBe(200);
  return reply.body as ExtractionBody & { erasedAt?: string };
}

/** The extraction's commit time: its submission time to the millisecond, for the clock. */
function submittedAt(extraction: ExtractionBody): Date {
  const { createdAt } = extraction as ExtractionBody & { createdAt: string };
  return new Date(Date.parse(createdAt));
}

beforeAll(() => {
  services = createServices(parseConfig({ ...process.env, SEAL_SAFETY_SECONDS: '0' }));
});

afterAll(async () => {
  await services.close();
});

describe('who may set what (denial paths first)', () => {
  let subject: Onboarded;
  beforeAll(async () => {
    subject = await onboard('ret-deny');
  }, 60_000);

  it('refuses evidence retention below 7 years, and changes nothing', async () => {
    const refused = await setRetention(subject.tenant.id, '--evidence-years', '6');
    expect(refused.code).toBe(1);
    expect(refused.errors.join('\n')).toContain('evidence_retention_too_short');
    await expect(
      setRetentionSettings(services, subject.tenant.id, { evidenceRetentionYears: 3 }),
    ).rejects.toMatchObject({ status: 400, code: 'evidence_retention_too_short' });
    const stored = await services.platform.getTenant(subject.tenant.id);
    expect(stored?.retentionDays).toBeUndefined();
    expect(stored?.contentRetention).toBeUndefined();
  });

  it('refuses content retention out of range, for the tenant and for a schema', async () => {
    for (const args of [
      ['--content-days', '0'],
      ['--content-days', '3651'],
      ['--schema', 'invoice=0'],
      ['--content-days', '30', '--schema', 'invoice=99999'],
    ]) {
      const refused = await setRetention(subject.tenant.id, ...args);
      expect({ args, code: refused.code }).toEqual({ args, code: 1 });
      expect(refused.errors.join('\n')).toContain('content_retention_out_of_range');
    }
    expect((await services.platform.getTenant(subject.tenant.id))?.contentRetention).toBe(
      undefined,
    );
  });

  it('refuses an unknown tenant', async () => {
    const refused = await setRetention('no-such-tenant', '--content-days', '30');
    expect(refused.code).toBe(1);
    expect(refused.errors.join('\n')).toContain('not_found');
  });
});

describe('the retention pass under a simulated clock', () => {
  let subject: Onboarded;
  let done: ExtractionBody;
  let t0: Date;

  beforeAll(async () => {
    subject = await onboard('ret-default');
    done = await extractInvoice(subject.apiKey, 'Vendor: Retain Co\nInvoice No: R-1\nTotal: 10.00');
    t0 = submittedAt(done);
  }, 60_000);

  it('erases nothing one day before the default 90 days are up', async () => {
    const outcome = await runAt(new Date(t0.getTime() + 89 * DAY), subject.tenant.id);
    expect(outcome).toMatchObject({ erased: 0, examined: 0 });
    const extraction = await getExtraction(done.id, subject.apiKey);
    expect(extraction.erasedAt).toBeUndefined();
    expect(extraction.result).toBeDefined();
    const db = services.platform.tenantDb(subject.tenant);
    expect(await db.get('dataKeys', `document-${done.id}`)).toBeDefined();
  });

  it('erases the content one day after, with erasure evidence that says retention', async () => {
    const outcome = await runAt(new Date(t0.getTime() + 91 * DAY), subject.tenant.id);
    expect(outcome).toMatchObject({ erased: 1, examined: 1 });
    const extraction = await getExtraction(done.id, subject.apiKey);
    expect(extraction.erasedAt).toEqual(expect.any(String));
    expect(extraction.result).toBeUndefined();
    const db = services.platform.tenantDb(subject.tenant);
    for (const kind of ['document', 'response', 'result'])
      expect(await db.get('dataKeys', `${kind}-${done.id}`)).toBeUndefined();
    const erasure = EvidenceRecordSchema.parse(
      await db.get('evidence', erasureEvidenceId(done.id)),
    );
    expect(verifyContentHash(erasure)).toBe(true);
    expect(erasure).toMatchObject({
      kind: 'erasure',
      subject: { type: 'extraction', id: done.id },
      actor: { kind: 'service', id: 'retention' },
      details: { reason: 'retention', extractionId: done.id },
    });
    // The extraction's own evidence stays, intact.
    const record = EvidenceRecordSchema.parse(await db.get('evidence', done.evidenceId ?? ''));
    expect(verifyContentHash(record)).toBe(true);
  });

  it('is a no-op when run again', async () => {
    const db = services.platform.tenantDb(subject.tenant);
    const before = await db.get('evidence', erasureEvidenceId(done.id));
    const outcome = await runAt(new Date(t0.getTime() + 92 * DAY), subject.tenant.id);
    expect(outcome).toMatchObject({ erased: 0, examined: 0 });
    expect(await db.get('evidence', erasureEvidenceId(done.id))).toEqual(before);
  });

  it('stamps evidence records and seals with a Timestamp expiry at the evidence retention', async () => {
    const db = services.platform.tenantDb(subject.tenant);
    const stored = await db.get('evidence', done.evidenceId ?? '');
    const expireAt = Date.parse(String(stored?.expireAt));
    const createdAt = Date.parse(String(stored?.createdAt));
    const days = services.config.EVIDENCE_RETENTION_DAYS + EXPIRY_MARGIN_DAYS;
    // Written by the worker's clock a moment before the commit time.
    expect(Math.abs(expireAt - (createdAt + days * DAY))).toBeLessThan(60_000);
    // A TTL policy acts only on a Timestamp: read the raw document.
    const raw = await services.databases
      .get()
      .doc(`tenants/${subject.tenant.id}/evidence/${done.evidenceId ?? ''}`)
      .get();
    expect(raw.get('expireAt')).toBeInstanceOf(Timestamp);
    for (;;) {
      const outcome = await sealTenantEvidence(services, subject.tenant, new Date());
      if (outcome.seq === null) break;
    }
    const [seal] = await db.list('seals', { orderBy: [['seal.seq', 'desc']], limit: 1 });
    expect(Date.parse(String(seal?.data.expireAt))).toBeGreaterThan(
      Date.now() + services.config.EVIDENCE_RETENTION_DAYS * DAY,
    );
  });
});

describe("a tenant's own retention", () => {
  it('leaves a tenant with a longer content retention untouched, and keeps its evidence longer', async () => {
    const subject = await onboard('ret-long');
    const set = await setRetention(
      subject.tenant.id,
      '--content-days',
      '400',
      '--evidence-years',
      '10',
    );
    expect(set.code).toBe(0);
    expect(JSON.parse(set.lines[0] ?? '{}')).toMatchObject({
      contentRetentionDays: 400,
      evidenceRetentionDays: 3653,
    });
    const tenant = (await services.platform.getTenant(subject.tenant.id)) ?? subject.tenant;
    const done = await extractInvoice(subject.apiKey, 'Vendor: Long Co\nInvoice No: L-1\nTotal: 1');
    const t0 = submittedAt(done);
    expect(await runAt(new Date(t0.getTime() + 91 * DAY), tenant.id)).toMatchObject({
      erased: 0,
    });
    expect((await getExtraction(done.id, subject.apiKey)).erasedAt).toBeUndefined();
    const stored = await services.platform.tenantDb(tenant).get('evidence', done.evidenceId ?? '');
    expect(
      Date.parse(String(stored?.expireAt)) - Date.parse(String(stored?.createdAt)),
    ).toBeGreaterThan((3653 + EXPIRY_MARGIN_DAYS) * DAY - 60_000);
    expect(await runAt(new Date(t0.getTime() + 401 * DAY), tenant.id)).toMatchObject({
      erased: 1,
    });
  }, 60_000);

  it("honours a schema's own content retention: kept past the tenant's, erased after its own", async () => {
    const subject = await onboard('ret-schema');
    const set = await setRetention(
      subject.tenant.id,
      '--content-days',
      '30',
      '--schema',
      'invoice=120',
    );
    expect(set.code).toBe(0);
    const done = await extractInvoice(
      subject.apiKey,
      'Vendor: Schema Co\nInvoice No: S-1\nTotal: 2',
    );
    const t0 = submittedAt(done);
    // Past the tenant's 30 days but within the invoice schema's 120: kept.
    expect(await runAt(new Date(t0.getTime() + 31 * DAY), subject.tenant.id)).toMatchObject({
      erased: 0,
    });
    expect((await getExtraction(done.id, subject.apiKey)).erasedAt).toBeUndefined();
    expect(await runAt(new Date(t0.getTime() + 121 * DAY), subject.tenant.id)).toMatchObject({
      erased: 1,
    });
    expect((await getExtraction(done.id, subject.apiKey)).erasedAt).toEqual(expect.any(String));
  }, 60_000);

  it('stops at its bound and the next pass resumes where it stopped', async () => {
    const subject = await onboard('ret-pages');
    const first = await extractInvoice(
      subject.apiKey,
      'Vendor: Page Co\nInvoice No: P-1\nTotal: 3',
    );
    const second = await extractInvoice(
      subject.apiKey,
      'Vendor: Page Co\nInvoice No: P-2\nTotal: 4',
    );
    const later = new Date(submittedAt(second).getTime() + 91 * DAY);
    const bounded = ['--max-per-tenant', '1'];
    expect(await runAt(later, subject.tenant.id, ...bounded)).toEqual(
      expect.objectContaining({ erased: 1, examined: 1, more: true }),
    );
    // Oldest first: the first is gone, the second is still there.
    expect((await getExtraction(first.id, subject.apiKey)).erasedAt).toEqual(expect.any(String));
    expect((await getExtraction(second.id, subject.apiKey)).erasedAt).toBeUndefined();
    expect(await runAt(later, subject.tenant.id, ...bounded)).toEqual(
      expect.objectContaining({ erased: 1, examined: 1 }),
    );
    expect((await getExtraction(second.id, subject.apiKey)).erasedAt).toEqual(expect.any(String));
    expect(await runAt(later, subject.tenant.id, ...bounded)).toEqual(
      expect.objectContaining({ erased: 0, examined: 0, more: false }),
    );
  }, 60_000);
});
