/**
 * `npm start`: the whole system on this machine, in the foreground until Ctrl-C.
 * `npm start -- --state-dir DIR --ephemeral-ports` runs a second, independent stack (its own
 * data, logs and stack file under DIR, free ports); the start/stop test uses it.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StackError } from './processes';
import { startStack, type RunningStack } from './stack';
import { projectRoot, stackFilePath } from './stack-file';

function say(line: string): void {
  process.stdout.write(`[provenant] ${line}\n`);
}

async function main(): Promise<void> {
  const root = projectRoot();
  const { values: args } = parseArgs({
    options: {
      'state-dir': { type: 'string' },
      'ephemeral-ports': { type: 'boolean', default: false },
    },
  });
  const stateDir = path.resolve(args['state-dir'] ?? path.join(root, '.local'));
  const stackFile = args['state-dir'] ? path.join(stateDir, 'stack.json') : stackFilePath();
  const state: { running?: RunningStack } = {};
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping every part of the stack...');
    await state.running?.stop();
    say('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGHUP', () => void shutdown(0));

  const running = await startStack({
    root,
    stateDir,
    stackFile,
    fixedPorts: !args['ephemeral-ports'],
    progress: say,
    // Opt-in names, so a key exported for other tools never sends demo traffic to a provider.
    providerKeys: {
      openai: process.env.PROVENANT_OPENAI_API_KEY,
      anthropic: process.env.PROVENANT_ANTHROPIC_API_KEY,
    },
  });
  state.running = running;
  const { stack } = running;
  const tenant = stack.tenants[0];
  say(`ready. Stack file: ${running.stackFile}; logs: ${running.logDir}`);
  say(`api ${stack.apiUrl}  ops ${stack.opsUrl}  project ${stack.projectId}`);
  say(`sub-processor trust page ${stack.trustPage}`);
  for (const t of stack.tenants) say(`tenant ${t.id}: API key ${t.apiKey}`);
  if (tenant) {
    process.stdout.write(`
Try it (the extraction completes in a second or two):

  curl -s -X POST ${stack.apiUrl}/v1/extractions \\
    -H 'Authorization: Bearer ${tenant.apiKey}' -H 'Content-Type: application/json' \\
    -d '{"document":{"contentType":"text/plain","text":"Vendor: Acme Supplies Ltd\\nInvoice No: INV-1001\\nInvoice Date: 2026-03-12\\nCurrency: EUR\\nTotal: 120.00"},"schema":"invoice"}'

  curl -s ${stack.apiUrl}/v1/extractions/<id> -H 'Authorization: Bearer ${tenant.apiKey}'
  curl -s ${stack.apiUrl}/v1/evidence/<evidenceId> -H 'Authorization: Bearer ${tenant.apiKey}'
`);
  }
  for (const admin of running.admins) {
    const identityToolkit = `http://${stack.emulators.auth}/identitytoolkit.googleapis.com/v1`;
    process.stdout.write(`
${admin.email}, the first admin of ${admin.tenantId}, signs in as a person. Onboarding created
the account without a password and returned a one-time link (an operator sends it to the admin):
open it with a password of your choice, sign in, and use the ID token as the bearer token:

  curl -s '${admin.signInLink}&newPassword=demo-password'

  curl -s -X POST '${identityToolkit}/accounts:signInWithPassword?key=local' \\
    -H 'Content-Type: application/json' \\
    -d '{"email":"${admin.email}","password":"demo-password","returnSecureToken":true}'

  curl -s ${stack.apiUrl}/v1/api-keys -H 'Authorization: Bearer <idToken>'
`);
  }
  process.stdout.write('\nCtrl-C stops everything.\n');
  try {
    await running.failure;
  } catch (err) {
    say((err as Error).message);
    await shutdown(1);
  }
}

main().catch((err: unknown) => {
  // A StackError already says what to install or fix; anything else is a bug worth its stack.
  process.stderr.write(
    `[provenant] ${err instanceof StackError ? err.message : String((err as Error).stack ?? err)}\n`,
  );
  process.exit(1);
});
