/**
 * Denial paths against every route the api router serves. The route list comes from
 * `createApiRouter(...).list()`, so a route added later is attacked without anyone editing this
 * file: its path parameters are filled with the victim tenant's ids, and every stolen, broken,
 * revoked, expired or under-scoped credential must be refused (and logged without its secret).
 */
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../../functions/src/config';
import { createApiRouter } from '../../functions/src/http/api';
import { createServices, type Services } from '../../functions/src/services';
import { issueApiKey } from '../../functions/src/tenancy/api-keys';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { API_KEY_SCOPES, type ApiKeyScope } from '../../functions/src/tenancy/platform';
import {
  authAdmin,
  callApi,
  eventually,
  functionLog,
  functionLogText,
  idTokenFor,
  waitForTerminal,
  withoutRequestId,
  type ApiReply,
} from '../support/api';

interface Route {
  method: string;
  pattern: string;
}

const run = randomBytes(4).toString('hex');
const victimId = `atk-victim-${run}`;
const attackerId = `atk-attacker-${run}`;
const MARKER = `VICTIM-DOC-${run}`;

let services: Services;
let routes: Route[];
const victim = {
  key: '',
  keyId: '',
  extractionId: '',
  evidenceId: '',
  spareKeyId: '',
  schemaName: `victim_schema_${run}`,
  /** The hash of the victim's custom schema, and of the prompt an extraction with it sent. */
  schemaSha256: '',
  promptSha256: '',
  webhookId: '',
  subscriptionId: '',
};
const attacker = {
  key: '',
  keyId: '',
  revoked: { token: '', keyId: '' },
  expired: { token: '', keyId: '' },
  /** For each scope, a key holding every other scope. */
  without: {} as Record<ApiKeyScope, { token: string; keyId: string }>,
  adminToken: '',
  auditorToken: '',
};
const people = {
  noClaims: { uid: `noclaims-${run}`, token: '' },
  ghostTenant: { uid: `ghost-${run}`, token: '' },
  badRole: { uid: `badrole-${run}`, token: '' },
  otherIdentityTenant: { uid: `idt-${run}`, token: '' },
  revoked: { uid: `revoked-${run}`, token: '' },
  unregisteredIdentityTenant: { uid: `unreg-${run}`, token: '' },
};

/** Ids that never existed, in each parameter's format. */
const NEVER = {
  extractions: 'ex_000000000000000000000000',
  evidence: 'ev_ex_000000000000000000000000',
  'api-keys': '0000000000000000',
  schemas: 'never_registered',
  versions: '1',
  'content/schemas': '0'.repeat(64),
  'content/prompts': '0'.repeat(64),
  webhooks: 'wh_000000000000000000000000',
  checkpoints: '999999',
  subscriptions: 'sub_000000000000000000000000',
  'subprocessor-notices': 'spn_00000000000000000000000000000000',
};

/**
 * Parameters that name a position in the caller's own log, not a record of some tenant: seal 1
 * exists in every tenant's log, so "another tenant's seal 1" is the caller's own seal 1. Routes
 * with them are checked for credentials and scopes like every route, but have no foreign id.
 */
const TENANT_RELATIVE = [
  '/checkpoints/:seq',
  // A sub-processor notice is the platform's, sent to every tenant alike: each tenant objects
  // to the same notice id for itself (test/e2e/subprocessor-notices.test.ts).
  '/subprocessor-notices/:id',
];

/** The id for a path parameter, by the collection segment before it. */
function fillPath(pattern: string, ids: Record<string, string>): string {
  const segments = pattern.split('/');
  return segments
    .map((segment, i) => {
      if (!segment.startsWith(':')) return segment;
      const collection = segments[i - 1] ?? '';
      const id = ids[`${segments[i - 2] ?? ''}/${collection}`] ?? ids[collection];
      if (id === undefined) {
        throw new Error(
          `${pattern}: no id for a parameter after /${collection}/; teach this test that collection`,
        );
      }
      return encodeURIComponent(id);
    })
    .join('/');
}

const victimIds = () => ({
  extractions: victim.extractionId,
  evidence: victim.evidenceId,
  'api-keys': victim.spareKeyId,
  schemas: victim.schemaName,
  versions: '1',
  'content/schemas': victim.schemaSha256,
  'content/prompts': victim.promptSha256,
  webhooks: victim.webhookId,
  checkpoints: '1',
  subscriptions: victim.subscriptionId,
  'subprocessor-notices': NEVER['subprocessor-notices'],
});

