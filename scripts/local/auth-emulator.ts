import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { httpProbe, spawnManaged, waitUntilReady, type ManagedProcess } from './processes';

export interface AuthEmulatorPorts {
  auth: number;
  hub: number;
  logging: number;
}

/**
 * Starts the Firebase Auth emulator from firebase-tools (pure Node; the Java emulators come from
 * the gcloud SDK instead, because firebase-tools refuses them under Java < 21). The config is
 * generated per run so `npm test` can pick free ports beside a running `npm start`.
 */
export function startAuthEmulator(opts: {
  root: string;
  runDir: string;
  projectId: string;
  ports: AuthEmulatorPorts;
  logDir: string;
}): { process: ManagedProcess; ready: Promise<void> } {
  mkdirSync(opts.runDir, { recursive: true });
  const config = path.join(opts.runDir, 'firebase.json');
  writeFileSync(
    config,
    JSON.stringify({
      emulators: {
        auth: { host: '127.0.0.1', port: opts.ports.auth },
        hub: { host: '127.0.0.1', port: opts.ports.hub },
        logging: { host: '127.0.0.1', port: opts.ports.logging },
        ui: { enabled: false },
        singleProjectMode: true,
      },
    }),
  );
  const cli = require.resolve('firebase-tools/lib/bin/firebase.js', { paths: [opts.root] });
  const proc = spawnManaged({
    name: 'auth',
    command: process.execPath,
    args: [
      cli,
      'emulators:start',
      '--only',
      'auth',
      '--project',
      opts.projectId,
      '--config',
      config,
    ],
    cwd: opts.runDir,
    env: {
      ...process.env,
      NO_UPDATE_NOTIFIER: '1',
      FIREBASE_CLI_DISABLE_UPDATE_CHECK: 'true',
      CI: 'true',
    },
    logDir: opts.logDir,
  });
  const ready = waitUntilReady(
    proc,
    'Firebase Auth emulator',
    () =>
      httpProbe(`http://127.0.0.1:${opts.ports.auth}/`, (body) => {
        const parsed = JSON.parse(body) as { authEmulator?: { ready?: boolean } };
        return parsed.authEmulator?.ready === true;
      }),
    // firebase-tools starts a JVM-free Node emulator but loads its whole CLI first: on a busy
    // 2-core machine (load ~25) that took more than 90 s, so the budget is generous.
    180_000,
  );
  return { process: proc, ready };
}
