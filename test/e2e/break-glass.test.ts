/**
 * Issue 13, break-glass access, over HTTP against the local stack: the `ops` function's access
 * requests, decisions and grant-bound content routes, the `api` function's transparency feed,
 * the sealed export (`provenant seal`, then the audit bucket verified as an auditor would) and
 * the security channel's notices. Denial paths first; then the one way in.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../functions/src/cli/program';
import { parseConfig } from '../../functions/src/config';
import { loadTenantLog } from '../../functions/src/evidence/receipts';
import { verifyExport } from '../../functions/src/evidence/verify-export';
import { createApiRouter } from '../../functions/src/http/api';
import { createOpsRouter } from '../../functions/src/http/ops';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, type Services } from '../../functions/src/services';
import { bucketSource } from '../../functions/src/storage/bucket-source';
import {
  authAdmin,
  callApi,
  eventually,
  extractInvoice,
  functionLog,
  stack,
  withoutRequestId,
} from '../support/api';
import { captureCli } from '../support/cli';

const run = randomBytes(4).toString('hex');
let services: Services;
const tenants = {
  a: { id: `bg-a-${run}`, apiKey: '', extractions: [] as string[] },
  b: { id: `bg-b-${run}`, apiKey: '', extractions: [] as string[] },
};

/** The people of this file, each with the claims the ops function reads. */
const PEOPLE = {
  engineer: { access_roles: ['engineer'] },
  otherEngineer: { access_roles: ['engineer'] },
  engineerApprover: { access_roles: ['engineer', 'approver'] },
  approver1: { access_roles: ['approver'] },
  approver2: { access_roles: ['approver'] },
} as const;
type Person = keyof typeof PEOPLE;
const uid = (p: Person) => `${p}-${run}`;
const tokens = {} as Record<Person | 'tenantAdmin', string>;
/** Requests the access review must flag, by the test that made them. */
const made = { selfApproval: '', expiredUnused: '', success: '' };

interface OpsReply {
  status: number;
  body: Record<string, unknown> & { error?: { code: string } };
}

