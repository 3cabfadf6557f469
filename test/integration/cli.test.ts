import { captureCli } from '../support/cli';
import { randomBytes } from 'node:crypto';
import { runCli } from '../../functions/src/cli/program';

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

  it('reports a missing evidence record instead of printing anything', async () => {
    const io = captureCli();
    expect(await runCli(['evidence', 'show', tenantId, 'ev_missing'], io)).toBe(1);
    expect(io.lines).toEqual([]);
    expect(io.errors.join('\n')).toContain('evidence ev_missing not found');
  });
});