/**
 * Routes anyone may call: health, the API's own description, and the mailed confirmation link
 * of a notice subscription, whose random token is its credential (a wrong one is a 404 like an
 * unknown subscription: test/e2e/subprocessor-notices.test.ts).
 */
const OPEN_ROUTES = [
  'GET /healthz',
  'GET /v1/openapi.json',
  'GET /v1/subprocessor-notices/subscriptions/:id/confirm',
];

const PROBE_SCHEMA = {
  type: 'object',
  properties: { total: { type: 'number' } },
  required: ['total'],
  additionalProperties: false,
};

/** A valid body for routes that create something; other routes are sent none. */
function bodyFor(route: Route): unknown {
  if (route.method !== 'POST') return undefined;
  if (route.pattern === '/v1/extractions')
    return { document: { contentType: 'text/plain', text: 'Total: 1.00' }, schema: 'invoice' };
  // keys:admin only: the scope every caller that may reach this route holds (no escalation).
  if (route.pattern === '/v1/api-keys') return { name: 'probe', scopes: ['keys:admin'] };
  if (route.pattern === '/v1/schemas') return { name: `probe_${run}`, jsonSchema: PROBE_SCHEMA };
  if (route.pattern === '/v1/schemas/:name/versions') return { jsonSchema: PROBE_SCHEMA };
  if (route.pattern === '/v1/webhooks') return { url: 'https://127.0.0.1:9/hook' };
  return {};
}

const call = (route: Route, key: string | undefined, ids = victimIds()) =>
  callApi(fillPath(route.pattern, ids), {
    method: route.method,
    ...(key === undefined ? {} : { key }),
    body: bodyFor(route),
  });

const label = (route: Route) => `${route.method} ${route.pattern}`;

/** Every denial the test caused, checked against the function log at the end. */
const expectedDenials: {
  requestId: string;
  reason: string;
  keyId?: string;
  uid?: string;
  secrets: string[];
}[] = [];

function requestIdOf(reply: ApiReply): string {
  return reply.headers.get('x-request-id') ?? '';
}

