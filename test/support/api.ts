import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readStackFile, stackFilePath, type StackFile } from '../../scripts/local/stack-file';

/**
 * This run's log canary (set by `npm test`). Put it in every document a test sends: the test
 * runner fails the run if any log line of any part of the stack contains it.
 */
export const LOG_CANARY = process.env.PROVENANT_LOG_CANARY ?? 'canary-unset';

export function withCanary(text: string): string {
  return `${text}\nReference: ${LOG_CANARY}`;
}

export function stack(): StackFile {
  return readStackFile();
}

export function tenantKey(index: number): { id: string; apiKey: string } {
  const tenant = stack().tenants[index];
  if (!tenant) throw new Error(`the stack seeded no tenant #${String(index)}`);
  return tenant;
}

export interface ApiReply {
  status: number;
  headers: Headers;
  body: unknown;
}

/** One request to the `api` function, as a customer's server would send it. */
export async function callApi(
  path: string,
  options: {
    method?: string;
    key?: string;
    body?: unknown;
    rawBody?: string;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<ApiReply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers.Authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${stack().apiUrl}${path}`, {
    method: options.method ?? 'GET',
    headers,
    body,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Left as text: the assertion that follows will say what came back.
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${String(timeoutMs)} ms`);
    await sleep(200);
  }
}

export interface ExtractionBody {
  id: string;
  status: string;
  result?: {
    fields: Record<
      string,
      {
        value: unknown;
        source: { text: string; start: number; end: number } | null;
        grounded: boolean;
      }
    >;
    issues: unknown[];
  };
  evidenceId?: string;
  model?: { provider: string; model: string; modelVersion: string };
  error?: { code: string };
}

export async function waitForTerminal(
  id: string,
  key: string,
  timeoutMs = 30_000,
): Promise<ExtractionBody> {
  return eventually(async () => {
    const reply = await callApi(`/v1/extractions/${id}`, { key });
    const body = reply.body as ExtractionBody;
    return body.status === 'succeeded' || body.status === 'failed' ? body : undefined;
  }, timeoutMs);
}

/**
 * Firebase Auth emulator administration through firebase-admin, run in a child Node process:
 * firebase-admin/auth loads an ES module (jose) that jest's CommonJS runtime cannot require,
 * while plain Node 22 can. Every operation goes to the stack's Auth emulator.
 */
export type AuthAdminOp =
  | {
      op: 'user';
      uid: string;
      email?: string;
      /** Custom claims to set; `null` clears them, absent leaves none. */
      claims?: Record<string, unknown> | null;
      identityTenantId?: string;
    }
  | { op: 'idToken'; uid: string; identityTenantId?: string }
  | { op: 'revokeTokens'; uid: string; identityTenantId?: string }
  | { op: 'getUserByEmail'; email: string; identityTenantId?: string }
  | { op: 'createIdentityTenant'; displayName: string };

