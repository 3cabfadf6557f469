/**
 * Issue 18, the CLI as a user meets it: `provenant` run as a process (the package's bin), its
 * stdout, stderr and exit code. Each `describe` is one bullet of the issue.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../../functions/src/config';
import { sealTenantEvidence } from '../../functions/src/ledger/sealer';
import { offboardTenant } from '../../functions/src/lifecycle/offboarding';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, type Services } from '../../functions/src/services';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import { extractInvoice } from '../support/api';

const exec = promisify(execFile);

// Each test here starts the CLI as a process (Node loading the Google, Firebase and provider
// clients), some of them three times; on the 2-core CI machine under a full run one start took
// ten seconds. This is a budget for several processes, not a latency claim.
const SPAWNS_BUDGET_MS = 120_000;
const root = path.resolve(__dirname, '..', '..');
const bin = path.join(root, 'scripts', 'provenant.js');
const run = randomBytes(4).toString('hex');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `provenant ...args` as a separate process; stdin is not a terminal. */
async function cli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; entry?: string } = {},
): Promise<Result> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [options.entry ?? bin, ...args], {
      env: options.env ?? process.env,
      cwd: options.cwd ?? root,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let services: Services;
let tenant: TenantProfile;
let extractionIds: string[];
let evidenceIds: string[];
let work: string;
let exportDir: string;
let keyFile: string;

beforeAll(async () => {
  services = createServices(parseConfig({ ...process.env, SEAL_SAFETY_SECONDS: '0' }));
  const onboarded = await onboardTenant(services, { tenantId: `cli-user-${run}`, name: 'CLI' });
  tenant = onboarded.tenant;
  const done = [];
  for (let i = 0; i < 3; i++) {
    done.push(
      await extractInvoice(onboarded.apiKey.token, `Vendor: CLI ${String(i)}\nTotal: 5.00`),
    );
    // One seal per record: consistency between seals needs more than one.
    await sealTenantEvidence(services, tenant, new Date());
  }
  extractionIds = done.map((d) => d.id);
  evidenceIds = done.map((d) => d.evidenceId ?? '');
  work = mkdtempSync(path.join(os.tmpdir(), 'provenant-cli-user-'));
  exportDir = path.join(work, 'export');
  keyFile = path.join(work, 'platform.pem');
  writeFileSync(
    keyFile,
    await services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION),
  );
  const exported = await cli(['audit', 'export', '--out', exportDir, '--tenant', tenant.id]);
  expect(exported).toMatchObject({ code: 0 });
}, 120_000);

afterAll(async () => {
  await services.close();
});

describe('--json: every command that prints results, and stdout is exactly one JSON document', () => {
  it.each([
    [
      'audit prove',
      () => ['audit', 'prove', tenant.id, evidenceIds[0] ?? '', '--json', '--public-key', keyFile],
    ],
    [
      'audit consistency',
      () => ['audit', 'consistency', tenant.id, '1', '3', '--json', '--public-key', keyFile],
    ],
    [
      'audit export',
      () => ['audit', 'export', '--out', path.join(work, 'again'), '--tenant', tenant.id, '--json'],
    ],
    [
      'audit query',
      () => ['audit', 'query', '--tenant', tenant.id, '--from', '2000-01-01', '--json'],
    ],
    [
      'audit sample',
      () => [
        'audit',
        'sample',
        '--tenant',
        tenant.id,
        '--from',
        '2000-01-01',
        '--to',
        '2100-01-01',
        '--n',
        '2',
        '--json',
        '--public-key',
        keyFile,
      ],
    ],
    ['tenant onboard', () => ['tenant', 'onboard', `cli-json-${run}`, '--name', 'J', '--json']],
  ])(
    '%s --json',
    async (_, args) => {
      const result = await cli(args());
      expect(result.stderr).not.toMatch(/^error/m);
      expect(result.code).toBe(0);
      expect(() => JSON.parse(result.stdout) as unknown).not.toThrow();
    },
    SPAWNS_BUDGET_MS,
  );
});