beforeAll(async () => {
  services = createServices(parseConfig());
  routes = createApiRouter(services).list();

  const v = await onboardTenant(services, { tenantId: victimId, name: 'victim' });
  const a = await onboardTenant(services, { tenantId: attackerId, name: 'attacker' });
  victim.key = v.apiKey.token;
  victim.keyId = v.apiKey.keyId;
  attacker.key = a.apiKey.token;
  attacker.keyId = a.apiKey.keyId;

  const created = await callApi('/v1/extractions', {
    method: 'POST',
    key: victim.key,
    body: {
      document: { contentType: 'text/plain', text: `Vendor: ${MARKER}\nTotal: 12.00` },
      schema: 'invoice',
    },
  });
  expect(created.status).toBe(202);
  const done = await waitForTerminal((created.body as { id: string }).id, victim.key);
  expect(done.status).toBe('succeeded');
  victim.extractionId = done.id;
  victim.evidenceId = done.evidenceId ?? '';
  const spare = await callApi('/v1/api-keys', {
    method: 'POST',
    key: victim.key,
    body: { name: 'spare', scopes: ['extractions:read'] },
  });
  victim.spareKeyId = (spare.body as { keyId: string }).keyId;
  const schema = await callApi('/v1/schemas', {
    method: 'POST',
    key: victim.key,
    body: { name: victim.schemaName, jsonSchema: PROBE_SCHEMA },
  });
  expect(schema.status).toBe(201);
  victim.schemaSha256 = (schema.body as { sha256: string }).sha256;
  // An extraction with the victim's own schema: its system prompt names the schema, so only the
  // victim's tenant holds that prompt's text.
  const custom = await callApi('/v1/extractions', {
    method: 'POST',
    key: victim.key,
    body: {
      document: { contentType: 'text/plain', text: 'Total: 1.00' },
      schema: victim.schemaName,
    },
  });
  expect(custom.status).toBe(202);
  const customDone = await waitForTerminal((custom.body as { id: string }).id, victim.key);
  expect(customDone.status).toBe('succeeded');
  const customEvidence = await callApi(`/v1/evidence/${customDone.evidenceId ?? ''}`, {
    key: victim.key,
  });
  victim.promptSha256 = (
    customEvidence.body as { model: { systemPromptSha256: string } }
  ).model.systemPromptSha256;
  const webhook = await callApi('/v1/webhooks', {
    method: 'POST',
    key: victim.key,
    body: { url: 'https://127.0.0.1:9/victim-hook' },
  });
  expect(webhook.status).toBe(201);
  victim.webhookId = (webhook.body as { id: string }).id;
  const subscription = await callApi('/v1/subprocessor-notices/subscriptions', {
    method: 'POST',
    key: victim.key,
    body: { email: `dpo-${run}@victim.example` },
  });
  expect(subscription.status).toBe(202);
  victim.subscriptionId = (subscription.body as { id: string }).id;

  const newKey = async (scopes: ApiKeyScope[]) => {
    const reply = await callApi('/v1/api-keys', {
      method: 'POST',
      key: attacker.key,
      body: { name: `scopes ${scopes.join(' ')}`, scopes },
    });
    expect(reply.status).toBe(201);
    return reply.body as { token: string; keyId: string };
  };
  attacker.revoked = await newKey(['extractions:read']);
  expect(
    (
      await callApi(`/v1/api-keys/${attacker.revoked.keyId}`, {
        method: 'DELETE',
        key: attacker.key,
      })
    ).status,
  ).toBe(204);
  // Expired a minute ago: written through the admin accessor, as a key issued long ago would be.
  const expired = issueApiKey(services.config.API_KEY_PEPPER);
  await services.platform.createApiKey(expired.keyId, {
    tenantId: attackerId,
    hash: expired.hash,
    scopes: [...API_KEY_SCOPES],
    name: 'expired',
    expiresAt: new Date(Date.now() - 60_000).toISOString(),
    revokedAt: null,
  });
  attacker.expired = { token: expired.token, keyId: expired.keyId };
  for (const scope of API_KEY_SCOPES) {
    attacker.without[scope] = await newKey(API_KEY_SCOPES.filter((s) => s !== scope));
  }

  const [identityTenant, unregisteredIdentityTenant] = (await authAdmin([
    { op: 'createIdentityTenant', displayName: `attack${run.slice(0, 4)}` },
    { op: 'createIdentityTenant', displayName: `unreg${run.slice(0, 4)}` },
  ])) as [string, string];
  // A third tenant whose people live in `identityTenant`: its users must not reach the attacker.
  await onboardTenant(services, {
    tenantId: `atk-idp-${run}`,
    name: 'identity tenant owner',
    identityTenantId: identityTenant,
  });
  [
    attacker.adminToken,
    attacker.auditorToken,
    people.noClaims.token,
    people.ghostTenant.token,
    people.badRole.token,
    people.otherIdentityTenant.token,
    people.revoked.token,
    people.unregisteredIdentityTenant.token,
  ] = await Promise.all([
    idTokenFor(`admin-${run}`, { tenant_id: attackerId, role: 'admin' }),
    idTokenFor(`auditor-${run}`, { tenant_id: attackerId, role: 'auditor' }),
    idTokenFor(people.noClaims.uid, null),
    idTokenFor(people.ghostTenant.uid, { tenant_id: `never-onboarded-${run}`, role: 'admin' }),
    idTokenFor(people.badRole.uid, { tenant_id: attackerId, role: 'owner' }),
    idTokenFor(
      people.otherIdentityTenant.uid,
      { tenant_id: attackerId, role: 'admin' },
      identityTenant,
    ),
    idTokenFor(people.revoked.uid, { tenant_id: attackerId, role: 'admin' }),
    idTokenFor(
      people.unregisteredIdentityTenant.uid,
      { tenant_id: attackerId, role: 'admin' },
      unregisteredIdentityTenant,
    ),
  ]);
  // Revocation counts from the next whole second after the token's auth_time.
  await new Promise((r) => setTimeout(r, 1100));
  await authAdmin([{ op: 'revokeTokens', uid: people.revoked.uid }]);
}, 120_000);

afterAll(async () => {
  await services.close();
});

describe('the route list', () => {
  it('is built from the router and covers the known customer routes', () => {
    const names = routes.map(label);
    for (const known of [
      'POST /v1/extractions',
      'GET /v1/extractions/:id',
      'GET /v1/evidence/:id',
      'GET /v1/api-keys',
      'POST /v1/api-keys',
      'DELETE /v1/api-keys/:keyId',
      'POST /v1/api-keys/:keyId/rotate',
    ]) {
      expect(names).toContain(known);
    }
  });

  it('has no unauthenticated route but the health check', async () => {
    const open: string[] = [];
    for (const route of routes) {
      const reply = await call(route, undefined, NEVER);
      if (reply.status !== 401) open.push(label(route));
      else expect(reply.body).toMatchObject({ error: { code: 'missing_credentials' } });
    }
    expect(open).toEqual(OPEN_ROUTES);
  });
});

