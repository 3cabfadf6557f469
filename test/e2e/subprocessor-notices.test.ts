/**
 * Issue 12, sub-processor notices, end to end on the local stack: a customer subscribes an
 * address, confirms it from the mail the stack's SMTP sink received, a registry change between
 * two git refs is announced with the CLI (as a process), the notifier mails the notice, the
 * delivery is in the tenant's sealed export (and `audit verify` passes), and the tenant's
 * objection is recorded. Denial paths first: a wrong token, another tenant, an unconfirmed
 * address, a closed window, an unknown notice.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { runCli } from '../../functions/src/cli/program';
import { parseConfig } from '../../functions/src/config';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { eventEvidenceId } from '../../functions/src/ledger/evidence-writer';
import { createServices, type Services } from '../../functions/src/services';
import { addDays, dayOf, defaultRegistryDir } from '../../functions/src/subprocessors/registry';
import type { SubprocessorNotice } from '../../functions/src/subprocessors/notices';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import {
  deliverSubprocessorNotice,
  deliveryKey,
} from '../../functions/src/webhooks/subprocessor-notices';
import { callApi, eventually, stack } from '../support/api';
import { captureCli } from '../support/cli';
import { entry } from '../support/subprocessors';
import { withinOneUtcDay } from '../support/one-day';
import { sealEverythingNow } from '../support/sealing';

const exec = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const bin = path.join(root, 'scripts', 'provenant.js');
const run = randomBytes(4).toString('hex');
// The file names today's date in what it asserts; the API and the CLI read their own clocks.
let today = '';

// CLI processes (each loads the Google clients) and mail through Pub/Sub push on a shared
// 2-core machine: a budget for processes, not a latency claim.
jest.setTimeout(120_000);

let services: Services;
const customer = { tenant: undefined as unknown as TenantProfile, key: '' };
const other = { tenant: undefined as unknown as TenantProfile, key: '' };
const address = `dpo-${run}@customer.example`;
const unconfirmed = `pending-${run}@customer.example`;
let subscriptionId = '';
let pendingId = '';
let confirmLink = '';
let notice: SubprocessorNotice;
let removal: SubprocessorNotice;
const repo = { dir: '', before: '', after: '' };

/** Quoted-printable (RFC 2045 §6.7), as nodemailer encodes long text lines. */
function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Every message the sink received for `to`, decoded, oldest first. */
function mailsTo(to: string): string[] {
  const dir = stack().mail?.dir;
  if (!dir) throw new Error('the stack runs no SMTP sink (stack.json has no mail)');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.eml'))
    .sort()
    .map((n) => readFileSync(path.join(dir, n), 'utf8'))
    .filter((eml) => eml.includes(`\r\nDelivered-To: ${to}\r\n`))
    .map(decodeQuotedPrintable);
}

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], {
      cwd: root,
      env: process.env,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
    cwd: repo.dir,
    encoding: 'utf8',
  }).trim();

/** The confirmation link's path and query, as the API serves it. */
const linkPath = (link: string) => {
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
};

beforeAll(async () => {
  // The whole file takes about a minute, two on a loaded machine.
  await withinOneUtcDay(5 * 60_000);
  today = dayOf(new Date());
  services = createServices(parseConfig());
  const a = await onboardTenant(services, { tenantId: `notice-${run}`, name: 'Customer' });
  const b = await onboardTenant(services, { tenantId: `notice-other-${run}`, name: 'Other' });
  Object.assign(customer, { tenant: a.tenant, key: a.apiKey.token });
  Object.assign(other, { tenant: b.tenant, key: b.apiKey.token });

  // Two refs of a repository: the registry as committed, then with a new vendor announced today
  // for 30 days from now, as a pull request adding one file would land it.
  repo.dir = mkdtempSync(path.join(tmpdir(), 'notice-repo-'));
  git('init', '-q');
  cpSync(defaultRegistryDir(), path.join(repo.dir, 'subprocessors'), { recursive: true });
  git('add', '.');
  git('commit', '-qm', 'registry');
  repo.before = git('rev-parse', 'HEAD');
  writeFileSync(
    path.join(repo.dir, 'subprocessors', `ocr-${run}.yaml`),
    stringify(
      entry({
        id: `ocr-${run}`,
        legalName: `OCR ${run} Ltd`,
        hosts: [`ocr-${run}.example`],
        announced: today,
        effective: addDays(today, 30),
        reason: 'Better OCR for scanned invoices.',
      }),
    ),
  );
  git('add', '.');
  git('commit', '-qm', `add ocr-${run}`);
  repo.after = git('rev-parse', 'HEAD');
}, 6 * 60_000);

