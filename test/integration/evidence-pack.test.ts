/**
 * Issue 15, the evidence pack, end to end on the local stack: a tenant extracts, its model is
 * changed (tenant provider settings), its custom schema gets a new version (a reworded field
 * description: what the model is instructed with besides the system prompt), an engineer reads
 * one extraction under a break-glass grant, `provenant seal` runs as a process, and then
 * `provenant evidence-pack` runs as a process against the stack's audit bucket with the
 * platform public key as its trust root. The pack must name the model change, the schema
 * (prompt) change and the access, carry the sub-processor notices section, and its report must
 * render in a real headless browser (a screenshot is kept for a person to look at).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { parseConfig } from '../../functions/src/config';
import type { ControlChange } from '../../functions/src/evidence/pack/changes';
import type { PackEvent } from '../../functions/src/evidence/pack/events';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, type Services } from '../../functions/src/services';
import {
  authAdmin,
  callApi,
  extractInvoice,
  stack,
  waitForTerminal,
  withCanary,
} from '../support/api';
import { sealEverythingNow } from '../support/sealing';

const exec = promisify(execFile);
jest.setTimeout(300_000);

const root = path.resolve(__dirname, '..', '..');
const CLI = path.join(root, 'scripts', 'provenant.js');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = path.resolve(root, '.local', 'screenshots', 'evidence-pack.png');
const run = randomBytes(4).toString('hex');
const tenantId = `pack-${run}`;
const schemaName = `po-${run}`;
const ticket = `SEC-${String(parseInt(run, 16) % 1_000_000_000)}`;

let services: Services;
let apiKey: string;
let work: string;
let out: string;
let grantedExtraction: string;
const people = { engineer: `pack-eng-${run}`, a1: `pack-ap1-${run}`, a2: `pack-ap2-${run}` };
const tokens: Record<keyof typeof people, string> = { engineer: '', a1: '', a2: '' };

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function provenant(args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], {
      env,
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function ops(method: string, pathname: string, token: string, body?: unknown) {
  const response = await fetch(`${stack().opsUrl}${pathname}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function extractWithSchema(): Promise<void> {
  const reply = await callApi('/v1/extractions', {
    method: 'POST',
    key: apiKey,
    body: {
      document: {
        contentType: 'text/plain',
        text: withCanary('Purchase order 7\nSupplier: Contoso Metals\nUnits: 12'),
      },
      schema: schemaName,
    },
  });
  expect(reply.status).toBe(202);
  const done = await waitForTerminal((reply.body as { id: string }).id, apiKey);
  expect(done.status).toBe('succeeded');
}

const poSchema = (description: string) => ({
  type: 'object',
  properties: {
    supplier: { type: 'string', description },
    units: { type: 'integer', description: 'Labels: Units' },
  },
  required: ['supplier', 'units'],
  additionalProperties: false,
});

beforeAll(async () => {
  services = createServices(parseConfig());
  const from = new Date();
  const onboarded = await onboardTenant(services, {
    tenantId,
    name: 'Evidence pack',
    providers: { primary: 'openai', fallback: null },
  });
  apiKey = onboarded.apiKey.token;

  // Extractions with the platform's default model, then with another one (a model change).
  grantedExtraction = (await extractInvoice(apiKey, 'Vendor: Pack One\nTotal: 10.00')).id;
  await extractInvoice(apiKey, 'Vendor: Pack Two\nTotal: 20.00');
  await services.platform.setTenantProviders(tenantId, {
    primary: 'openai',
    fallback: null,
    models: { openai: 'gpt-4o' },
  });
  await extractInvoice(apiKey, 'Vendor: Pack Three\nTotal: 30.00');

  // A custom schema, used, then edited: version 2 is a new system prompt.
  const created = await callApi('/v1/schemas', {
    method: 'POST',
    key: apiKey,
    body: {
      name: schemaName,
      description: 'Purchase orders',
      jsonSchema: poSchema('Labels: Supplier'),
    },
  });
  expect(created.status).toBe(201);
  await extractWithSchema();
  const edited = await callApi(`/v1/schemas/${schemaName}/versions`, {
    method: 'POST',
    key: apiKey,
    body: { jsonSchema: poSchema('Labels: Supplier, Vendor, Seller') },
  });
  expect(edited.status).toBe(201);
  await extractWithSchema();

  // A break-glass read of the first extraction: requested, approved twice, read.
  const ids = Object.values(people);
  const issued = await authAdmin([
    { op: 'user', uid: people.engineer, claims: { access_roles: ['engineer'] } },
    { op: 'user', uid: people.a1, claims: { access_roles: ['approver'] } },
    { op: 'user', uid: people.a2, claims: { access_roles: ['approver'] } },
    ...ids.map((uid) => ({ op: 'idToken' as const, uid })),
  ]);
  const [engineer = '', a1 = '', a2 = ''] = issued.slice(3) as string[];
  Object.assign(tokens, { engineer, a1, a2 });
  const requested = await ops('POST', '/v1/access-requests', tokens.engineer, {
    tenantId,
    scope: { extractionIds: [grantedExtraction] },
    justification: 'Customer reports a wrong total (evidence pack e2e)',
    ticket,
    durationMinutes: 30,
  });
  expect({ status: requested.status, body: requested.body }).toMatchObject({ status: 201 });
  const grant = requested.body.id as string;
  for (const approver of [tokens.a1, tokens.a2]) {
    const decided = await ops('POST', `/v1/access-requests/${grant}/approve`, approver, {
      justification: 'approve in e2e',
    });
    expect(decided.status).toBe(200);
  }
  const read = await ops(
    'GET',
    `/v1/access-requests/${grant}/extractions/${grantedExtraction}`,
    tokens.engineer,
  );
  expect(read.status).toBe(200);

  // `provenant seal` as a process: everything written so far is sealed and exported.
  const sealed = await provenant(['seal'], { ...process.env, SEAL_SAFETY_SECONDS: '0' });
  expect({ code: sealed.code, stderr: sealed.stderr }).toMatchObject({ code: 0 });
  // The stack's scheduler seals this log too, and may have held the seq that pass wanted:
  // then the newest records wait for another pass (see sealEverything).
  await sealEverythingNow(tenantId);

  work = mkdtempSync(path.join(os.tmpdir(), 'provenant-pack-'));
  const keyFile = path.join(work, 'platform.pem');
  writeFileSync(
    keyFile,
    await services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION),
  );
  out = path.join(work, 'pack');
  const day = 86_400_000;
  // As an auditor runs it: nothing but PATH, HOME and the storage emulator's endpoint.
  const packed = await provenant(
    [
      'evidence-pack',
      '--tenant',
      tenantId,
      '--from',
      new Date(from.getTime() - day).toISOString().slice(0, 10),
      '--to',
      new Date(Date.now() + day).toISOString().slice(0, 10),
      '--out',
      out,
      '--source',
      `gs://${services.config.AUDIT_BUCKET}`,
      '--public-key',
      keyFile,
    ],
    {
      PATH: process.env.PATH ?? '',
      HOME: work,
      STORAGE_API_ENDPOINT: process.env.STORAGE_API_ENDPOINT ?? '',
    },
  );
  expect(packed).toMatchObject({ code: 0 });
  expect(packed.stdout).toContain(`pack written to ${out} and ${out}.zip`);
  expect(packed.stderr).toMatch(/verified records \d+\/\d+/);
  expect(packed.stderr).toMatch(/evidence pack \d+\/\d+/);
});

afterAll(async () => {
  await services.close();
});

const readJson = (name: string): unknown => JSON.parse(readFileSync(path.join(out, name), 'utf8'));

describe('evidence pack over a period with a model change, a prompt change and a break-glass read', () => {
  it('verifies the sealed log and proves every sampled extraction under the trust root', () => {
    const summary = readJson('summary.json') as {
      verification: { ok: boolean };
      counts: { extractions: number; sample: number; sampleVerified: number };
    };
    expect(summary.verification.ok).toBe(true);
    expect(summary.counts).toMatchObject({ extractions: 5, sample: 5, sampleVerified: 5 });
    expect(readFileSync(path.join(out, 'sample.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5);
  });

  it('names the model change and the schema (prompt) change in changes.json', () => {
    const changes = readJson('changes.json') as ControlChange[];
    const model = changes.find((c) => c.component === 'model' && c.from !== null);
    expect(model).toMatchObject({ scope: 'invoice', source: 'extraction' });
    expect(model?.from).toContain('openai/gpt-4o-mini');
    expect(model?.to).toMatch(/^openai\/gpt-4o \(/);
    // The prompt change: the schema's version 2 rewords a field's description, an instruction
    // the model reads with the schema. The system prompt itself is built from the schema's name
    // only (extraction/prompt.ts), so its hash stays and no prompt line may be invented for it.
    expect(changes.find((c) => c.component === 'schema' && c.from !== null)).toMatchObject({
      scope: schemaName,
      source: 'extraction',
      from: expect.stringMatching(/^v1 [0-9a-f]{64}$/) as unknown,
      to: expect.stringMatching(/^v2 [0-9a-f]{64}$/) as unknown,
    });
    expect(changes.filter((c) => c.component === 'prompt' && c.from !== null)).toEqual([]);
  });

  it('lists the break-glass read with its requester, approvers and ticket', () => {
    const access = readJson('access.json') as PackEvent[];
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      kind: 'content_access',
      subject: { type: 'extraction', id: grantedExtraction },
      details: { requester: people.engineer, ticket },
    });
    expect([...((access[0]?.details.approvers as string[] | undefined) ?? [])].sort()).toEqual(
      [people.a1, people.a2].sort(),
    );
  });

  it('carries the sub-processor notices and key events sections', () => {
    expect(Array.isArray(readJson('notices.json'))).toBe(true);
    expect(Array.isArray(readJson('keys.json'))).toBe(true);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<section id="notices"');
  });
});

describe('the report in a headless browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser.close();
  });

  it('renders every section, names the changes and the access, draws both charts, and is kept as a screenshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const response = await page.goto(`file://${path.join(out, 'report.html')}`);
    expect(response?.ok()).toBe(true);
    expect(await page.locator('h1').textContent()).toBe(`Evidence pack: ${tenantId}`);
    expect(await page.locator('h2').allTextContents()).toEqual([
      'Seal verification',
      'Continuity',
      'Control change log',
      'Sample of extractions',
      'Break-glass access review',
      'Sub-processor notices',
      'Key events',
      'Other events',
    ]);
    const changes = (await page.locator('#changes td.change').allTextContents()).join('\n');
    expect(changes).toMatch(
      /Model \(schema invoice\) changed: openai\/gpt-4o-mini .* → openai\/gpt-4o /,
    );
    expect(changes).toMatch(
      new RegExp(
        `Schema version \\(schema ${schemaName}\\) changed: v1 [0-9a-f]{64} → v2 [0-9a-f]{64}`,
      ),
    );
    expect(await page.locator('#access tbody tr').count()).toBe(1);
    expect(await page.locator('#access tbody').textContent()).toContain(people.engineer);
    for (const id of ['chart-records', 'chart-seal-lag']) {
      const chart = page.locator(`svg#${id}`);
      expect(await chart.isVisible()).toBe(true);
      expect(await chart.locator('rect.bar').count()).toBeGreaterThan(0);
    }
    expect(await page.locator('#verification .ok').first().textContent()).toContain('verified');
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe('PNG');
    await page.close();
  });
});