async function ops(method: string, path: string, token: string, body?: unknown): Promise<OpsReply> {
  const response = await fetch(`${stack().opsUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as OpsReply['body'] };
}

const code = (reply: { body: unknown }) =>
  (withoutRequestId(reply.body) as { error?: { code?: string } }).error?.code;

interface RequestOptions {
  tenantId?: string;
  scope?: Record<string, unknown>;
  ticket?: string | undefined;
  durationMinutes?: number;
}

function requestBody(options: RequestOptions = {}): Record<string, unknown> {
  return {
    tenantId: options.tenantId ?? tenants.a.id,
    scope: options.scope ?? { extractionIds: [tenants.a.extractions[0]] },
    justification: 'Customer reports a wrong total on this invoice (e2e)',
    ...('ticket' in options ? { ticket: options.ticket } : { ticket: 'SEC-1301' }),
    durationMinutes: options.durationMinutes ?? 30,
  };
}

async function request(by: Person, options: RequestOptions = {}): Promise<string> {
  const reply = await ops('POST', '/v1/access-requests', tokens[by], requestBody(options));
  expect({ status: reply.status, code: code(reply) }).toEqual({ status: 201, code: undefined });
  expect(reply.body.status).toBe('pending');
  return reply.body.id as string;
}

const decide = (id: string, action: 'approve' | 'deny' | 'revoke', by: Person | 'tenantAdmin') =>
  ops('POST', `/v1/access-requests/${id}/${action}`, tokens[by], {
    justification: `${action} in e2e`,
  });

/** A request by `by`, approved by both approvers. */
async function approvedGrant(by: Person, options: RequestOptions = {}): Promise<string> {
  const id = await request(by, options);
  expect((await decide(id, 'approve', 'approver1')).status).toBe(200);
  const second = await decide(id, 'approve', 'approver2');
  expect(second.body.status).toBe('approved');
  return id;
}

const readExtraction = (grant: string, extractionId: string, by: Person = 'engineer') =>
  ops('GET', `/v1/access-requests/${grant}/extractions/${extractionId}`, tokens[by]);

beforeAll(async () => {
  services = createServices(parseConfig());
  for (const t of Object.values(tenants)) {
    const onboarded = await onboardTenant(services, {
      tenantId: t.id,
      name: `Break glass ${t.id}`,
    });
    t.apiKey = onboarded.apiKey.token;
  }
  for (const [t, n] of [
    [tenants.a, 1],
    [tenants.a, 2],
    [tenants.b, 3],
  ] as const) {
    const done = await extractInvoice(
      t.apiKey,
      `Vendor: Glass Works ${String(n)}\nInvoice No: BG-${String(n)}\nTotal: ${String(n)}0.00`,
    );
    t.extractions.push(done.id);
  }
  const people = Object.entries(PEOPLE) as [Person, Record<string, unknown>][];
  const results = await authAdmin([
    ...people.map(([p, claims]) => ({ op: 'user' as const, uid: uid(p), claims })),
    { op: 'user', uid: `tenant-admin-${run}`, claims: { tenant_id: tenants.a.id, role: 'admin' } },
    ...people.map(([p]) => ({ op: 'idToken' as const, uid: uid(p) })),
    { op: 'idToken', uid: `tenant-admin-${run}` },
  ]);
  const issued = results.slice(people.length + 1) as string[];
  people.forEach(([p], i) => (tokens[p] = issued[i] ?? ''));
  tokens.tenantAdmin = issued[people.length] ?? '';
}, 120_000);

afterAll(async () => {
  await services.close();
});

describe('break-glass denials (issue 13)', () => {
  it('self-approval: the requester cannot approve their own request, and the attempt is kept', async () => {
    const id = await request('engineerApprover');
    made.selfApproval = id;
    const reply = await decide(id, 'approve', 'engineerApprover');
    expect({ status: reply.status, code: code(reply) }).toEqual({
      status: 403,
      code: 'self_approval',
    });
    const after = await ops('GET', `/v1/access-requests/${id}`, tokens.approver1);
    expect({ status: after.body.status, approvals: after.body.approvals }).toEqual({
      status: 'pending',
      approvals: [],
    });
    const attempts = await services.platform
      .tenantDb({ id: tenants.a.id })
      .list('accessDecisions', { where: [['requestId', '==', id]] });
    expect(attempts.map((a) => [a.data.kind, a.data.byUid])).toEqual([
      ['self_approval_attempt', uid('engineerApprover')],
    ]);
    // Nor does the approval of one other approver open a content scope.
    await decide(id, 'approve', 'approver1');
    expect(code(await readExtraction(id, tenants.a.extractions[0] ?? '', 'engineerApprover'))).toBe(
      'grant_not_approved',
    );
  });

  it('one approval where two are required: the request stays pending and reads are refused', async () => {
    const id = await request('engineer');
    const first = await decide(id, 'approve', 'approver1');
    expect(first.body).toMatchObject({ status: 'pending', requiredApprovals: 2 });
    const read = await readExtraction(id, tenants.a.extractions[0] ?? '');
    expect({ status: read.status, code: code(read) }).toEqual({
      status: 403,
      code: 'grant_not_approved',
    });
    // The same approver twice is still one approval.
    const again = await decide(id, 'approve', 'approver1');
    expect({ status: again.status, code: code(again) }).toEqual({
      status: 409,
      code: 'already_approved',
    });
    // An approver's role is checked too: an engineer cannot approve.
    expect(code(await decide(id, 'approve', 'otherEngineer'))).toBe('missing_access_role');
  });

  it('evidence alone needs one approval, and reads nothing else', async () => {
    const id = await request('engineer', { scope: { evidence: true } });
    const approved = await decide(id, 'approve', 'approver1');
    expect(approved.body).toMatchObject({ status: 'approved', requiredApprovals: 1 });
    const evidence = await ops('GET', `/v1/access-requests/${id}/evidence`, tokens.engineer);
    expect(evidence.status).toBe(200);
    expect(code(await readExtraction(id, tenants.a.extractions[0] ?? ''))).toBe('out_of_scope');
  });

  it('expired grant: a grant past its duration reads nothing', async () => {
    // Three seconds: the shortest grants are allowed so nobody waits minutes for expiry.
    const id = await approvedGrant('engineer', { durationMinutes: 0.05 });
    made.expiredUnused = id;
    await eventually(async () => {
      const reply = await ops('GET', `/v1/access-requests/${id}`, tokens.engineer);
      return reply.body.status === 'expired' ? true : undefined;
    }, 20_000);
    const read = await readExtraction(id, tenants.a.extractions[0] ?? '');
    expect({ status: read.status, code: code(read) }).toEqual({
      status: 403,
      code: 'grant_expired',
    });
    expect(code(await decide(id, 'revoke', 'approver1'))).toBe('request_closed');
  });

  it('revoked grant: revocation takes effect on the next read', async () => {
    const id = await approvedGrant('engineer');
    expect((await readExtraction(id, tenants.a.extractions[0] ?? '')).status).toBe(200);
    const revoked = await decide(id, 'revoke', 'approver2');
    expect(revoked.body.status).toBe('revoked');
    const read = await readExtraction(id, tenants.a.extractions[0] ?? '');
    expect({ status: read.status, code: code(read) }).toEqual({
      status: 403,
      code: 'grant_revoked',
    });
    // A revoked request cannot be approved back to life.
    expect(code(await decide(id, 'approve', 'approver1'))).toBe('request_not_pending');
  });

  it('a denied request reads nothing and cannot be approved afterwards', async () => {
    const id = await request('engineer');
    expect((await decide(id, 'deny', 'approver1')).body.status).toBe('denied');
    expect(code(await decide(id, 'approve', 'approver2'))).toBe('request_not_pending');
    expect(code(await readExtraction(id, tenants.a.extractions[0] ?? ''))).toBe(
      'grant_not_approved',
    );
  });

  it('out-of-scope resource: a grant reads exactly what it names', async () => {
    const id = await approvedGrant('engineer');
    const [granted, other] = tenants.a.extractions;
    expect((await readExtraction(id, granted ?? '')).status).toBe(200);
    for (const path of [
      `/v1/access-requests/${id}/extractions/${other ?? ''}`,
      `/v1/access-requests/${id}/documents/${granted ?? ''}`,
      `/v1/access-requests/${id}/evidence`,
      `/v1/access-requests/${id}/extractions/not%2Fan-id`,
    ]) {
      const reply = await ops('GET', path, tokens.engineer);
      expect({ path, status: reply.status, code: code(reply) }).toEqual({
        path,
        status: 403,
        code: 'out_of_scope',
      });
    }
  });

  it("wrong tenant: a request cannot name another tenant's resources, nor a grant read them", async () => {
    const [ofB] = tenants.b.extractions;
    const named = await ops(
      'POST',
      '/v1/access-requests',
      tokens.engineer,
      requestBody({ scope: { extractionIds: [ofB] } }),
    );
    expect({ status: named.status, code: code(named) }).toEqual({
      status: 422,
      code: 'unknown_resource',
    });
    const grant = await approvedGrant('engineer');
    expect(code(await readExtraction(grant, ofB ?? ''))).toBe('out_of_scope');
    // Tenant B's feed shows nothing of tenant A's grants.
    const feed = await callApi('/v1/access-transparency', { key: tenants.b.apiKey });
    expect(feed.body).toEqual({ data: [], nextPageToken: null });
  });

  it('missing ticket, malformed ticket, duration over the max and a bad start are refused', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['no ticket', requestBody({ ticket: undefined }), 'ticket_required'],
      ['an empty ticket', requestBody({ ticket: '' }), 'ticket_required'],
      ['a free-text ticket', requestBody({ ticket: 'see slack' }), 'invalid_ticket'],
      ['a lower-case key', requestBody({ ticket: 'sec-12' }), 'invalid_ticket'],
      ['241 minutes', requestBody({ durationMinutes: 241 }), 'duration_too_long'],
      ['a start tomorrow+', { ...requestBody(), startAt: '2099-01-01T00:00:00Z' }, 'invalid_start'],
      ['an empty scope', requestBody({ scope: {} }), 'invalid_request'],
    ];
    for (const [name, body, expected] of cases) {
      const reply = await ops('POST', '/v1/access-requests', tokens.engineer, body);
      expect({ name, status: reply.status, code: code(reply) }).toEqual({
        name,
        status: 400,
        code: expected,
      });
    }
  });

  it('an engineer without a grant reads no content through any API or ops route', async () => {
    const [exA] = tenants.a.extractions;
    const fill = (pattern: string) =>
      pattern
        .replace(':id', exA ?? 'x')
        .replace(':keyId', 'abcdefghijklmnop')
        .replace(':name', 'invoice')
        .replace(':extractionId', exA ?? 'x')
        .replace(':documentId', exA ?? 'x');
    // Every route of the customer API: an engineer's token names no tenant.
    for (const r of createApiRouter({} as Services).list()) {
      if (r.auth === 'none') continue;
      const reply = await callApi(fill(r.pattern), {
        method: r.method,
        key: tokens.engineer,
        ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { body: {} }),
      });
      expect({ route: `${r.method} ${r.pattern}`, status: reply.status }).toEqual({
        route: `${r.method} ${r.pattern}`,
        status: 403,
      });
    }
    // Every operator route: an engineer is not an operator.
    for (const r of createOpsRouter({} as Services)
      .list()
      .filter((x) => x.auth === 'operator')) {
      const reply = await ops(r.method, fill(r.pattern), tokens.engineer, {});
      expect({ route: r.pattern, code: code(reply) }).toEqual({
        route: r.pattern,
        code: 'not_operator',
      });
    }
    // Someone else's approved grant, and a grant that does not exist.
    const others = await approvedGrant('otherEngineer');
    expect(code(await readExtraction(others, exA ?? ''))).toBe('not_grant_holder');
    expect(code(await readExtraction('ar_000000000000000000000000', exA ?? ''))).toBe('not_found');
    // The tenant's own admin and an approver are not engineers.
    expect(code(await readExtraction(others, exA ?? '', 'approver1'))).toBe('missing_access_role');
    const admin = await ops(
      'GET',
      `/v1/access-requests/${others}/extractions/${exA ?? ''}`,
      tokens.tenantAdmin,
    );
    expect(code(admin)).toBe('missing_access_role');
    // No content_access record was written for any of these refusals.
    const records = await services.platform
      .tenantDb({ id: tenants.a.id })
      .list('evidence', { where: [['kind', '==', 'content_access']] });
    const underOthers = records.filter(
      (r) => (r.data.details as { grantId?: unknown }).grantId === others,
    );
    expect(underOthers).toEqual([]);
  });
});

describe('break-glass success path (issue 13)', () => {
  it('a read under an active grant returns the content, is sealed and exported, and the tenant sees it', async () => {
    const [exA] = tenants.a.extractions;
    const id = await approvedGrant('engineer', {
      scope: { extractionIds: [exA], documentIds: [exA] },
      ticket: 'INC-42',
    });
    made.success = id;
    const extraction = await readExtraction(id, exA ?? '');
    expect(extraction.status).toBe(200);
    const result = (
      extraction.body.extraction as { result: { fields: { total: { value: string } } } }
    ).result;
    expect(result.fields.total.value).toBe('10.00');
    const document = await ops(
      'GET',
      `/v1/access-requests/${id}/documents/${exA ?? ''}`,
      tokens.engineer,
    );
    expect(document.status).toBe(200);
    expect(Buffer.from(document.body.contentBase64 as string, 'base64').toString('utf8')).toContain(
      'Glass Works 1',
    );

    // The tenant's feed: both reads, newest first, with the grant, approvers and ticket.
    const page1 = await callApi('/v1/access-transparency?limit=1', { key: tenants.a.apiKey });
    const body1 = page1.body as { data: Record<string, unknown>[]; nextPageToken: string | null };
    expect(page1.status).toBe(200);
    expect(body1.data).toHaveLength(1);
    expect(body1.nextPageToken).not.toBeNull();
    const page2 = await callApi(
      `/v1/access-transparency?limit=1&pageToken=${body1.nextPageToken ?? ''}`,
      { key: tenants.a.apiKey },
    );
    const body2 = page2.body as { data: Record<string, unknown>[] };
    const mine = [...body1.data, ...body2.data];
    expect(mine.map((e) => e.subject)).toEqual([
      { type: 'document', id: exA },
      { type: 'extraction', id: exA },
    ]);
    for (const entry of mine) {
      expect(entry).toMatchObject({
        actor: { kind: 'user', id: uid('engineer') },
        purpose: 'break_glass',
        grant: {
          id,
          ticket: 'INC-42',
          requester: uid('engineer'),
          approvers: [uid('approver1'), uid('approver2')],
        },
      });
    }
    const evidenceIds = mine.map((e) => e.evidenceId as string);

    // Sealed like every record: `provenant seal`, then the audit bucket verified and read.
    const source = bucketSource(
      services.objects,
      services.config.AUDIT_BUCKET,
      services.config.AUDIT_EXPORT_PREFIX,
      { under: tenants.a.id },
    );
    const sealed = await eventually(async () => {
      const cli = captureCli();
      expect(await runCli(['seal'], cli)).toBe(0);
      const log = await loadTenantLog(source, tenants.a.id);
      const ids = new Set(log.records.map((r) => r.id));
      return evidenceIds.every((e) => ids.has(e)) ? log : undefined;
    }, 25_000);
    const record = sealed.records.find((r) => r.id === evidenceIds[1]);
    expect(record).toMatchObject({
      kind: 'content_access',
      subject: { type: 'extraction', id: exA },
      details: { grantId: id, ticket: 'INC-42', purpose: 'break_glass' },
    });
    const report = await verifyExport(source, async (v) =>
      v === services.config.SEALING_KEY_VERSION
        ? services.keyManager.getPublicKeyPem(v)
        : undefined,
    );
    expect(report.tenants.find((t) => t.tenantId === tenants.a.id)?.problems).toEqual([]);

    // The security channel heard of the request, both approvals and both reads.
    const notices = await eventually(() => {
      const lines = functionLog('notifier').filter(
        (l) => l.event === 'security_notice' && l.requestId === id,
      );
      return Promise.resolve(lines.length >= 5 ? lines : undefined);
    }, 20_000);
    expect(notices.map((l) => l.eventType).sort()).toEqual([
      'access.approved',
      'access.approved',
      'access.requested',
      'access.used',
      'access.used',
    ]);
  });

  it('provenant access-review reports the period with its anomalies, as HTML and CSV', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'access-review-'));
    const cli = captureCli();
    // From yesterday: the grants above were made before this test, perhaps before midnight.
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(
      await runCli(['access-review', '--from', yesterday, '--to', tomorrow, '--out', out], cli),
    ).toBe(0);
    const summary = JSON.parse(cli.lines.join('\n')) as {
      html: string;
      csv: string;
      flagged: { requestId: string; anomalies: string[] }[];
    };
    const flagsOf = (id: string) => summary.flagged.find((f) => f.requestId === id)?.anomalies;
    expect(flagsOf(made.selfApproval)).toContain('self_approval_attempt');
    expect(flagsOf(made.expiredUnused)).toEqual(['grant_never_used']);
    expect(flagsOf(made.success)).toBeUndefined();
    const csv = readFileSync(summary.csv, 'utf8');
    expect(
      csv
        .split('\r\n')
        .filter((l) => l.includes(made.success))
        .map((l) => l.split(',')[1]),
    ).toEqual(['"request"', '"approval"', '"approval"', '"access"', '"access"']);
    expect(readFileSync(summary.html, 'utf8')).toContain(made.selfApproval);
  });

  it('the seeded people of .local/stack.json sign in with their passwords', async () => {
    const people = stack().people;
    expect(people.map((p) => p.role).sort()).toEqual(['admin', 'approver', 'approver', 'engineer']);
    for (const person of people) {
      const res = await fetch(
        `http://${stack().emulators.auth}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=any`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            email: person.email,
            password: person.password,
            returnSecureToken: true,
          }),
        },
      );
      const body = (await res.json()) as { idToken?: string };
      expect({ email: person.email, signedIn: typeof body.idToken === 'string' }).toEqual({
        email: person.email,
        signedIn: true,
      });
    }
  });
});
