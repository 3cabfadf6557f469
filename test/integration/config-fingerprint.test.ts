/**
 * Issue 15, the configuration fingerprint as evidence. The platform's own log lives under the
 * reserved tenant id `platform`: no customer can be onboarded under it (over `ops` and through
 * the CLI as a process). The stack's start recorded one `configuration` record in that log; the
 * CLI run again with the same configuration adds none and says so; once sealed and exported,
 * the platform log verifies with `provenant audit verify` like any tenant's.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../../functions/src/config';
import { EvidenceRecordSchema } from '../../functions/src/evidence/record';
import { fingerprintOfCheckout } from '../../functions/src/lifecycle/configuration';
import { createServices, type Services } from '../../functions/src/services';
import { PLATFORM_TENANT_ID } from '../../functions/src/tenancy/platform';
import { callOps, idTokenFor } from '../support/api';
import { sealEverything } from '../support/sealing';

const exec = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'scripts', 'provenant.js');
const run = randomBytes(4).toString('hex');
// Several CLI processes on a shared 2-core machine: a budget for processes, not a latency claim.
const SPAWNS_BUDGET_MS = 120_000;

let services: Services;

beforeAll(() => {
  services = createServices(parseConfig({ ...process.env, SEAL_SAFETY_SECONDS: '0' }));
});
afterAll(async () => {
  await services.close();
});

async function provenant(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cli, ...args], {
      cwd: root,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function configurationRecords() {
  const tenant = await services.platform.getTenant(PLATFORM_TENANT_ID);
  if (!tenant) throw new Error('the platform tenant does not exist');
  const rows = await services.platform
    .tenantDb(tenant)
    .list('evidence', { where: [['kind', '==', 'configuration']] });
  return rows.map((r) => {
    // The stored record's schema drops `expireAt`, the TTL field kept beside each record.
    const record = EvidenceRecordSchema.parse(r.data);
    if (record.kind === 'extraction') throw new Error(`${r.id} is not an event record`);
    return record;
  });
}

describe('the reserved platform tenant id', () => {
  it('ops refuses to onboard a customer tenant named platform, in any case, and changes nothing', async () => {
    const operator = await idTokenFor(`operator-config-${run}`, { platform_role: 'operator' });
    const before = await services.platform.getTenant(PLATFORM_TENANT_ID);
    for (const tenantId of ['platform', 'Platform']) {
      const reply = await callOps('/v1/tenants', operator, { tenantId, name: 'Impostor' });
      // 409 like an existing tenant's id: the id is taken, by the platform's own log.
      expect(reply.status).toBe(409);
      expect((reply.body.error as { code?: unknown }).code).toBe('reserved_tenant_id');
    }
    expect(await services.platform.getTenant('Platform')).toBeUndefined();
    expect(await services.platform.getTenant(PLATFORM_TENANT_ID)).toEqual(before);
  });

  it(
    'the CLI refuses to onboard a tenant named platform',
    async () => {
      const result = await provenant(['tenant', 'onboard', 'platform', '--name', 'Impostor']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/error: .*platform.*reserved/);
      expect(result.stdout).not.toMatch(/API key/);
    },
    SPAWNS_BUDGET_MS,
  );
});

describe('configuration fingerprint in the platform log', () => {
  it(
    "the stack's start recorded one configuration record; the same configuration again adds none; a changed file adds one naming it; the sealed platform log verifies",
    async () => {
      const start = await configurationRecords();
      expect(start).toHaveLength(1);
      const [first] = start;
      const expected = fingerprintOfCheckout(root, parseConfig());
      expect(first?.id).toBe('ev_configuration_000001');
      expect(first?.tenantId).toBe(PLATFORM_TENANT_ID);
      expect(first?.details.sha256).toBe(expected.sha256);
      expect(first?.details['rules/firestore.rules']).toBe(
        expected.components['rules/firestore.rules'],
      );
      expect(first?.details.trigger).toBe('stack-start');

      const again = await provenant(['config', 'record', '--json']);
      expect(again.code).toBe(0);
      const outcome = JSON.parse(again.stdout) as Record<string, unknown>;
      expect(outcome).toMatchObject({
        recorded: false,
        sha256: expected.sha256,
        evidenceId: 'ev_configuration_000001',
      });
      const human = await provenant(['config', 'record']);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/unchanged.*nothing recorded/);
      expect(await configurationRecords()).toHaveLength(1);

      // A changed sub-processor file is a new record naming exactly it; changing it back is
      // another change, recorded again (a record per change, not per distinct configuration).
      const changedRoot = mkdtempSync(path.join(os.tmpdir(), 'provenant-config-root-'));
      for (const part of ['firestore.rules', 'subprocessors', 'terraform'])
        cpSync(path.join(root, part), path.join(changedRoot, part), { recursive: true });
      const yaml = path.join(changedRoot, 'subprocessors', 'openai.yaml');
      writeFileSync(yaml, `${readFileSync(yaml, 'utf8')}# reviewed ${run}\n`);
      const changed = await provenant(['config', 'record', '--root', changedRoot, '--json']);
      expect(changed.code).toBe(0);
      const changedOutcome = JSON.parse(changed.stdout) as { sha256: string };
      expect(changedOutcome).toMatchObject({
        recorded: true,
        evidenceId: 'ev_configuration_000002',
        changed: ['subprocessors/openai.yaml'],
      });
      const back = await provenant(['config', 'record', '--json']);
      expect(JSON.parse(back.stdout)).toMatchObject({
        recorded: true,
        evidenceId: 'ev_configuration_000003',
        sha256: expected.sha256,
        changed: ['subprocessors/openai.yaml'],
      });
      const records = await configurationRecords();
      expect(records.map((r) => [r.details.seq, r.details.previousSha256])).toEqual([
        [1, null],
        [2, expected.sha256],
        [3, changedOutcome.sha256],
      ]);

      // Sealed and exported like a tenant's log, and verified as an auditor verifies one.
      const platform = await services.platform.getTenant(PLATFORM_TENANT_ID);
      if (!platform) throw new Error('the platform tenant does not exist');
      const work = mkdtempSync(path.join(os.tmpdir(), 'provenant-config-'));
      const keyFile = path.join(work, 'platform.pem');
      writeFileSync(
        keyFile,
        await services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION),
      );
      // The stack's own sealer seals this log too (see sealEverything).
      await sealEverything(services, platform);
      const verified = await provenant([
        'audit',
        'verify',
        `gs://${services.config.AUDIT_BUCKET}`,
        '--tenant',
        PLATFORM_TENANT_ID,
        '--public-key',
        keyFile,
      ]);
      expect(verified.code).toBe(0);
      // The platform log holds exactly the three configuration records, sealed and verified.
      expect(verified.stdout).toMatch(/^OK\s+platform: \d+ seals, 3 records/m);
    },
    SPAWNS_BUDGET_MS,
  );
});