const authenticated = () => routes.filter((r) => !OPEN_ROUTES.includes(label(r)));

describe("another tenant's ids", () => {
  it.each([
    ['API key', () => attacker.key],
    ['admin ID token', () => attacker.adminToken],
  ])(
    'answer exactly like ids that never existed, with the attacker’s %s',
    async (_, credential) => {
      const withForeignIds = authenticated().filter(
        (r) => r.pattern.includes(':') && !TENANT_RELATIVE.some((p) => r.pattern.includes(p)),
      );
      for (const route of withForeignIds) {
        const foreign = await call(route, credential());
        const never = await call(route, credential(), NEVER);
        expect([label(route), foreign.status]).toEqual([label(route), 404]);
        expect([label(route), withoutRequestId(foreign.body)]).toEqual([
          label(route),
          withoutRequestId(never.body),
        ]);
      }
      // Nothing of the victim's was changed by the refused DELETE and rotate.
      const keys = await callApi('/v1/api-keys', { key: victim.key });
      const spare = (keys.body as { apiKeys: { keyId: string; revokedAt: string | null }[] })
        .apiKeys;
      expect(spare.find((k) => k.keyId === victim.spareKeyId)?.revokedAt).toBeNull();
      expect(spare).toHaveLength(2);
      const subscriptions = await callApi('/v1/subprocessor-notices/subscriptions', {
        key: victim.key,
      });
      expect(JSON.stringify(subscriptions.body)).toContain(victim.subscriptionId);
    },
  );

  it('routes without an id show the attacker only its own data', async () => {
    const victimSecrets = [
      victimId,
      victim.extractionId,
      victim.evidenceId,
      victim.keyId,
      victim.spareKeyId,
      victim.subscriptionId,
      `dpo-${run}@victim.example`,
      MARKER,
    ];
    for (const route of authenticated().filter((r) => !r.pattern.includes(':'))) {
      for (const credential of [attacker.key, attacker.adminToken]) {
        const reply = await call(route, credential);
        expect([label(route), reply.status < 500]).toEqual([label(route), true]);
        const text = JSON.stringify(reply.body);
        for (const secret of victimSecrets) {
          expect([label(route), text.includes(secret)]).toEqual([label(route), false]);
        }
      }
    }
    const listed = await callApi('/v1/api-keys', { key: attacker.key });
    const keyIds = (listed.body as { apiKeys: { keyId: string }[] }).apiKeys.map((k) => k.keyId);
    expect(keyIds).toContain(attacker.keyId);
    expect(keyIds).not.toContain(victim.keyId);
  });

  it("the victim's key still works and sees its own data", async () => {
    const reply = await callApi(`/v1/extractions/${victim.extractionId}`, { key: victim.key });
    expect(reply.status).toBe(200);
    const spare = await callApi(`/v1/api-keys`, { key: victim.key });
    expect(JSON.stringify(spare.body)).toContain(victim.spareKeyId);
  });
});

type Attack = [
  name: string,
  credential: () => string,
  status: number,
  code: string,
  log: () => { reason: string; keyId?: string; uid?: string; secrets: string[] },
];

const keySecret = (token: string) => token.slice(21);

