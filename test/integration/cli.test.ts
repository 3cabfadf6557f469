import { execFile } from 'node:child_process';
import { captureCli } from '../support/cli';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { runCli } from '../../functions/src/cli/program';
import { projectRoot } from '../../scripts/local/stack-file';
import { authAdmin } from '../support/api';

/**
 * `npx provenant` as a process (the compiled bin): firebase-admin/auth, which onboarding an
 * admin needs, loads an ES module jest's CommonJS runtime cannot.
 */
function provenant(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = projectRoot();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'scripts', 'provenant.js'), ...args],
      { cwd: root, env: process.env, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('npx provenant', () => {
  const tenantId = `cli-${randomBytes(4).toString('hex')}`;

  it('refuses an invalid tenant id with a clear error and exit code 1', async () => {
    const io = captureCli();
    expect(await runCli(['tenant', 'onboard', 'no/slashes', '--name', 'x'], io)).toBe(1);
    expect(io.errors.join('\n')).toContain('tenant ids are 1-48 letters');
  });

  it('onboards a tenant once, showing its API key once, and refuses a second onboarding', async () => {
    const io = captureCli();
    expect(await runCli(['tenant', 'onboard', tenantId, '--name', 'CLI Test', '--json'], io)).toBe(
      0,
    );
    const out = JSON.parse(io.lines[0] ?? '{}') as { kekName: string; apiKey: { token: string } };
    expect(out.kekName).toMatch(new RegExp(`/cryptoKeys/tenant-${tenantId}$`));
    expect(out.apiKey.token).toMatch(/^pvn_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);

    const again = captureCli();
    expect(await runCli(['tenant', 'onboard', tenantId, '--name', 'CLI Test'], again)).toBe(1);
    expect(again.errors.join('\n')).toContain('the tenant already exists');
  });

  it('onboards with a new admin and prints their one-time sign-in link; an existing email is refused', async () => {
    const run = randomBytes(4).toString('hex');
    const email = `cli-admin-${run}@example.com`;
    const first = await provenant([
      'tenant',
      'onboard',
      `cli-admin-${run}`,
      '--name',
      'CLI admin',
      '--admin-email',
      email,
      '--json',
    ]);
    expect(first.code).toBe(0);
    expect(first.stderr).not.toMatch(/^error/m);
    // stdout holds exactly the command's JSON document; the modules' log lines go to stderr.
    const out = JSON.parse(first.stdout) as {
      admin: { uid: string; email: string; signInLink: string };
    };
    expect(out.admin).toEqual({
      uid: expect.any(String) as string,
      email,
      signInLink: expect.any(String) as string,
    });
    expect(new URL(out.admin.signInLink).searchParams.get('mode')).toBe('resetPassword');
    const [user] = await authAdmin([{ op: 'getUserByEmail', email }]);
    expect(user).toMatchObject({
      uid: out.admin.uid,
      customClaims: { tenant_id: `cli-admin-${run}`, role: 'admin' },
    });

    const text = await provenant([
      'tenant',
      'onboard',
      `cli-admin2-${run}`,
      '--name',
      'CLI admin again',
      '--admin-email',
      email,
    ]);
    expect(text.code).toBe(1);
    expect(text.stdout).not.toContain('API key');
    expect(text.stderr).toContain('an account with this email already exists');
    // Two CLI processes: a budget for them, not a latency claim (one start took ten seconds
    // in a loaded full CI run).
  }, 120_000);

  it('reports a missing evidence record instead of printing anything', async () => {
    const io = captureCli();
    expect(await runCli(['evidence', 'show', tenantId, 'ev_missing'], io)).toBe(1);
    expect(io.lines).toEqual([]);
    expect(io.errors.join('\n')).toContain('evidence ev_missing not found');
  });
});