afterAll(async () => {
  await services.close();
});

describe('subscribing: denial paths first', () => {
  it('a subscription starts pending and mails a confirmation link (the token is stored only hashed)', async () => {
    const created = await callApi('/v1/subprocessor-notices/subscriptions', {
      method: 'POST',
      key: customer.key,
      body: { email: address },
    });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ email: address, status: 'pending', confirmedAt: null });
    subscriptionId = (created.body as { id: string }).id;

    const mail = await eventually(() => Promise.resolve(mailsTo(address)[0]));
    expect(mail).toContain('Subject: Confirm your Provenant sub-processor notice subscription');
    const link = /Confirm: (\S+)/.exec(mail)?.[1] ?? '';
    expect(link).toContain(`/v1/subprocessor-notices/subscriptions/${subscriptionId}/confirm?`);
    confirmLink = link;
    const token = new URL(link).searchParams.get('token') ?? '';
    const stored = await services.platform
      .tenantDb(customer.tenant)
      .get('subprocessorSubscriptions', subscriptionId);
    expect(JSON.stringify(stored)).not.toContain(token);

    const second = await callApi('/v1/subprocessor-notices/subscriptions', {
      method: 'POST',
      key: customer.key,
      body: { email: unconfirmed },
    });
    expect(second.status).toBe(202);
    pendingId = (second.body as { id: string }).id;
  });

  it('subscribing a pending address again within 10 minutes mails nothing more (no mail cannon)', async () => {
    expect(mailsTo(unconfirmed)).toHaveLength(1);
    const again = await callApi('/v1/subprocessor-notices/subscriptions', {
      method: 'POST',
      key: customer.key,
      body: { email: unconfirmed },
    });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id: pendingId, status: 'pending' });
    // The API answers after the relay accepted (or was not asked): the sink's folder is final.
    expect(mailsTo(unconfirmed)).toHaveLength(1);
  });

  it('a wrong token answers like an unknown subscription, and confirms nothing', async () => {
    const url = new URL(confirmLink);
    url.searchParams.set('token', 'A'.repeat(43));
    const wrong = await callApi(linkPath(url.toString()));
    const unknown = await callApi(
      linkPath(confirmLink).replace(subscriptionId, 'sub_000000000000000000000000'),
    );
    expect(wrong.status).toBe(404);
    expect(wrong.body).toMatchObject({ error: { code: 'not_found' } });
    expect((wrong.body as { error: { message: string } }).error.message).toBe(
      (unknown.body as { error: { message: string } }).error.message,
    );
    const malformed = await callApi(linkPath(confirmLink).replace(/token=[^&]+/, 'token=short'));
    expect(malformed.status).toBe(400);
    const list = await callApi('/v1/subprocessor-notices/subscriptions', { key: customer.key });
    expect(
      (list.body as { subscriptions: { id: string; status: string }[] }).subscriptions,
    ).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: subscriptionId, status: 'pending' })]),
    );
  });

  it("another tenant cannot see, delete or confirm (under its own name) the customer's subscription", async () => {
    const list = await callApi('/v1/subprocessor-notices/subscriptions', { key: other.key });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ subscriptions: [] });
    const del = await callApi(`/v1/subprocessor-notices/subscriptions/${subscriptionId}`, {
      method: 'DELETE',
      key: other.key,
    });
    const never = await callApi(
      '/v1/subprocessor-notices/subscriptions/sub_000000000000000000000000',
      {
        method: 'DELETE',
        key: other.key,
      },
    );
    expect(del.status).toBe(404);
    expect((del.body as { error: unknown }).error).toMatchObject({
      code: (never.body as { error: { code: string } }).error.code,
    });
    // The right token and id, but the other tenant's name in the link.
    const foreign = await callApi(
      linkPath(confirmLink).replace(`tenant=${customer.tenant.id}`, `tenant=${other.tenant.id}`),
    );
    expect(foreign.status).toBe(404);
  });

  it('a tenant has at most 20 addresses: the 21st is 409 subscription_limit, and is not mailed', async () => {
    for (let i = 0; i < 20; i++) {
      const reply = await callApi('/v1/subprocessor-notices/subscriptions', {
        method: 'POST',
        key: other.key,
        body: { email: `cap-${String(i)}-${run}@other.example` },
      });
      expect([i, reply.status]).toEqual([i, 202]);
    }
    const over = `cap-over-${run}@other.example`;
    const refused = await callApi('/v1/subprocessor-notices/subscriptions', {
      method: 'POST',
      key: other.key,
      body: { email: over },
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'subscription_limit' } });
    expect(mailsTo(over)).toEqual([]);
  });

  it('the mailed link confirms the subscription; following it again changes nothing', async () => {
    const confirmed = await callApi(linkPath(confirmLink));
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ id: subscriptionId, status: 'confirmed' });
    const again = await callApi(linkPath(confirmLink));
    expect(again.body).toEqual(confirmed.body);
    const resubscribed = await callApi('/v1/subprocessor-notices/subscriptions', {
      method: 'POST',
      key: customer.key,
      body: { email: address },
    });
    expect(resubscribed.status).toBe(200);
    expect(mailsTo(address)).toHaveLength(1);
  });
});