const ATTACKS: Attack[] = [
  [
    "the victim's key id with the attacker's secret",
    () => `pvn_${victim.keyId}_${keySecret(attacker.key)}`,
    401,
    'invalid_api_key',
    () => ({ reason: 'wrong_secret', keyId: victim.keyId, secrets: [keySecret(attacker.key)] }),
  ],
  [
    'a revoked key',
    () => attacker.revoked.token,
    401,
    'invalid_api_key',
    () => ({
      reason: 'revoked',
      keyId: attacker.revoked.keyId,
      secrets: [keySecret(attacker.revoked.token)],
    }),
  ],
  [
    'an expired key',
    () => attacker.expired.token,
    401,
    'invalid_api_key',
    () => ({
      reason: 'expired',
      keyId: attacker.expired.keyId,
      secrets: [keySecret(attacker.expired.token)],
    }),
  ],
  [
    'a well-formed unknown key',
    () => `pvn_ffffffffffffffff_${'C'.repeat(43)}`,
    401,
    'invalid_api_key',
    () => ({ reason: 'unknown_key', keyId: 'ffffffffffffffff', secrets: ['C'.repeat(43)] }),
  ],
  ...(
    [
      ['pvn_ alone', 'pvn_'],
      ['a short secret', () => `pvn_${attacker.keyId}_short`],
      ['a secret one char too long', () => `${attacker.key}A`],
      ['an upper-case key id', () => `pvn_${attacker.keyId.toUpperCase()}_${'D'.repeat(43)}`],
      ['a path in the key id', `pvn_../../tenants_${'E'.repeat(43)}`],
      ['a missing separator', () => attacker.key.replace(/^(pvn_[a-z0-9]{16})_/, '$1')],
    ] as [string, string | (() => string)][]
  ).map(([name, token]): Attack => [
    `a malformed key (${name})`,
    typeof token === 'string' ? () => token : token,
    401,
    'invalid_api_key',
    () => ({ reason: 'malformed', secrets: [keySecret(attacker.key)] }),
  ]),
  [
    'a garbage ID token',
    () => 'eyJhbGciOiJub25lIn0.not-a-token.sig',
    401,
    'invalid_token',
    () => ({ reason: 'invalid_id_token', secrets: ['not-a-token'] }),
  ],
  [
    'an ID token without claims',
    () => people.noClaims.token,
    403,
    'missing_tenant_claim',
    () => ({
      reason: 'missing_tenant_claim',
      uid: people.noClaims.uid,
      secrets: [people.noClaims.token],
    }),
  ],
  [
    'an ID token naming a tenant that does not exist',
    () => people.ghostTenant.token,
    403,
    'unknown_tenant',
    () => ({
      reason: 'unknown_tenant',
      uid: people.ghostTenant.uid,
      secrets: [people.ghostTenant.token],
    }),
  ],
  [
    'an ID token with a bad role',
    () => people.badRole.token,
    403,
    'invalid_role',
    () => ({ reason: 'invalid_role', uid: people.badRole.uid, secrets: [people.badRole.token] }),
  ],
  [
    'an ID token from another identity tenant',
    () => people.otherIdentityTenant.token,
    403,
    'identity_tenant_mismatch',
    () => ({
      reason: 'identity_tenant_mismatch',
      uid: people.otherIdentityTenant.uid,
      secrets: [people.otherIdentityTenant.token],
    }),
  ],
  [
    'an ID token from an identity tenant no Provenant tenant registered',
    () => people.unregisteredIdentityTenant.token,
    401,
    'invalid_token',
    () => ({ reason: 'invalid_id_token', secrets: [people.unregisteredIdentityTenant.token] }),
  ],
  [
    'an ID token of a person whose tokens were revoked',
    () => people.revoked.token,
    401,
    'invalid_token',
    () => ({ reason: 'invalid_id_token', secrets: [people.revoked.token] }),
  ],
];

describe('refused credentials, on every route', () => {
  it.each(ATTACKS)('%s', async (_, credential, status, code, expectedLog) => {
    for (const route of authenticated()) {
      const reply = await call(route, credential());
      expect([label(route), reply.status]).toEqual([label(route), status]);
      expect(reply.body).toMatchObject({ error: { code } });
      expectedDenials.push({ requestId: requestIdOf(reply), ...expectedLog() });
    }
  });

  it.each([
    ['Basic credentials', 'Basic dXNlcjpwYXNz', 'malformed_header'],
    ['an empty bearer', 'Bearer ', 'malformed_header'],
    ['two tokens', 'Bearer a b', 'malformed_header'],
  ])('%s are refused as missing credentials', async (_, header, reason) => {
    for (const route of authenticated()) {
      const reply = await callApi(fillPath(route.pattern, victimIds()), {
        method: route.method,
        headers: { Authorization: header },
      });
      expect([label(route), reply.status]).toEqual([label(route), 401]);
      expectedDenials.push({ requestId: requestIdOf(reply), reason, secrets: ['dXNlcjpwYXNz'] });
    }
  });
});