const AUTH_ADMIN_SCRIPT = `
const { initializeApp } = require('firebase-admin/app');
const { getAuth } = require('firebase-admin/auth');
(async () => {
  const { projectId, authHost, ops } = JSON.parse(process.env.PROVENANT_AUTH_OPS);
  const root = getAuth(initializeApp({ projectId }));
  const auth = (t) => (t ? root.tenantManager().authForTenant(t) : root);
  const results = [];
  for (const o of ops) {
    if (o.op === 'user') {
      const a = auth(o.identityTenantId);
      try { await a.createUser({ uid: o.uid, ...(o.email ? { email: o.email } : {}) }); }
      catch (e) { if (e.code !== 'auth/uid-already-exists') throw e; }
      if (o.claims !== undefined) await a.setCustomUserClaims(o.uid, o.claims);
      results.push(o.uid);
    } else if (o.op === 'idToken') {
      const custom = await auth(o.identityTenantId).createCustomToken(o.uid);
      const res = await fetch('http://' + authHost +
        '/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken?key=any', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: custom, returnSecureToken: true,
          ...(o.identityTenantId ? { tenantId: o.identityTenantId } : {}) }) });
      const body = await res.json();
      if (!body.idToken) throw new Error('no ID token: ' + JSON.stringify(body));
      results.push(body.idToken);
    } else if (o.op === 'revokeTokens') {
      await auth(o.identityTenantId).revokeRefreshTokens(o.uid);
      results.push(o.uid);
    } else if (o.op === 'getUserByEmail') {
      const u = await auth(o.identityTenantId).getUserByEmail(o.email);
      results.push({ uid: u.uid, email: u.email ?? null, customClaims: u.customClaims ?? null });
    } else if (o.op === 'createIdentityTenant') {
      const t = await root.tenantManager().createTenant({ displayName: o.displayName });
      results.push(t.tenantId);
    }
  }
  process.stdout.write(JSON.stringify(results));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

export async function authAdmin(ops: AuthAdminOp[]): Promise<unknown[]> {
  const { execFile } = await import('node:child_process');
  const { projectId, emulators } = stack();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', AUTH_ADMIN_SCRIPT],
      {
        cwd: path.resolve(__dirname, '..', '..'),
        env: {
          ...process.env,
          FIREBASE_AUTH_EMULATOR_HOST: emulators.auth,
          PROVENANT_AUTH_OPS: JSON.stringify({ projectId, authHost: emulators.auth, ops }),
        },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`auth admin failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout) as unknown[]);
      },
    );
  });
}

/** A person with the given custom claims, signed in: their ID token. */
export async function idTokenFor(
  uid: string,
  claims: Record<string, unknown> | null,
  identityTenantId?: string,
): Promise<string> {
  const base = identityTenantId === undefined ? {} : { identityTenantId };
  const [, token] = await authAdmin([
    { op: 'user', uid, claims, ...base },
    { op: 'idToken', uid, ...base },
  ]);
  return token as string;
}

/** The JSON lines a function wrote to its log file in the stack's state folder. */
export function functionLog(name = 'api'): Record<string, unknown>[] {
  const file = path.join(
    path.dirname(process.env.PROVENANT_STACK_FILE ?? stackFilePath()),
    'logs',
    `${name}.log`,
  );
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/**
 * The lines of a function's log that match, once there are at least `atLeast` of them. A
 * function writes its log line after (or just before) the write a test sees, and the line
 * travels through a pipe to the stack's log file, so a test that reads the log right after
 * seeing the outcome can be early: it waits instead.
 */
export async function loggedLines(
  name: string,
  match: (line: Record<string, unknown>) => boolean,
  atLeast = 1,
  timeoutMs = 20_000,
): Promise<Record<string, unknown>[]> {
  return eventually(() => {
    const lines = functionLog(name).filter(match);
    return Promise.resolve(lines.length >= atLeast ? lines : undefined);
  }, timeoutMs);
}

/** The raw text of a function's log file, to check what must never appear in it. */
export function functionLogText(name = 'api'): string {
  const file = path.join(
    path.dirname(process.env.PROVENANT_STACK_FILE ?? stackFilePath()),
    'logs',
    `${name}.log`,
  );
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** The error body of a reply without its (always different) request id. */
export function withoutRequestId(body: unknown): unknown {
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  if (!error) return body;
  const { requestId: _requestId, ...rest } = error;
  return { error: rest };
}

/**
 * Submits a text invoice (the log canary appended) and waits until it succeeded; the test
 * fails on any other outcome.
 */
export async function extractInvoice(apiKey: string, text: string): Promise<ExtractionBody> {
  const created = await callApi('/v1/extractions', {
    method: 'POST',
    key: apiKey,
    body: { document: { contentType: 'text/plain', text: withCanary(text) }, schema: 'invoice' },
  });
  expect(created.status).toBe(202);
  const done = await waitForTerminal((created.body as ExtractionBody).id, apiKey);
  expect(done.status).toBe('succeeded');
  return done;
}

/** One POST to the `ops` function with an operator's ID token. */
export async function callOps(
  pathname: string,
  token: string,
  body: unknown = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack().opsUrl}${pathname}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