describe('a registry change lands: announce, deliver, seal', () => {
  it('announce with no change between the refs announces nothing and says so', async () => {
    const result = await cli(
      'subprocessors',
      'announce',
      repo.after,
      repo.after,
      '--repo',
      repo.dir,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('nothing announced');
  });

  it('announce stores the notice under its change-set hash and publishes it; a rerun is the same notice', async () => {
    const first = await cli(
      'subprocessors',
      'announce',
      repo.before,
      repo.after,
      '--repo',
      repo.dir,
      '--json',
    );
    expect([first.code, first.stderr]).toEqual([0, expect.any(String)]);
    const out = JSON.parse(first.stdout) as { created: boolean; notice: SubprocessorNotice };
    expect(out.created).toBe(true);
    notice = out.notice;
    expect(notice).toMatchObject({
      vendorIds: [`ocr-${run}`],
      effectiveDates: [addDays(today, 30)],
      objectionWindowClosesOn: addDays(today, 30),
      fromCommit: repo.before,
      toCommit: repo.after,
    });
    const rerun = await cli(
      'subprocessors',
      'announce',
      repo.before,
      repo.after,
      '--repo',
      repo.dir,
      '--json',
    );
    expect(JSON.parse(rerun.stdout)).toMatchObject({ created: false, notice: { id: notice.id } });
  });

  it('the notifier mails the confirmed address, and never the unconfirmed one', async () => {
    const mail = await eventually(
      () => Promise.resolve(mailsTo(address).find((m) => m.includes(notice.id))),
      60_000,
    );
    expect(mail).toContain(
      `New sub-processor: OCR ${run} Ltd (ocr-${run}), effective ${addDays(today, 30)}`,
    );
    expect(mail).toContain(`/v1/subprocessor-notices/${notice.id}/objections`);
    expect(mail).toContain(notice.changeSetSha256);
    // The unconfirmed address got its confirmation mail and nothing else.
    expect(mailsTo(unconfirmed).filter((m) => m.includes(notice.id))).toEqual([]);
    expect(mailsTo(unconfirmed)).toHaveLength(1);
  });

  it('each delivery is recorded once in the subscriber tenant, whatever the redeliveries', async () => {
    const db = services.platform.tenantDb(customer.tenant);
    const evidenceId = eventEvidenceId(
      'subprocessor_notice',
      deliveryKey(notice.id, subscriptionId),
    );
    const record = await eventually(() => db.get('evidence', evidenceId));
    expect(record).toMatchObject({
      kind: 'subprocessor_notice',
      subject: { type: 'subprocessor_notice', id: notice.id },
      details: {
        noticeId: notice.id,
        changeSetSha256: notice.changeSetSha256,
        effectiveDates: notice.effectiveDates,
        vendorIds: notice.vendorIds,
        subscriptionId,
        smtpMessageId: expect.stringMatching(/^<.+>$/) as unknown,
        recipientSha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
      },
      actor: { kind: 'service', id: 'notifier' },
    });
    expect(JSON.stringify(record)).not.toContain(address);
    const none = await services.platform
      .tenantDb(customer.tenant)
      .get('evidence', eventEvidenceId('subprocessor_notice', deliveryKey(notice.id, pendingId)));
    expect(none).toBeUndefined();

    // The notifier's own path run once more, as a redelivery would: nothing is mailed again.
    const mailsBefore = mailsTo(address).length;
    const again = await deliverSubprocessorNotice(services, {
      channel: 'subprocessor-notice',
      noticeId: notice.id,
    });
    expect(again).toEqual({ delivered: 0, skipped: 1, failed: 0 });
    expect(mailsTo(address)).toHaveLength(mailsBefore);
    expect(await db.get('evidence', evidenceId)).toEqual(record);
  });

  it('`provenant seal` puts the delivery in the sealed export, and `audit verify` passes', async () => {
    const evidenceId = eventEvidenceId(
      'subprocessor_notice',
      deliveryKey(notice.id, subscriptionId),
    );
    // The seal leaves records younger than SEAL_SAFETY_SECONDS (2 s on the stack) to the next one.
    await new Promise((r) => setTimeout(r, 2500));
    const sealed = await cli('seal');
    expect([sealed.code, sealed.stderr]).toEqual([0, expect.any(String)]);
    // The scheduler may have held the seal that pass wanted (see sealEverything).
    await sealEverythingNow(customer.tenant.id);

    const dir = mkdtempSync(path.join(tmpdir(), 'notice-audit-'));
    const exported = captureCli();
    expect(
      await runCli(['audit', 'export', '--out', dir, '--tenant', customer.tenant.id], exported),
    ).toBe(0);
    const lines: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (f.endsWith('.jsonl')) lines.push(...readFileSync(p, 'utf8').split('\n'));
      }
    };
    walk(dir);
    const delivered = lines
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { id?: string; kind?: string; details?: { noticeId?: string } })
      .find((r) => r.id === evidenceId);
    expect(delivered).toMatchObject({
      kind: 'subprocessor_notice',
      details: { noticeId: notice.id },
    });

    const verified = captureCli();
    expect(
      await runCli(
        ['audit', 'verify', dir, '--json', '--kms-key', services.config.SEALING_KEY_VERSION],
        verified,
      ),
    ).toBe(0);
    expect(JSON.parse(verified.lines[0] ?? '{}')).toMatchObject({ ok: true });
  });
});