describe('scopes', () => {
  it('every authenticated route needs a scope: some key lacking one scope is refused', async () => {
    for (const route of authenticated()) {
      const refusedFor: ApiKeyScope[] = [];
      for (const scope of API_KEY_SCOPES) {
        const key = attacker.without[scope];
        const reply = await call(route, key.token, NEVER);
        if (reply.status === 403) {
          expect(reply.body).toMatchObject({ error: { code: 'insufficient_scope' } });
          refusedFor.push(scope);
          expectedDenials.push({
            requestId: requestIdOf(reply),
            reason: 'insufficient_scope',
            keyId: key.keyId,
            secrets: [keySecret(key.token)],
          });
        }
      }
      expect([label(route), refusedFor.length]).toEqual([label(route), 1]);
    }
  });

  it.each<[string, ApiKeyScope]>([
    ['POST /v1/extractions', 'extractions:write'],
    ['GET /v1/extractions/:id', 'extractions:read'],
    ['GET /v1/evidence/:id', 'extractions:read'],
    ['GET /v1/api-keys', 'keys:admin'],
    ['POST /v1/api-keys', 'keys:admin'],
    ['DELETE /v1/api-keys/:keyId', 'keys:admin'],
    ['POST /v1/api-keys/:keyId/rotate', 'keys:admin'],
    ['GET /v1/schemas', 'extractions:read'],
    ['GET /v1/schemas/:name', 'extractions:read'],
    ['POST /v1/schemas', 'schemas:write'],
    ['GET /v1/schemas/:name/versions', 'extractions:read'],
    ['GET /v1/schemas/:name/versions/:version', 'extractions:read'],
    ['POST /v1/schemas/:name/versions', 'schemas:write'],
    ['GET /v1/content/schemas/:hash', 'extractions:read'],
    ['GET /v1/content/prompts/:hash', 'extractions:read'],
    ['GET /v1/webhooks', 'keys:admin'],
    ['POST /v1/webhooks', 'keys:admin'],
    ['DELETE /v1/webhooks/:id', 'keys:admin'],
    ['DELETE /v1/extractions/:id', 'extractions:write'],
    ['GET /v1/extractions/:id/receipt', 'extractions:read'],
    ['POST /v1/subprocessor-notices/subscriptions', 'keys:admin'],
    ['GET /v1/subprocessor-notices/subscriptions', 'keys:admin'],
    ['DELETE /v1/subprocessor-notices/subscriptions/:id', 'keys:admin'],
    ['POST /v1/subprocessor-notices/:id/objections', 'keys:admin'],
  ])('%s needs %s', async (name, scope) => {
    const route = routes.find((r) => label(r) === name);
    if (!route) throw new Error(`${name} is not served`);
    const reply = await call(route, attacker.without[scope].token, NEVER);
    expect(reply.status).toBe(403);
  });

  it('an auditor person may read but not write or manage keys', async () => {
    const read = await callApi(`/v1/extractions/${NEVER.extractions}`, {
      key: attacker.auditorToken,
    });
    expect(read.status).toBe(404);
    const write = await call({ method: 'POST', pattern: '/v1/extractions' }, attacker.auditorToken);
    expect(write.status).toBe(403);
    const keys = await callApi('/v1/api-keys', { key: attacker.auditorToken });
    expect(keys.status).toBe(403);
    for (const reply of [write, keys]) {
      expectedDenials.push({
        requestId: requestIdOf(reply),
        reason: 'insufficient_scope',
        uid: `auditor-${run}`,
        secrets: [attacker.auditorToken],
      });
    }
  });
});

describe('the denial log', () => {
  it('has one auth_denied line per denial, with its reason and key id or uid', async () => {
    expect(expectedDenials.length).toBeGreaterThan(50);
    const lines = await eventually(() => {
      const denied = functionLog('api').filter((l) => l.event === 'auth_denied');
      const byRequest = new Map(denied.map((l) => [l.requestId, l]));
      return Promise.resolve(
        expectedDenials.every((d) => byRequest.has(d.requestId)) ? byRequest : undefined,
      );
    }, 10_000);
    for (const denial of expectedDenials) {
      const line = lines.get(denial.requestId);
      expect(line).toMatchObject({
        reason: denial.reason,
        ...(denial.keyId === undefined ? {} : { keyId: denial.keyId }),
        ...(denial.uid === undefined ? {} : { uid: denial.uid }),
      });
    }
  });

  it('never contains a token or the secret part of a key', () => {
    const text = functionLogText('api');
    const secrets = new Set<string>([
      keySecret(victim.key),
      keySecret(attacker.key),
      keySecret(attacker.revoked.token),
      keySecret(attacker.expired.token),
      attacker.adminToken,
      attacker.auditorToken,
      ...Object.values(attacker.without).map((k) => keySecret(k.token)),
      ...Object.values(people).map((p) => p.token),
      ...expectedDenials.flatMap((d) => d.secrets),
    ]);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(text.includes(secret)).toBe(false);
    }
    expect(text).not.toContain(MARKER);
  });
});