describe('bad input is refused, naming the value, with a non-zero exit', () => {
  it.each([
    [['--to', 'garbage'], 'garbage'],
    [['--from', 'yesterday'], 'yesterday'],
    [['--from', '2026-02-30'], '2026-02-30'],
  ])(
    'audit query %j',
    async (flags, value) => {
      const result = await cli(['audit', 'query', '--tenant', tenant.id, ...flags]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(value);
      expect(result.stdout).toBe('');
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'audit export of an unknown tenant',
    async () => {
      const result = await cli([
        'audit',
        'export',
        '--out',
        path.join(work, 'none'),
        '--tenant',
        `nobody-${run}`,
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`nobody-${run}`);
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'audit sample of an unknown tenant',
    async () => {
      const result = await cli([
        'audit',
        'sample',
        '--tenant',
        `nobody-${run}`,
        '--from',
        '2000-01-01',
        '--to',
        '2100-01-01',
        '--n',
        '1',
        '--public-key',
        keyFile,
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`nobody-${run}`);
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'evidence show with an extraction id points at its evidence id',
    async () => {
      const result = await cli(['evidence', 'show', tenant.id, extractionIds[0] ?? '']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('is an extraction');
      expect(result.stderr).toContain(evidenceIds[0]);
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'audit verify of an empty folder verifies nothing and fails',
    async () => {
      const empty = path.join(work, 'empty');
      mkdirSync(empty);
      const result = await cli(['audit', 'verify', empty, '--public-key', keyFile]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('nothing to verify');
    },
    SPAWNS_BUDGET_MS,
  );
});

describe('tenant date-order (the locale setting numeric dates need)', () => {
  it(
    'sets DMY, and refuses an order it does not know, naming it',
    async () => {
      expect(await cli(['tenant', 'date-order', tenant.id, 'DMY'])).toMatchObject({ code: 0 });
      expect((await services.platform.getTenant(tenant.id))?.dateOrder).toBe('DMY');
      const bad = await cli(['tenant', 'date-order', tenant.id, 'YMD']);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('YMD');
      expect(await cli(['tenant', 'date-order', tenant.id, 'none'])).toMatchObject({ code: 0 });
      expect((await services.platform.getTenant(tenant.id))?.dateOrder).toBeUndefined();
    },
    SPAWNS_BUDGET_MS,
  );
});

describe('audit consistency has a verifying side', () => {
  it(
    'verifies a proof it produced, and refuses a tampered one',
    async () => {
      const file = path.join(work, 'consistency.json');
      expect(
        await cli([
          'audit',
          'consistency',
          tenant.id,
          '1',
          '3',
          '--out',
          file,
          '--public-key',
          keyFile,
        ]),
      ).toMatchObject({
        code: 0,
      });
      const ok = await cli(['audit', 'verify-consistency', file, '--public-key', keyFile]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).not.toContain('FAIL');

      const doc = JSON.parse(readFileSync(file, 'utf8')) as { new: { rootHash: string } };
      doc.new.rootHash = doc.new.rootHash.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      const tampered = path.join(work, 'tampered.json');
      writeFileSync(tampered, JSON.stringify(doc));
      const bad = await cli(['audit', 'verify-consistency', tampered, '--public-key', keyFile]);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toContain('FAIL');
    },
    SPAWNS_BUDGET_MS,
  );
});

describe('destructive commands say what they will do and ask, unless --yes', () => {
  it(
    'keys rotate refuses without --yes when there is no terminal to ask on',
    async () => {
      const result = await cli(['keys', 'rotate', '--tenant', tenant.id]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/rotate the KEK of tenant .*--yes/);
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'keys rotate run twice in a day says it did nothing and why',
    async () => {
      expect(await cli(['keys', 'rotate', '--tenant', tenant.id, '--yes'])).toMatchObject({
        code: 0,
      });
      const again = await cli(['keys', 'rotate', '--tenant', tenant.id, '--yes']);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/nothing done: rotation \d{4}-\d{2}-\d{2} already completed/);
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'tenant offboard refuses without --yes',
    async () => {
      const result = await cli(['tenant', 'offboard', tenant.id]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('--yes');
      expect((await services.platform.getTenant(tenant.id))?.status).toBe('active');
    },
    SPAWNS_BUDGET_MS,
  );
});

describe('audit replay', () => {
  it(
    'records a content_access evidence record for the content it decrypts',
    async () => {
      const before = await services.platform
        .tenantDb(tenant)
        .list('evidence', { where: [['kind', '==', 'content_access']] });
      expect(await cli(['audit', 'replay', tenant.id, extractionIds[1] ?? ''])).toMatchObject({
        code: 0,
      });
      const after = await services.platform
        .tenantDb(tenant)
        .list('evidence', { where: [['kind', '==', 'content_access']] });
      expect(after.length).toBe(before.length + 1);
      const added = after.find((a) => !before.some((b) => b.id === a.id));
      expect(added?.data).toMatchObject({
        subject: { type: 'extraction', id: extractionIds[1] },
        details: { purpose: 'replay' },
      });
    },
    SPAWNS_BUDGET_MS,
  );

  it('answers an offboarded tenant with a clear message, not a gRPC error', async () => {
    const { tenant: gone, apiKey } = await onboardTenant(services, {
      tenantId: `cli-gone-${run}`,
      name: 'Gone',
    });
    const done = await extractInvoice(apiKey.token, 'Vendor: Gone\nTotal: 1.00');
    await offboardTenant(services, gone.id);
    const result = await cli(['audit', 'replay', gone.id, done.id]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('is offboarded');
    expect(result.stderr).not.toMatch(/FAILED_PRECONDITION|\d+ [A-Z_]+:/);
  }, 60_000);
});

describe('an auditor runs the CLI without the repository and without secrets', () => {
  it('a packed tarball verifies an exported folder with only the public key', async () => {
    const packDir = path.join(work, 'pack');
    mkdirSync(packDir);
    // The build is current (npm test built it); pack it as `npm pack` would after `prepare`.
    await exec('npm', ['pack', '--ignore-scripts', '--pack-destination', packDir], { cwd: root });
    const tarball = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const installed = path.join(work, 'auditor');
    mkdirSync(installed);
    await exec('tar', ['-xzf', path.join(packDir, tarball ?? ''), '-C', installed]);
    // Stands in for `npm install`: the same dependency versions, resolved from the package.
    symlinkSync(path.join(root, 'node_modules'), path.join(installed, 'package', 'node_modules'));

    const env = { PATH: process.env.PATH ?? '', HOME: work };
    const result = await cli(['audit', 'verify', exportDir, '--public-key', keyFile], {
      env,
      cwd: work,
      entry: path.join(installed, 'package', 'scripts', 'provenant.js'),
    });
    expect(result.stderr).not.toMatch(/^error/m);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`OK   ${tenant.id}`);
  }, 120_000);
});
