/**
 * The local stack: the gcloud SDK's Firestore and Pub/Sub emulators, the Firebase Auth
 * emulator, the project's own Cloud Storage, Cloud KMS and LLM emulators, and the functions
 * under the functions framework with Pub/Sub push wired to the worker. `npm start` and
 * `npm test` both start it here; every part is awaited, and any part failing stops them all.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { parseConfig } from '../../functions/src/config';
import { createServices } from '../../functions/src/services';
import {
  describeConfigurationOutcome,
  recordConfiguration,
} from '../../functions/src/lifecycle/configuration';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { startAuthEmulator } from './auth-emulator';
import { seedPeople } from './people';
import { startKmsEmulator } from './emulators/kms/server';
import { startLlmEmulator } from './emulators/llm/server';
import type { RunningEmulator } from './emulators/running';
import { startStorageEmulator } from './emulators/storage/server';
import {
  locateGoogleEmulators,
  startFirestoreEmulator,
  startPubSubEmulator,
} from './google-emulators';
import {
  assertPortFree,
  freePort,
  spawnManaged,
  StackError,
  tcpProbe,
  waitUntilReady,
  type ManagedProcess,
} from './processes';
import { stackEnvironment, writeStackFile, removeStackFile, type StackFile } from './stack-file';
import { superviseFunction, type SupervisedFunction } from './supervisor';
import { startSmtpSink } from './smtp-sink';
import { startTrustPage } from './trust-page';

export const PROJECT_ID = 'demo-provenant';
export const DEMO_TENANTS = [
  // Acme's first admin is a person too: onboarding creates the account and returns the one-time
  // link through which they set a password (printed by `npm start`, as an operator would send it).
  { tenantId: 'acme', name: 'Acme Corp (demo)', adminEmail: 'admin@acme.example' },
  { tenantId: 'globex', name: 'Globex Inc (demo)' },
];

const FUNCTIONS = [
  { name: 'api', signature: 'http' },
  { name: 'ops', signature: 'http' },
  { name: 'extractWorker', signature: 'cloudevent' },
  { name: 'sealer', signature: 'cloudevent' },
  { name: 'deadLetterWorker', signature: 'cloudevent' },
  { name: 'notifier', signature: 'cloudevent' },
] as const;

/** How often the local stand-in for Cloud Scheduler asks the sealer to run. */
const SEAL_INTERVAL_MS = 5000;

type PortName =
  | 'sealer'
  | 'firestore'
  | 'pubsub'
  | 'auth'
  | 'hub'
  | 'logging'
  | 'storage'
  | 'kms'
  | 'kmsAdmin'
  | 'llm'
  | 'api'
  | 'ops'
  | 'extractWorker'
  | 'deadLetterWorker'
  | 'notifier'
  | 'trustPage'
  | 'smtp';

/** `npm start`'s fixed ports (firebase.json agrees for the Firebase ones). */
const DEV_PORTS: Record<PortName, number> = {
  firestore: 8080,
  pubsub: 8085,
  auth: 9099,
  hub: 4400,
  logging: 4500,
  storage: 4443,
  kms: 9011,
  kmsAdmin: 9012,
  llm: 4010,
  api: 8081,
  ops: 8082,
  extractWorker: 8083,
  sealer: 8084,
  deadLetterWorker: 8086,
  notifier: 8087,
  trustPage: 8088,
  smtp: 2525,
};

export interface StackOptions {
  root: string;
  /** Where state, logs and the stack file go. */
  stateDir: string;
  stackFile: string;
  /** Fixed ports for `npm start`; free ephemeral ports for `npm test`. */
  fixedPorts: boolean;
  progress?: (line: string) => void;
  /**
   * The user's own provider keys (`npm start` only): a provider with one is called at its real
   * API through the same adapter, with no base URL; the others stay on the emulator.
   */
  providerKeys?: { openai?: string | undefined; anthropic?: string | undefined };
}