describe('objections', () => {
  it('an unknown notice is refused (404), for any tenant', async () => {
    const reply = await callApi(
      '/v1/subprocessor-notices/spn_00000000000000000000000000000000/objections',
      {
        method: 'POST',
        key: customer.key,
        body: { reason: 'no' },
      },
    );
    expect(reply.status).toBe(404);
    expect(reply.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('a notice whose first change applies today is closed to objections (409 objection_window_closed)', async () => {
    // The vendor removed again: a removal applies from its announcement day.
    const announced = await cli(
      'subprocessors',
      'announce',
      repo.after,
      repo.before,
      '--repo',
      repo.dir,
      '--json',
    );
    removal = (JSON.parse(announced.stdout) as { notice: SubprocessorNotice }).notice;
    expect(removal.objectionWindowClosesOn).toBe(today);
    const reply = await callApi(`/v1/subprocessor-notices/${removal.id}/objections`, {
      method: 'POST',
      key: customer.key,
      body: {},
    });
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({
      error: {
        code: 'objection_window_closed',
        details: { noticeId: removal.id, closedOn: today },
      },
    });
    const db = services.platform.tenantDb(customer.tenant);
    expect(
      await db.get('evidence', eventEvidenceId('subprocessor_objection', removal.id)),
    ).toBeUndefined();
  });

  it('inside the window the objection is recorded as subprocessor_objection in the objecting tenant only, once', async () => {
    const reason = `We do not accept processing by OCR ${run}.`;
    const reply = await callApi(`/v1/subprocessor-notices/${notice.id}/objections`, {
      method: 'POST',
      key: customer.key,
      body: { reason },
    });
    expect(reply.status).toBe(201);
    const evidenceId = eventEvidenceId('subprocessor_objection', notice.id);
    expect(reply.body).toEqual({ noticeId: notice.id, evidenceId, created: true });
    const record = await services.platform.tenantDb(customer.tenant).get('evidence', evidenceId);
    expect(record).toMatchObject({
      kind: 'subprocessor_objection',
      tenantId: customer.tenant.id,
      details: {
        noticeId: notice.id,
        changeSetSha256: notice.changeSetSha256,
        vendorIds: [`ocr-${run}`],
        objectedOn: today,
        reasonSha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
      },
      actor: { kind: 'apiKey' },
    });
    // The reason stays in the tenant's database; the log holds its hash only.
    expect(JSON.stringify(record)).not.toContain(reason);
    const again = await callApi(`/v1/subprocessor-notices/${notice.id}/objections`, {
      method: 'POST',
      key: customer.key,
      body: {},
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ noticeId: notice.id, evidenceId, created: false });
    expect(
      await services.platform.tenantDb(other.tenant).get('evidence', evidenceId),
    ).toBeUndefined();
  });

  it('the objection evidence is readable by the tenant through the API, like any record', async () => {
    const evidenceId = eventEvidenceId('subprocessor_objection', notice.id);
    const own = await callApi(`/v1/evidence/${evidenceId}`, { key: customer.key });
    expect(own.status).toBe(200);
    const foreign = await callApi(`/v1/evidence/${evidenceId}`, { key: other.key });
    expect(foreign.status).toBe(404);
  });
});

describe("the auditor's evidence pack", () => {
  it('names the notice delivered to the customer and its objection, from the sealed export', async () => {
    await new Promise((r) => setTimeout(r, 2500));
    const sealed = await cli('seal');
    expect([sealed.code, sealed.stderr]).toEqual([0, expect.any(String)]);
    // The scheduler may have held the seal that pass wanted (see sealEverything).
    await sealEverythingNow(customer.tenant.id);
    const work = mkdtempSync(path.join(tmpdir(), 'notice-pack-'));
    const keyFile = path.join(work, 'platform.pem');
    writeFileSync(
      keyFile,
      await services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION),
    );
    const out = path.join(work, 'pack');
    const packed = await cli(
      'evidence-pack',
      '--tenant',
      customer.tenant.id,
      '--from',
      addDays(today, -1),
      '--to',
      addDays(today, 1),
      '--out',
      out,
      '--source',
      `gs://${services.config.AUDIT_BUCKET}`,
      '--public-key',
      keyFile,
    );
    expect({ code: packed.code, stderr: packed.stderr }).toMatchObject({ code: 0 });
    const notices = JSON.parse(readFileSync(path.join(out, 'notices.json'), 'utf8')) as {
      kind: string;
      details: { noticeId?: string };
    }[];
    expect(notices.map((n) => [n.kind, n.details.noticeId])).toEqual(
      expect.arrayContaining([
        ['subprocessor_notice', notice.id],
        ['subprocessor_objection', notice.id],
      ]),
    );
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain(notice.id);
  });
});
