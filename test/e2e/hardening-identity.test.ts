/**
 * Issue 10, hardening round two, from the attacker's side: findings 3 (admin takeover at
 * onboarding), 9 (test-only switches reachable in production, and ID tokens with valid-looking
 * claims but no or a wrong signature) and 11 (API keys outliving or out-scoping their issuer).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../../functions/src/config';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, type Services } from '../../functions/src/services';
import { freePort, tcpProbe } from '../../scripts/local/processes';
import { projectRoot } from '../../scripts/local/stack-file';
import { authAdmin, callApi, idTokenFor, stack } from '../support/api';

const run = randomBytes(4).toString('hex');
const root = projectRoot();
let services: Services;
let operator: string;

beforeAll(async () => {
  services = createServices(parseConfig());
  operator = await idTokenFor(`operator-hardening-${run}`, { platform_role: 'operator' });
}, 60_000);

afterAll(async () => {
  await services.close();
});

async function callOps(token: string, body: unknown) {
  const response = await fetch(`${stack().opsUrl}/v1/tenants`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

/**
 * The Identity Toolkit REST API as anyone holding the project's public web API key calls it
 * (the Auth emulator takes any key). `tenantId` addresses an Identity Platform tenant.
 */
async function identityToolkit(
  method: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const response = await fetch(
    `http://${stack().emulators.auth}/identitytoolkit.googleapis.com/v1/accounts:${method}?key=public-web-key`,
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
  );
  return (await response.json()) as Record<string, unknown>;
}

async function signInWithPassword(
  email: string,
  password: string,
  tenantId?: string,
): Promise<string> {
  const reply = await identityToolkit('signInWithPassword', {
    email,
    password,
    returnSecureToken: true,
    ...(tenantId === undefined ? {} : { tenantId }),
  });
  if (typeof reply.idToken !== 'string') throw new Error(`no ID token: ${JSON.stringify(reply)}`);
  return reply.idToken;
}

/** What the person who receives the link does: opens it and chooses a password. */
async function followSignInLink(link: string, password: string): Promise<void> {
  const url = new URL(link);
  url.searchParams.set('newPassword', password);
  const response = await fetch(url);
  expect(response.status).toBe(200);
}

describe('finding 3: admin takeover at onboarding', () => {
  it('refuses (409) an admin email someone already registered, and never makes that account admin', async () => {
    const email = `future-admin-${run}@example.com`;
    // The attacker signs up first with the future admin's address: an unverified account whose
    // password only the attacker knows.
    const signedUp = await identityToolkit('signUp', {
      email,
      password: 'attacker-chosen-password',
      returnSecureToken: true,
    });
    expect(signedUp.localId).toEqual(expect.any(String));

    const tenantId = `takeover-${run}`;
    const reply = await callOps(operator, { tenantId, name: 'takeover', adminEmail: email });
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({ error: { code: 'admin_email_in_use' } });
    expect(await services.platform.getTenant(tenantId)).toBeUndefined();

    const [user] = await authAdmin([{ op: 'getUserByEmail', email }]);
    expect(user).toMatchObject({ uid: signedUp.localId, customClaims: null });
    const token = await signInWithPassword(email, 'attacker-chosen-password');
    const keys = await callApi('/v1/api-keys', { key: token });
    expect(keys.status).toBe(403);
    expect(keys.body).toMatchObject({ error: { code: 'missing_tenant_claim' } });
  });

  it('refuses an email already present in the named identity tenant, and creates nothing', async () => {
    const [identityTenantId] = (await authAdmin([
      { op: 'createIdentityTenant', displayName: `hrd${run.slice(0, 5)}` },
    ])) as string[];
    const email = `idp-squatter-${run}@example.com`;
    await authAdmin([
      { op: 'user', uid: `squatter-${run}`, email, identityTenantId: identityTenantId ?? '' },
    ]);
    const tenantId = `takeover-idp-${run}`;
    const reply = await callOps(operator, {
      tenantId,
      name: 'takeover in an identity tenant',
      adminEmail: email,
      identityTenantId,
    });
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({ error: { code: 'admin_email_in_use' } });
    expect(await services.platform.getTenant(tenantId)).toBeUndefined();
    const [user] = await authAdmin([
      { op: 'getUserByEmail', email, identityTenantId: identityTenantId ?? '' },
    ]);
    expect(user).toMatchObject({ uid: `squatter-${run}`, customClaims: null });
  });

  it('a failed onboarding leaves no account holding the admin email, so a retry is not blocked', async () => {
    const email = `failed-onboarding-${run}@example.com`;
    const tenantId = `broken-kek-${run}`;
    // Make the tenant's KEK id name a signing key: wrapping under it fails in KMS, after the
    // admin's account was created.
    await services.keyManager.ensureSigningKey(stack().resources.keyRing, `tenant-${tenantId}`);
    const failed = await callOps(operator, { tenantId, name: 'broken', adminEmail: email });
    expect(failed.status).toBe(500);
    expect(await services.platform.getTenant(tenantId)).toBeUndefined();
    await expect(authAdmin([{ op: 'getUserByEmail', email }])).rejects.toThrow(/no user record/);
    const retried = await callOps(operator, {
      tenantId: `retried-${run}`,
      name: 'retried',
      adminEmail: email,
    });
    expect(retried.status).toBe(201);
  });

  it('creates the admin fresh, and the admin signs in only through the link the onboarding returns', async () => {
    const email = `fresh-admin-${run}@example.com`;
    const tenantId = `fresh-${run}`;
    const reply = await callOps(operator, { tenantId, name: 'fresh', adminEmail: email });
    expect(reply.status).toBe(201);
    // The reply carries a bearer credential (the link) and the first API key: never cached.
    expect(reply.headers.get('cache-control')).toBe('no-store');
    const admin = (reply.body as { admin: { uid: string; email: string; signInLink: string } })
      .admin;
    expect(admin).toEqual({
      uid: expect.any(String) as string,
      email,
      signInLink: expect.any(String) as string,
    });
    const [user] = await authAdmin([{ op: 'getUserByEmail', email }]);
    expect(user).toMatchObject({
      uid: admin.uid,
      customClaims: { tenant_id: tenantId, role: 'admin' },
    });
    // No password exists until the link is followed.
    const before = await identityToolkit('signInWithPassword', {
      email,
      password: 'any-guess-at-all',
      returnSecureToken: true,
    });
    expect(before.idToken).toBeUndefined();

    await followSignInLink(admin.signInLink, 'chosen-by-the-admin');
    const token = await signInWithPassword(email, 'chosen-by-the-admin');
    const keys = await callApi('/v1/api-keys', { key: token });
    expect(keys.status).toBe(200);
    // The link is single-use: nobody who sees it later can set a password again.
    const again = new URL(admin.signInLink);
    again.searchParams.set('newPassword', 'someone-else-later');
    expect((await fetch(again)).status).toBe(400);
  });
});

