/**
 * Issue 9, finding 1, the honest exit code: `provenant seal` run as a process exits non-zero
 * and names the tenant whose seal failed, and the sealer raises the alert-worthy event when a
 * locked audit object holds other bytes than the seal it exports (it never overwrites it).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../../functions/src/config';
import { exportPaths, SealSchema } from '../../functions/src/evidence/seal';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, type Services } from '../../functions/src/services';
import { extractInvoice } from '../support/api';

// One CLI process plus the stack's scheduler sealing the tenant (every 5 s, 2 s window).
const BUDGET_MS = 120_000;
const root = path.resolve(__dirname, '..', '..');
const run = randomBytes(4).toString('hex');
let services: Services;

beforeAll(() => {
  services = createServices(parseConfig());
});
afterAll(async () => {
  await services.close();
});

it(
  'seal exits non-zero naming the tenant whose locked audit object conflicts, and raises audit_object_conflict',
  async () => {
    const { tenant, apiKey } = await onboardTenant(services, {
      tenantId: `seal-fail-${run}`,
      name: 'Seal conflict',
    });
    await extractInvoice(apiKey.token, 'Vendor: Conflict\nTotal: 2.00');
    // The stack's scheduler seals the record; wait for that seal in the ledger.
    const db = services.platform.tenantDb(tenant);
    let stored: Record<string, unknown> | undefined;
    for (let i = 0; i < 120 && stored === undefined; i++) {
      stored = await db.get('seals', '000001');
      if (stored === undefined) await sleep(250);
    }
    if (stored === undefined) throw new Error('the scheduler did not seal the record');
    const seal = SealSchema.parse(stored.seal);

    // The restart scenario: under a prefix this CLI run exports to, seal 1's records object
    // already exists, locked, with other bytes (a previous ledger's seal 1).
    const prefix = `conflict-${run}`;
    await services.objects.putNew(
      services.config.AUDIT_BUCKET,
      exportPaths(prefix, seal).records,
      Buffer.from('{"another":"ledger"}\n'),
      { retainUntil: new Date(Date.now() + 86_400_000), retentionMode: 'Locked' },
    );

    const result = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          [path.join(root, 'scripts', 'provenant.js'), 'seal'],
          { cwd: root, env: { ...process.env, AUDIT_EXPORT_PREFIX: prefix } },
          (err, stdout, stderr) => {
            resolve({
              code: err ? ((err as { code?: number }).code ?? -1) : 0,
              stdout,
              stderr,
            });
          },
        );
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`error: sealing failed for .*${tenant.id}`));
    expect(result.stdout).toContain(`${tenant.id}: FAILED`);
    const alert = result.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.event === 'audit_object_conflict' && l.tenantId === tenant.id);
    expect(alert).toMatchObject({ severity: 'ALERT', seq: 1 });
    // Refused, not overwritten: the conflicting object still holds its own bytes.
    const kept = await services.objects.get(
      services.config.AUDIT_BUCKET,
      exportPaths(prefix, seal).records,
    );
    expect(kept.toString()).toBe('{"another":"ledger"}\n');
  },
  BUDGET_MS,
);
