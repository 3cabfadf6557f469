/**
 * `npm run soak`: a bounded soak on loopback. Starts a private local stack (free ports, its own
 * state folder), onboards a tenant, runs 2,000 extractions from 32 concurrent clients, seals,
 * verifies the export, prints the figures and exits non-zero unless nothing was lost or
 * duplicated and every evidence record was sealed and verified. `npm run soak -- --extractions
 * N --clients C` sizes it otherwise. Figures, not assertions on time: how long it took is
 * printed, never judged.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../../functions/src/config';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices } from '../../functions/src/services';
import { StackError } from '../local/processes';
import { startStack, type RunningStack } from '../local/stack';
import { projectRoot, stackEnvironment } from '../local/stack-file';
import { formatSoak, runSoak, soakBalanced } from './soak-run';

const say = (line: string) => process.stdout.write(`[provenant soak] ${line}\n`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      extractions: { type: 'string', default: '2000' },
      clients: { type: 'string', default: '32' },
    },
  });
  const extractions = Number(values.extractions);
  const clients = Number(values.clients);
  if (
    !Number.isInteger(extractions) ||
    extractions < 1 ||
    !Number.isInteger(clients) ||
    clients < 1
  )
    throw new StackError('--extractions and --clients take positive whole numbers');
  const root = projectRoot();
  const stateDir = path.join(root, '.local', `soak-${String(process.pid)}`);
  let running: RunningStack | undefined;
  let ok = false;
  try {
    running = await startStack({
      root,
      stateDir,
      stackFile: path.join(stateDir, 'stack.json'),
      fixedPorts: false,
      progress: say,
    });
    const env = { ...process.env, ...stackEnvironment(running.stack) };
    const services = createServices(parseConfig(env));
    let onboarded;
    try {
      onboarded = await onboardTenant(services, {
        tenantId: `soak-${String(process.pid)}`,
        name: 'Soak',
        // The soak measures the pipeline, not the per-instance request quota.
        quota: { perMinute: 1_000_000, burst: 100_000 },
      });
    } finally {
      await services.close();
    }
    say(`running ${String(extractions)} extractions from ${String(clients)} clients`);
    const figures = await Promise.race([
      runSoak({
        stack: running.stack,
        root,
        env,
        apiKey: onboarded.apiKey.token,
        tenantId: onboarded.tenant.id,
        extractions,
        clients,
        progress: say,
      }),
      running.failure,
    ]);
    for (const line of formatSoak(figures, clients)) say(line);
    ok = soakBalanced(figures);
    say(
      ok ? 'balanced: nothing lost, nothing duplicated, all sealed and verified' : 'NOT balanced',
    );
  } finally {
    await running?.stop();
    if (ok) rmSync(stateDir, { recursive: true, force: true });
    else say(`state and logs kept in ${stateDir}`);
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `[provenant soak] ${err instanceof StackError ? err.message : String((err as Error).stack ?? err)}\n`,
    );
    process.exit(1);
  },
);