/** Starts the `api` function as Cloud Run would, with the stack's emulator switches still set. */
async function coldStartDeployed(extraEnv: Record<string, string>, unset: string[] = []) {
  const port = await freePort();
  const main = path.join(
    path.dirname(require.resolve('@google-cloud/functions-framework', { paths: [root] })),
    'main.js',
  );
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries({ ...process.env, NODE_ENV: 'production', ...extraEnv }).filter(
      ([name]) => !unset.includes(name),
    ),
  );
  const child = spawn(
    process.execPath,
    [main, '--target=api', '--signature-type=http', `--port=${String(port)}`, `--source=${root}`],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let code: number | null | undefined;
  void exited.then((c) => (code = c));
  const deadline = Date.now() + 20_000;
  let serving = false;
  while (code === undefined && Date.now() < deadline) {
    if (await tcpProbe(port)) {
      serving = true;
      break;
    }
    await sleep(100);
  }
  if (code === undefined) {
    child.kill('SIGKILL');
    await exited;
  }
  return { serving, code, output };
}

interface TokenOutcome {
  verifier: { code?: string; message?: string; uid?: string };
  api: { status?: number; code?: string; principal?: Record<string, unknown> };
  denial?: Record<string, unknown>;
}

interface OfflineReport {
  /** Whether FIREBASE_AUTH_EMULATOR_HOST was set while the tokens above were checked. */
  emulatorSwitchDuringChecks: boolean;
  outcomes: Record<string, TokenOutcome>;
  requests: { host: string; method: string; path: string }[];
  underEmulatorSwitch: { uid?: string; error?: string };
}

/**
 * Runs in a child Node process (firebase-admin/auth loads an ES module jest's CommonJS runtime
 * cannot): the compiled `tenancy/identity.js`, with firebase-admin's default app initialised
 * WITHOUT `FIREBASE_AUTH_EMULATOR_HOST`, so tokens go through the production verifier
 * (`FirebaseTokenVerifier` in firebase-admin/lib/auth/token-verifier.js): header checks, then
 * the signature against Google's public keys fetched from CLIENT_CERT_URL. The network is the
 * only thing replaced: the app's `httpAgent` (which firebase-admin hands to that key fetch and
 * to its Auth API calls) connects every request to a local server that answers as
 * www.googleapis.com would, with the public key of a "Google" key pair this script made.
 */