/** The stack's environment with each provider the user gave a key for pointed at its real API. */
function withRealProviders(
  env: Record<string, string>,
  keys: StackOptions['providerKeys'],
): Record<string, string> {
  const out = { ...env };
  if (keys?.openai) {
    out.OPENAI_API_KEY = keys.openai;
    delete out.OPENAI_BASE_URL;
  }
  if (keys?.anthropic) {
    out.ANTHROPIC_API_KEY = keys.anthropic;
    delete out.ANTHROPIC_BASE_URL;
  }
  return out;
}

/** A demo tenant's first admin and the one-time link that sets their password. */
export interface DemoAdmin {
  tenantId: string;
  email: string;
  signInLink: string;
}

export interface RunningStack {
  stack: StackFile;
  admins: DemoAdmin[];
  stackFile: string;
  logDir: string;
  /** Rejects when any part dies after start-up. */
  failure: Promise<never>;
  stop(): Promise<void>;
}

async function choosePorts(fixed: boolean): Promise<Record<PortName, number>> {
  if (fixed) {
    for (const [name, port] of Object.entries(DEV_PORTS)) await assertPortFree(port, name);
    return DEV_PORTS;
  }
  const ports = {} as Record<PortName, number>;
  const taken = new Set<number>();
  for (const name of Object.keys(DEV_PORTS) as PortName[]) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports[name] = port;
  }
  return ports;
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const progress = options.progress ?? (() => undefined);
  const logDir = path.join(options.stateDir, 'logs');
  const dataDir = path.join(options.stateDir, 'data');
  mkdirSync(logDir, { recursive: true });
  // Every start is a clean stack: no emulator keeps state across restarts. Keeping Storage and
  // KMS but not Firestore split the ledger from its locked audit objects (seal 1 of a new
  // ledger collided with seal 1 of the old, for ever). Keeping all of them is not sound either:
  // the Firestore emulator saves only on a clean exit (--export-on-exit), so a killed stack
  // would split them again, and each start mints a new API-key pepper. docs/development.md.
  rmSync(dataDir, { recursive: true, force: true });
  const processes: ManagedProcess[] = [];
  const supervised: SupervisedFunction[] = [];
  const servers: RunningEmulator[] = [];
  let stopped = false;

  let scheduler: { stop(): Promise<void> } | undefined;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await scheduler?.stop();
    removeStackFile(options.stackFile);
    // Functions first, so nothing is mid-request against an emulator that is going away.
    await Promise.allSettled(supervised.map((fn) => fn.stop()));
    await Promise.allSettled([...processes].reverse().map((p) => p.stop()));
    await Promise.allSettled(servers.map((s) => s.close()));
  };

  try {
    const paths = locateGoogleEmulators();
    const ports = await choosePorts(options.fixedPorts);
    progress(
      'starting emulators: Firestore, Pub/Sub, Auth (Java and firebase-tools), Storage, KMS, LLM',
    );
    const firestore = startFirestoreEmulator(paths, {
      port: ports.firestore,
      projectId: PROJECT_ID,
      rulesFile: path.join(options.root, 'firestore.rules'),
      logDir,
    });
    processes.push(firestore.process);
    const pubsub = startPubSubEmulator(paths, { port: ports.pubsub, logDir });
    processes.push(pubsub.process);
    const auth = startAuthEmulator({
      root: options.root,
      runDir: path.join(options.stateDir, 'firebase'),
      projectId: PROJECT_ID,
      ports: { auth: ports.auth, hub: ports.hub, logging: ports.logging },
      logDir,
    });
    processes.push(auth.process);

    const [storage, kms, llm] = await Promise.all([
      startStorageEmulator({ port: ports.storage, dataDir: path.join(dataDir, 'storage') }),
      startKmsEmulator({
        port: ports.kms,
        adminPort: ports.kmsAdmin,
        dataDir: path.join(dataDir, 'kms'),
      }),
      startLlmEmulator({ port: ports.llm }),
    ]);
    servers.push(storage, kms, llm);
    const trustPage = await startTrustPage({
      root: options.root,
      outDir: path.join(options.stateDir, 'trust-page'),
      port: ports.trustPage,
    });
    servers.push(trustPage);
    // The notice mail relay: each message lands in <stateDir>/mail as an .eml (docs/subprocessors.md).
    const smtp = await startSmtpSink({
      dir: path.join(options.stateDir, 'mail'),
      port: ports.smtp,
    });
    servers.push(smtp);
    await Promise.all([firestore.ready, pubsub.ready]);
    progress(
      `Firestore ${String(ports.firestore)}, Pub/Sub ${String(ports.pubsub)}, Storage ${storage.host}, KMS ${kms.host}, LLM ${llm.host} ready`,
    );

    const base: Omit<StackFile, 'tenants' | 'people' | 'functions'> = {
      apiUrl: `http://127.0.0.1:${String(ports.api)}`,
      opsUrl: `http://127.0.0.1:${String(ports.ops)}`,
      trustPage: `${trustPage.url}/`,
      mail: { smtp: smtp.host, dir: smtp.dir },
      projectId: PROJECT_ID,
      emulators: {
        firestore: `127.0.0.1:${String(ports.firestore)}`,
        pubsub: `127.0.0.1:${String(ports.pubsub)}`,
        auth: `127.0.0.1:${String(ports.auth)}`,
        storage: storage.host,
        kms: kms.host,
        kmsAdmin: kms.adminHost,
        llm: llm.host,
      },
      resources: {
        documentsBucket: `${PROJECT_ID}-documents`,
        auditBucket: `${PROJECT_ID}-audit`,
        keyRing: `projects/${PROJECT_ID}/locations/us-central1/keyRings/provenant`,
        extractionTopic: 'extraction-requests',
        extractionDeadLetterTopic: 'extraction-requests-dlq',
        sealTopic: 'seal-requests',
        notificationsTopic: 'notifications',
        sealingKeyVersion: `projects/${PROJECT_ID}/locations/us-central1/keyRings/provenant/cryptoKeys/evidence-sealing/cryptoKeyVersions/1`,
      },
      apiKeyPepper: randomBytes(32).toString('base64url'),
    };
    const env = withRealProviders(
      stackEnvironment({ ...base, tenants: [], people: [], functions: {} }),
      options.providerKeys,
    );
    // The orchestrator uses the same modules as the functions to provision and seed.
    Object.assign(process.env, env);
    const services = createServices(parseConfig({ ...process.env, ...env }));
    try {
      await provision(services, base);
      progress('provisioned buckets, key ring and topics');
      // The configuration fingerprint, as every deploy records it (docs/deploy.md).
      progress(
        describeConfigurationOutcome(
          await recordConfiguration(services, { root: options.root, trigger: 'stack-start' }),
        ),
      );

      // Supervised like Cloud Run instances: a function process that dies is started again
      // on its port (scripts/local/supervisor.ts); `functionsState` keeps the stack file's
      // PIDs current, since the file is written only once the tenants are seeded.
      let publish: () => void = () => undefined;
      for (const fn of FUNCTIONS) {
        supervised.push(
          superviseFunction({
            name: fn.name,
            port: ports[fn.name],
            spawn: (restart) =>
              spawnManaged({
                name: fn.name,
                command: process.execPath,
                args: [
                  functionsFrameworkMain(options.root),
                  `--target=${fn.name}`,
                  `--signature-type=${fn.signature}`,
                  `--port=${String(ports[fn.name])}`,
                  `--source=${options.root}`,
                ],
                env: { ...process.env, ...env, NODE_ENV: 'production' },
                cwd: options.root,
                logDir,
                appendLog: restart,
              }),
            say: progress,
            onRestart: () => {
              publish();
            },
          }),
        );
      }
      await Promise.all(
        supervised.map((fn) =>
          waitUntilReady(fn.current(), `function ${fn.name}`, () => tcpProbe(fn.port), 60_000),
        ),
      );
      await wirePushSubscriptions(base, ports);
      progress(
        'functions api, ops, extractWorker, sealer, deadLetterWorker and notifier serving; Pub/Sub push wired',
      );

      await auth.ready;
      const tenants: StackFile['tenants'] = [];
      const admins: DemoAdmin[] = [];
      for (const demo of DEMO_TENANTS) {
        const existing = await services.platform.getTenant(demo.tenantId);
        if (existing)
          throw new StackError(
            `tenant ${demo.tenantId} already exists in a fresh Firestore emulator`,
          );
        const { apiKey, admin } = await onboardTenant(services, demo);
        tenants.push({ id: demo.tenantId, apiKey: apiKey.token });
        if (admin)
          admins.push({
            tenantId: demo.tenantId,
            email: admin.email,
            signInLink: admin.signInLink,
          });
      }
      const people = await seedPeople(PROJECT_ID, tenants[0]?.id ?? 'acme');
      const functionsState = (): StackFile['functions'] =>
        Object.fromEntries(
          supervised.map((fn) => [
            fn.name,
            { port: fn.port, pid: fn.current().pid, restarts: fn.restarts() },
          ]),
        );
      const stack: StackFile = { ...base, tenants, people, functions: functionsState() };
      writeStackFile(options.stackFile, stack);
      publish = () => {
        if (!stopped) writeStackFile(options.stackFile, { ...stack, functions: functionsState() });
      };
      scheduler = startSealScheduler(base);

      // An emulator is not restarted: each holds state only in memory (or, for the JVMs, in a
      // process the functions' clients are connected to), so a new one would be an empty
      // Firestore, Pub/Sub or Auth under a running ledger: the stack stops and says why. A
      // function crash-looping past the supervisor's cap stops it too.
      const failure = new Promise<never>((_, reject) => {
        for (const fn of supervised) fn.failure.catch(reject);
        for (const proc of processes) {
          void proc.exited.then((code) => {
            if (!stopped)
              reject(
                new StackError(
                  `${proc.name} exited unexpectedly (code ${String(code)}). Last log lines:\n${proc.tail()}`,
                ),
              );
          });
        }
      });
      failure.catch(() => undefined);
      return { stack, admins, stackFile: options.stackFile, logDir, failure, stop };
    } finally {
      await services.close();
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The framework's CLI entry point, beside its package main (its `exports` hide the path). */
function functionsFrameworkMain(root: string): string {
  return path.join(
    path.dirname(require.resolve('@google-cloud/functions-framework', { paths: [root] })),
    'main.js',
  );
}

async function provision(
  services: ReturnType<typeof createServices>,
  stack: Omit<StackFile, 'tenants' | 'people' | 'functions'>,
): Promise<void> {
  // What Terraform creates in production; here the same clients create it in the emulators.
  await services.objects.ensureBucket(stack.resources.documentsBucket);
  await services.objects.ensureBucket(stack.resources.auditBucket, { objectRetention: true });
  await services.keyManager.ensureKeyRing(stack.resources.keyRing);
  const sealingKey = await services.keyManager.ensureSigningKey(
    stack.resources.keyRing,
    'evidence-sealing',
  );
  if (sealingKey !== stack.resources.sealingKeyVersion) {
    throw new StackError(
      `sealing key version ${sealingKey} differs from ${stack.resources.sealingKeyVersion}`,
    );
  }
  const pubsub = new PubSub({ projectId: stack.projectId });
  try {
    for (const name of [
      stack.resources.extractionTopic,
      stack.resources.extractionDeadLetterTopic,
      stack.resources.sealTopic,
      stack.resources.notificationsTopic,
    ]) {
      const [exists] = await pubsub.topic(name).exists();
      if (!exists) await pubsub.createTopic(name);
    }
  } finally {
    await pubsub.close();
  }
}

async function wirePushSubscriptions(
  stack: Omit<StackFile, 'tenants' | 'people' | 'functions'>,
  ports: { extractWorker: number; sealer: number; deadLetterWorker: number; notifier: number },
): Promise<void> {
  const workerPort = ports.extractWorker;
  const pubsub = new PubSub({ projectId: stack.projectId });
  const { extractionTopic, extractionDeadLetterTopic, sealTopic, notificationsTopic } =
    stack.resources;
  try {
    const sealPush = pubsub.subscription(`${sealTopic}-sealer`);
    if ((await sealPush.exists())[0]) await sealPush.delete();
    await pubsub.topic(sealTopic).createSubscription(`${sealTopic}-sealer`, {
      pushConfig: {
        pushEndpoint: `http://127.0.0.1:${String(ports.sealer)}/projects/${stack.projectId}/topics/${sealTopic}`,
      },
      ackDeadlineSeconds: 60,
      retryPolicy: { minimumBackoff: { seconds: 5 }, maximumBackoff: { seconds: 30 } },
    });
    const push = pubsub.subscription(`${extractionTopic}-worker`);
    if ((await push.exists())[0]) await push.delete();
    await pubsub.topic(extractionTopic).createSubscription(`${extractionTopic}-worker`, {
      // The functions framework turns a raw push to /projects/P/topics/T into a CloudEvent.
      pushConfig: {
        pushEndpoint: `http://127.0.0.1:${String(workerPort)}/projects/${stack.projectId}/topics/${extractionTopic}`,
      },
      ackDeadlineSeconds: 120,
      deadLetterPolicy: {
        deadLetterTopic: `projects/${stack.projectId}/topics/${extractionDeadLetterTopic}`,
        maxDeliveryAttempts: 5,
      },
      retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 10 } },
    });
    // Poison messages go to the dead-letter worker, which marks their extraction failed.
    const dlqPush = pubsub.subscription(`${extractionDeadLetterTopic}-worker`);
    if ((await dlqPush.exists())[0]) await dlqPush.delete();
    await pubsub
      .topic(extractionDeadLetterTopic)
      .createSubscription(`${extractionDeadLetterTopic}-worker`, {
        pushConfig: {
          pushEndpoint: `http://127.0.0.1:${String(ports.deadLetterWorker)}/projects/${stack.projectId}/topics/${extractionDeadLetterTopic}`,
        },
        ackDeadlineSeconds: 60,
        retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 30 } },
      });
    // Webhook deliveries; a still-failing endpoint makes the notifier throw, and this retries.
    const notify = pubsub.subscription(`${notificationsTopic}-notifier`);
    if ((await notify.exists())[0]) await notify.delete();
    await pubsub.topic(notificationsTopic).createSubscription(`${notificationsTopic}-notifier`, {
      pushConfig: {
        pushEndpoint: `http://127.0.0.1:${String(ports.notifier)}/projects/${stack.projectId}/topics/${notificationsTopic}`,
      },
      ackDeadlineSeconds: 120,
      retryPolicy: { minimumBackoff: { seconds: 2 }, maximumBackoff: { seconds: 60 } },
    });
    const dlq = pubsub.subscription(`${extractionDeadLetterTopic}-inspect`);
    if (!(await dlq.exists())[0])
      await pubsub
        .topic(extractionDeadLetterTopic)
        .createSubscription(`${extractionDeadLetterTopic}-inspect`);
  } finally {
    await pubsub.close();
  }
}

/** The local stand-in for Cloud Scheduler: a message to the seal topic every few seconds. */
function startSealScheduler(stack: Omit<StackFile, 'tenants' | 'people' | 'functions'>): {
  stop(): Promise<void>;
} {
  const pubsub = new PubSub({ projectId: stack.projectId });
  const topic = pubsub.topic(stack.resources.sealTopic);
  let inFlight: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = topic
      .publishMessage({ json: { trigger: 'local-scheduler' } })
      .catch(() => undefined);
  }, SEAL_INTERVAL_MS);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      await pubsub.close();
    },
  };
}
