import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Walks up from this file to the folder holding the project's package.json. */
export function projectRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'provenant') return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no provenant package.json above ${from}`);
    dir = parent;
  }
}

const HostPort = z.string().regex(/^[^:/\s]+:\d+$/, 'host:port');

/**
 * `.local/stack.json`: the contract between the running local stack and every script or test
 * that talks to it. Hosts are `host:port`, URLs carry their scheme.
 */
export const StackFileSchema = z.object({
  apiUrl: z.url(),
  opsUrl: z.url(),
  /** The sub-processor trust page (`provenant subprocessors build`), served from `.local/`. */
  trustPage: z.url(),
  /**
   * The SMTP sink standing in for the notice mail relay (scripts/local/smtp-sink.ts), and the
   * folder where each message it accepts is written as an .eml file.
   */
  mail: z.object({ smtp: HostPort, dir: z.string().min(1) }).optional(),
  projectId: z.string().min(1),
  tenants: z.array(z.object({ id: z.string().min(1), apiKey: z.string().min(1) })),
  emulators: z.object({
    firestore: HostPort,
    pubsub: HostPort,
    auth: HostPort,
    storage: HostPort,
    kms: HostPort,
    /** The KMS emulator's fault-injection listener (scripts/local/emulators/kms/faults.ts). */
    kmsAdmin: HostPort.optional(),
    llm: HostPort,
  }),
  /** Names the deployment-level resources the stack provisioned, so tests need not guess them. */
  resources: z.object({
    documentsBucket: z.string(),
    auditBucket: z.string(),
    keyRing: z.string(),
    extractionTopic: z.string(),
    extractionDeadLetterTopic: z.string(),
    sealTopic: z.string(),
    notificationsTopic: z.string(),
    sealingKeyVersion: z.string(),
  }),
  /**
   * People seeded in the Auth emulator to try break-glass access by hand (docs/access.md), with
   * passwords generated for this run.
   */
  people: z
    .array(
      z.object({
        email: z.email(),
        password: z.string().min(8),
        role: z.enum(['engineer', 'approver', 'admin']),
        tenantId: z.string().optional(),
      }),
    )
    .default([]),
  /**
   * The function processes: each one's port, the PID serving now (a supervised restart
   * replaces it, and the stack rewrites this file) and how often it was restarted. Fault
   * tests kill a function by this PID (test/resilience).
   */
  functions: z
    .record(
      z.string(),
      z.object({
        port: z.number().int().positive(),
        pid: z.number().int(),
        restarts: z.number().int().nonnegative(),
      }),
    )
    .default({}),
  /** A secret the stack generated for this run; never a value from the repository. */
  apiKeyPepper: z.string().min(32),
});
export type StackFile = z.infer<typeof StackFileSchema>;

/** `PROVENANT_STACK_FILE` lets `npm test` run its own stack beside a developer's `npm start`. */
export function stackFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PROVENANT_STACK_FILE ?? path.join(projectRoot(), '.local', 'stack.json');
}

export function readStackFile(env: NodeJS.ProcessEnv = process.env): StackFile {
  const file = stackFilePath(env);
  if (!existsSync(file)) {
    throw new Error(
      `${file} does not exist: the local stack is not running. Run \`npm test\` (starts its own) or \`npm start\` in another terminal.`,
    );
  }
  return StackFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

export function writeStackFile(file: string, stack: StackFile): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(StackFileSchema.parse(stack), null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

export function removeStackFile(file: string): void {
  rmSync(file, { force: true });
}

/**
 * The environment under which the functions, the CLI and the tests reach the local stack.
 * Only endpoints differ from production: the official clients read the `*_EMULATOR_HOST`
 * variables themselves, and our config takes the other endpoints as URLs.
 */
export function stackEnvironment(stack: StackFile): Record<string, string> {
  const { emulators, resources } = stack;
  return {
    GOOGLE_CLOUD_PROJECT: stack.projectId,
    GCLOUD_PROJECT: stack.projectId,
    METADATA_SERVER_DETECTION: 'none',
    FIRESTORE_EMULATOR_HOST: emulators.firestore,
    PUBSUB_EMULATOR_HOST: emulators.pubsub,
    FIREBASE_AUTH_EMULATOR_HOST: emulators.auth,
    STORAGE_API_ENDPOINT: `http://${emulators.storage}`,
    KMS_API_ENDPOINT: `http://${emulators.kms}`,
    OPENAI_BASE_URL: `http://${emulators.llm}/v1`,
    ANTHROPIC_BASE_URL: `http://${emulators.llm}`,
    OPENAI_API_KEY: 'local-emulator',
    ANTHROPIC_API_KEY: 'local-emulator',
    DOCUMENTS_BUCKET: resources.documentsBucket,
    AUDIT_BUCKET: resources.auditBucket,
    KMS_KEY_RING: resources.keyRing,
    EXTRACTION_TOPIC: resources.extractionTopic,
    API_KEY_PEPPER: stack.apiKeyPepper,
    SEALING_KEY_VERSION: resources.sealingKeyVersion,
    // Seconds, not a minute: a newcomer sees records sealed and exported almost at once.
    SEAL_SAFETY_SECONDS: '2',
    // An extraction whose message the emulator dropped (a push refused while a function
    // restarts is not retried) is re-queued by the next seal pass after this many seconds. Well
    // above the longest wait for a first delivery on a loaded test machine, so a healthy
    // extraction is not delivered twice at once (harmless to the ledger, but extra model calls).
    STUCK_EXTRACTION_SECONDS: '60',
    NOTIFICATIONS_TOPIC: resources.notificationsTopic,
    // Webhooks may target the tests' own servers on 127.0.0.1; every other private,
    // link-local or metadata address stays refused.
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    ...(stack.mail
      ? {
          SMTP_URL: `smtp://${stack.mail.smtp}`,
          PUBLIC_API_URL: stack.apiUrl,
          TRUST_PAGE_URL: stack.trustPage,
        }
      : {}),
  };
}