const OFFLINE_VERIFY_SCRIPT = `
const crypto = require('node:crypto');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const path = require('node:path');
const root = process.env.PROVENANT_ROOT;
const { initializeApp } = require('firebase-admin/app');
const { getAuth } = require('firebase-admin/auth');
const identity = require(path.join(root, 'build/functions/src/tenancy/identity.js'));
const projectId = 'provenant-offline-check';
const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const google = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const attacker = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const GOOGLE_KID = 'google-key-1';
function sign(header, payload, key) {
  const input = b64(header) + '.' + b64(payload);
  const signature = key ? crypto.sign('RSA-SHA256', Buffer.from(input), key).toString('base64url') : '';
  return input + '.' + signature;
}
(async () => {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({ host: req.headers.host, method: req.method, path: req.url });
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com') {
        const pem = google.publicKey.export({ type: 'spki', format: 'pem' });
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
        return res.end(JSON.stringify({ [GOOGLE_KID]: pem }));
      }
      // The revocation check's user lookup, from Google's Auth API or (under the emulator
      // switch) from the "emulator" at FIREBASE_AUTH_EMULATOR_HOST, which is this server too.
      if (req.method === 'POST' && req.url.endsWith('/v1/projects/' + projectId + '/accounts:lookup')) {
        const { localId } = JSON.parse(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ users: [{ localId: localId[0], validSince: '0', disabled: false }] }));
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found' } }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  class LocalNetwork extends https.Agent {
    createConnection() { return net.connect(port, '127.0.0.1'); }
  }
  delete process.env.FIREBASE_AUTH_EMULATOR_HOST;
  initializeApp({
    projectId,
    httpAgent: new LocalNetwork(),
    credential: { getAccessToken: async () => ({ access_token: 'offline', expires_in: 3600 }) },
  });
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: 'https://securetoken.google.com/' + projectId, aud: projectId, sub: 'attacker-uid',
    iat: now - 10, exp: now + 3600, auth_time: now - 10,
    tenant_id: 'acme', role: 'admin', firebase: { sign_in_provider: 'password', identities: {} },
  };
  const tokens = {
    algNone: sign({ alg: 'none', typ: 'JWT', kid: GOOGLE_KID }, claims),
    algNoneWithoutKid: sign({ alg: 'none', typ: 'JWT' }, claims),
    unknownKey: sign({ alg: 'RS256', typ: 'JWT', kid: 'attacker-key-1' }, claims, attacker.privateKey),
    wrongKeyUnderGoogleKid: sign({ alg: 'RS256', typ: 'JWT', kid: GOOGLE_KID }, claims, attacker.privateKey),
    signedByGoogle: sign({ alg: 'RS256', typ: 'JWT', kid: GOOGLE_KID }, claims, google.privateKey),
  };
  const verifier = identity.firebaseIdTokenVerifier(projectId, async () => true);
  const platform = {
    getTenant: async (id) => ({ id, name: id, status: 'active', kekName: 'k', wrappingKey: { wrapped: 'x', kekVersion: '1' }, providers: { primary: 'openai', fallback: null } }),
  };
  const outcomes = {};
  for (const [name, token] of Object.entries(tokens)) {
    const outcome = { verifier: {}, api: {} };
    try { outcome.verifier.uid = (await verifier(token)).uid; }
    catch (e) { outcome.verifier = { code: e.code, message: e.message }; }
    try {
      const resolved = await identity.resolveBearer(
        { platform, pepper: 'p'.repeat(32), verifyIdToken: verifier, onDenied: (d) => { outcome.denial = d; } },
        token,
      );
      outcome.api.principal = resolved.principal;
    } catch (e) { outcome.api = { status: e.status, code: e.code }; }
    outcomes[name] = outcome;
  }
  const emulatorSwitchDuringChecks = process.env.FIREBASE_AUTH_EMULATOR_HOST !== undefined;
  // What finding 9 is about: an Auth instance made while the emulator switch is set (firebase-
  // admin fixes emulator mode when it builds the instance) takes the unsigned token.
  process.env.FIREBASE_AUTH_EMULATOR_HOST = '127.0.0.1:' + port;
  const switched = getAuth(initializeApp({ projectId }, 'under-emulator-switch'));
  const underEmulatorSwitch = {};
  try { underEmulatorSwitch.uid = (await switched.verifyIdToken(tokens.algNone)).uid; }
  catch (e) { underEmulatorSwitch.error = e.code; }
  server.close();
  process.stdout.write(JSON.stringify({ emulatorSwitchDuringChecks, outcomes, requests, underEmulatorSwitch }));
  process.exit(0);
})().catch((e) => { process.stderr.write(String((e && e.stack) || e)); process.exit(1); });
`;

