import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  StackError,
  httpProbe,
  spawnManaged,
  waitUntilReady,
  type ManagedProcess,
} from './processes';

/**
 * Finds Java and the gcloud SDK's Firestore and Pub/Sub emulators the way LOCAL-STACK.md
 * describes: an explicit override first, then the installed gcloud SDK, then firebase-tools'
 * download cache. Missing pieces produce one message naming what to install.
 */
export interface GoogleEmulatorPaths {
  java: string;
  firestoreJar: string;
  pubsubLauncher: string;
}

const INSTALL_HINT =
  'Install the gcloud SDK emulators (Debian: `apt-get install google-cloud-cli-firestore-emulator google-cloud-cli-pubsub-emulator`), ' +
  'or point FIRESTORE_EMULATOR_JAR / PUBSUB_EMULATOR_LAUNCHER at them.';

/** Where Debian's and Google's packages put the SDK. */
export const DEFAULT_SDK_ROOTS = ['/usr/lib/google-cloud-sdk', '/usr/share/google-cloud-sdk'];

function gcloudSdkRoots(env: NodeJS.ProcessEnv, fixedRoots: readonly string[]): string[] {
  const roots: string[] = [];
  if (env.CLOUDSDK_ROOT_DIR) roots.push(env.CLOUDSDK_ROOT_DIR);
  roots.push(...fixedRoots);
  try {
    const root = execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 15_000,
    }).trim();
    if (root) roots.push(root);
  } catch {
    // No gcloud on PATH: the fixed locations and firebase-tools' cache remain.
  }
  return [...new Set(roots)];
}

function firebaseCache(env: NodeJS.ProcessEnv, prefix: string): string[] {
  const dir = path.join(env.HOME ?? os.homedir(), '.cache', 'firebase', 'emulators');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.startsWith(prefix))
    .sort()
    .reverse()
    .map((name) => path.join(dir, name));
}

function findJava(env: NodeJS.ProcessEnv): string {
  const candidates = [
    env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : undefined,
    'java',
  ].filter((c): c is string => c !== undefined);
  for (const java of candidates) {
    try {
      execFileSync(java, ['-version'], { env, stdio: 'ignore', timeout: 15_000 });
      return java;
    } catch {
      // Missing or broken: try the next candidate.
    }
  }
  throw new StackError(
    'Java was not found. The Firestore and Pub/Sub emulators need Java 17 or newer: `apt-get install openjdk-17-jre-headless` (or set JAVA_HOME).',
  );
}

export function locateGoogleEmulators(
  env: NodeJS.ProcessEnv = process.env,
  fixedRoots: readonly string[] = DEFAULT_SDK_ROOTS,
): GoogleEmulatorPaths {
  const java = findJava(env);
  const roots = gcloudSdkRoots(env, fixedRoots);

  const firestoreJar = [
    env.FIRESTORE_EMULATOR_JAR,
    ...roots.map((r) =>
      path.join(r, 'platform/cloud-firestore-emulator/cloud-firestore-emulator.jar'),
    ),
    ...firebaseCache(env, 'cloud-firestore-emulator-').filter((f) => f.endsWith('.jar')),
  ].find((p): p is string => p !== undefined && existsSync(p));
  if (!firestoreJar) throw new StackError(`The Firestore emulator was not found. ${INSTALL_HINT}`);

  const pubsubLauncher = [
    env.PUBSUB_EMULATOR_LAUNCHER,
    ...roots.map((r) => path.join(r, 'platform/pubsub-emulator/bin/cloud-pubsub-emulator')),
    ...firebaseCache(env, 'pubsub-emulator-').map((d) =>
      path.join(d, 'pubsub-emulator/bin/cloud-pubsub-emulator'),
    ),
  ].find((p): p is string => p !== undefined && existsSync(p));
  if (!pubsubLauncher) throw new StackError(`The Pub/Sub emulator was not found. ${INSTALL_HINT}`);

  return { java, firestoreJar, pubsubLauncher };
}

export interface StartedJavaEmulator {
  process: ManagedProcess;
  ready: Promise<void>;
}

export function startFirestoreEmulator(
  paths: GoogleEmulatorPaths,
  opts: { port: number; projectId: string; rulesFile: string; logDir: string },
): StartedJavaEmulator {
  const proc = spawnManaged({
    name: 'firestore',
    command: paths.java,
    // The jar's shell wrapper does not exec, so killing it would orphan the JVM: start java itself.
    args: [
      '-Duser.language=en',
      '-cp',
      paths.firestoreJar,
      'com.google.cloud.datastore.emulator.firestore.CloudFirestore',
      '--host=127.0.0.1',
      `--port=${opts.port}`,
      `--rules=${opts.rulesFile}`,
      `--project_id=${opts.projectId}`,
      '--single_project_mode=true',
    ],
    logDir: opts.logDir,
  });
  const ready = waitUntilReady(
    proc,
    'Firestore emulator',
    () => httpProbe(`http://127.0.0.1:${opts.port}/`, (b) => b.trim() === 'Ok'),
    60_000,
  );
  return { process: proc, ready };
}

export function startPubSubEmulator(
  paths: GoogleEmulatorPaths,
  opts: { port: number; logDir: string },
): StartedJavaEmulator {
  const proc = spawnManaged({
    name: 'pubsub',
    command: paths.pubsubLauncher,
    args: ['--host=127.0.0.1', `--port=${opts.port}`],
    // The launcher execs java found through JAVA_HOME or PATH, so the group holds only the JVM.
    logDir: opts.logDir,
  });
  const ready = waitUntilReady(
    proc,
    'Pub/Sub emulator',
    () => httpProbe(`http://127.0.0.1:${opts.port}/`, (b) => b.trim() === 'Ok'),
    60_000,
  );
  return { process: proc, ready };
}