function runOfflineVerification(): Promise<OfflineReport> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PROVENANT_ROOT: root };
    delete env.FIREBASE_AUTH_EMULATOR_HOST;
    execFile(
      process.execPath,
      ['-e', OFFLINE_VERIFY_SCRIPT],
      { cwd: root, env, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`offline verification failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout) as OfflineReport);
      },
    );
  });
}

describe('finding 9: test-only switches reachable in production', () => {
  it('a deployed instance (K_SERVICE set) with the emulator and loopback switches refuses to start', async () => {
    const started = await coldStartDeployed({ K_SERVICE: 'api', K_REVISION: 'api-00001' });
    expect(started.serving).toBe(false);
    expect(started.code).not.toBe(0);
    expect(started.output).toContain('config_invalid');
    for (const name of [
      'FIREBASE_AUTH_EMULATOR_HOST',
      'FIRESTORE_EMULATOR_HOST',
      'PUBSUB_EMULATOR_HOST',
      'WEBHOOK_ALLOW_LOOPBACK',
    ]) {
      expect([name, started.output.includes(name)]).toEqual([name, true]);
    }
  }, 30_000);

  it('a deployed instance with an SDK debug log level refuses to start', async () => {
    // Only the debug switch is deployed-wrong here: the stack's other switches are unset.
    const switches = Object.keys(process.env).filter(
      (name) => name.endsWith('_EMULATOR_HOST') || name === 'WEBHOOK_ALLOW_LOOPBACK',
    );
    const started = await coldStartDeployed({ K_SERVICE: 'api', OPENAI_LOG: 'debug' }, switches);
    expect(started.serving).toBe(false);
    expect(started.output).toContain('config_invalid');
    expect(started.output).toContain('OPENAI_LOG');
  }, 30_000);

  it('outside emulator mode, an alg:none token and tokens signed by an unknown key are refused for that reason', async () => {
    const report = await runOfflineVerification();
    expect(report.emulatorSwitchDuringChecks).toBe(false);
    const { outcomes } = report;
    const refusal = (name: string) => ({
      name,
      code: outcomes[name]?.verifier.code,
      api: outcomes[name]?.api,
      denial: outcomes[name]?.denial,
    });
    const expected = (name: string) => ({
      name,
      code: 'auth/argument-error',
      api: { status: 401, code: 'invalid_token' },
      denial: { reason: 'invalid_id_token', detail: 'auth/argument-error' },
    });
    for (const name of ['algNone', 'algNoneWithoutKid', 'unknownKey', 'wrongKeyUnderGoogleKid']) {
      expect(refusal(name)).toEqual(expected(name));
    }
    // Each for its own reason, none for a failed key fetch.
    expect(outcomes.algNone?.verifier.message).toContain(
      'has incorrect algorithm. Expected "RS256" but got "none"',
    );
    expect(outcomes.algNoneWithoutKid?.verifier.message).toContain('has no "kid" claim');
    expect(outcomes.unknownKey?.verifier.message).toContain(
      '"kid" claim which does not correspond to a known public key',
    );
    expect(outcomes.wrongKeyUnderGoogleKid?.verifier.message).toContain('has invalid signature');
    // The control: the same claims signed with the "Google" key pass the same path, revocation
    // check included, so the refusals above are the signature's, not the harness's.
    expect(outcomes.signedByGoogle?.verifier).toEqual({ uid: 'attacker-uid' });
    expect(outcomes.signedByGoogle?.api.principal).toMatchObject({
      kind: 'user',
      uid: 'attacker-uid',
      tenantId: 'acme',
      role: 'admin',
    });
    // The keys came from Google's certificate URL (through the stand-in), never skipped.
    expect(report.requests).toContainEqual({
      host: 'www.googleapis.com',
      method: 'GET',
      path: '/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com',
    });
    // Why the cold-start refusal matters: under the emulator switch the SDK takes alg:none.
    expect(report.underEmulatorSwitch).toEqual({ uid: 'attacker-uid' });
  }, 30_000);
});

interface KeyView {
  keyId: string;
  scopes: string[];
  expiresAt: string | null;
  revokedAt: string | null;
  token?: string;
}

describe('finding 11: API keys outliving or out-scoping their issuer', () => {
  let tenantId: string;
  let adminKey: string;

  beforeAll(async () => {
    tenantId = `issuer-${run}`;
    adminKey = (await onboardTenant(services, { tenantId, name: 'issuer caps' })).apiKey.token;
  }, 60_000);

  async function issue(key: string, body: Record<string, unknown>) {
    return callApi('/v1/api-keys', { method: 'POST', key, body });
  }

  async function shortLivedManager(scopes: string[], hours = 2): Promise<KeyView> {
    const expiresAt = new Date(Date.now() + hours * 3600_000).toISOString();
    const reply = await issue(adminKey, { name: 'short-lived manager', scopes, expiresAt });
    expect(reply.status).toBe(201);
    return reply.body as KeyView;
  }

  it('a key issued by a short-lived key without an expiry expires with its issuer', async () => {
    const manager = await shortLivedManager(['keys:admin', 'extractions:read']);
    const reply = await issue(manager.token ?? '', { name: 'child', scopes: ['extractions:read'] });
    expect(reply.status).toBe(201);
    expect((reply.body as KeyView).expiresAt).toBe(manager.expiresAt);
  });

  it('a key asked to outlive its issuing key is refused (403 lifetime_escalation)', async () => {
    const manager = await shortLivedManager(['keys:admin', 'extractions:read']);
    const reply = await issue(manager.token ?? '', {
      name: 'outliving child',
      scopes: ['extractions:read'],
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });
    expect(reply.status).toBe(403);
    expect(reply.body).toMatchObject({ error: { code: 'lifetime_escalation' } });
  });

  it('a key being rotated out cannot issue a key that outlives its overlap', async () => {
    const manager = await issue(adminKey, {
      name: 'manager to rotate',
      scopes: ['keys:admin', 'extractions:read'],
    });
    const managerKey = manager.body as KeyView;
    const rotated = await callApi(`/v1/api-keys/${managerKey.keyId}/rotate`, {
      method: 'POST',
      key: adminKey,
      body: { overlapSeconds: 3600 },
    });
    expect(rotated.status).toBe(201);
    // The old token still works for the overlap hour; what it issues ends with it.
    const reply = await issue(managerKey.token ?? '', {
      name: 'born of a retiring key',
      scopes: ['extractions:read'],
    });
    expect(reply.status).toBe(201);
    const child = reply.body as KeyView;
    expect(child.expiresAt).not.toBeNull();
    const listed = await callApi('/v1/api-keys', { key: adminKey });
    const old = (listed.body as { apiKeys: KeyView[] }).apiKeys.find(
      (k) => k.keyId === managerKey.keyId,
    );
    expect(child.expiresAt).toBe(old?.expiresAt);
  });

  it('rotation by a short-lived key caps the new key at the rotating key’s expiry', async () => {
    const manager = await shortLivedManager(['keys:admin', 'extractions:read']);
    const forever = await issue(adminKey, { name: 'never expires', scopes: ['extractions:read'] });
    const target = forever.body as KeyView;
    expect(target.expiresAt).toBeNull();
    const rotated = await callApi(`/v1/api-keys/${target.keyId}/rotate`, {
      method: 'POST',
      key: manager.token ?? '',
      body: {},
    });
    expect(rotated.status).toBe(201);
    expect((rotated.body as KeyView).expiresAt).toBe(manager.expiresAt);
    const beyond = await callApi(`/v1/api-keys/${(rotated.body as KeyView).keyId}/rotate`, {
      method: 'POST',
      key: manager.token ?? '',
      body: { expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() },
    });
    expect(beyond.status).toBe(403);
    expect(beyond.body).toMatchObject({ error: { code: 'lifetime_escalation' } });
  });

  it('a key cannot rotate a key holding scopes it lacks, nor issue one', async () => {
    const manager = await shortLivedManager(['keys:admin', 'extractions:read']);
    const writer = await issue(adminKey, { name: 'writer', scopes: ['extractions:write'] });
    const rotated = await callApi(`/v1/api-keys/${(writer.body as KeyView).keyId}/rotate`, {
      method: 'POST',
      key: manager.token ?? '',
      body: {},
    });
    expect(rotated.status).toBe(403);
    expect(rotated.body).toMatchObject({ error: { code: 'scope_escalation' } });
    const issued = await issue(manager.token ?? '', {
      name: 'escalated',
      scopes: ['extractions:read', 'extractions:write'],
    });
    expect(issued.status).toBe(403);
    expect(issued.body).toMatchObject({ error: { code: 'scope_escalation' } });
  });

  it('a person (ID token) is capped only by the policy maximum, not by any key', async () => {
    const admin = await idTokenFor(`issuer-admin-${run}`, { tenant_id: tenantId, role: 'admin' });
    const reply = await issue(admin, { name: 'by a person', scopes: ['extractions:read'] });
    expect(reply.status).toBe(201);
    expect((reply.body as KeyView).expiresAt).toBeNull();
  });
});
