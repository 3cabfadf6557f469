/**
 * Random interleavings of two tenants' operations (fast-check): whatever the order, a tenant
 * never receives another tenant's ids or data — not in a reply to its own requests, nor when it
 * asks for the other's ids directly (then it gets exactly the never-existed 404).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { parseConfig } from '../../functions/src/config';
import { createServices, type Services } from '../../functions/src/services';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import {
  callApi,
  idTokenFor,
  withoutRequestId,
  type ApiReply,
  type ExtractionBody,
} from '../support/api';

interface TenantState {
  id: string;
  /** The API key and an admin person's ID token: commands use either. */
  credentials: string[];
  keyIds: string[];
  extractions: string[];
  evidence: string[];
  markers: string[];
}

const run = randomBytes(4).toString('hex');
let services: Services;
const tenants: [TenantState, TenantState] = [
  { id: `iso-a-${run}`, credentials: [], keyIds: [], extractions: [], evidence: [], markers: [] },
  { id: `iso-b-${run}`, credentials: [], keyIds: [], extractions: [], evidence: [], markers: [] },
];

beforeAll(async () => {
  services = createServices(parseConfig());
  for (const tenant of tenants) {
    const onboarded = await onboardTenant(services, { tenantId: tenant.id, name: tenant.id });
    tenant.keyIds.push(onboarded.apiKey.keyId);
    tenant.credentials.push(
      onboarded.apiKey.token,
      await idTokenFor(`iso-admin-${tenant.id}`, { tenant_id: tenant.id, role: 'admin' }),
    );
  }
}, 60_000);

afterAll(async () => {
  await services.close();
});

/** Everything that identifies the other tenant's data. */
function foreignNeedles(other: TenantState): string[] {
  return [other.id, ...other.keyIds, ...other.extractions, ...other.evidence, ...other.markers];
}

function assertNothingForeign(reply: ApiReply, self: number): void {
  const text = JSON.stringify(reply.body);
  for (const needle of foreignNeedles(tenants[1 - self] as TenantState)) {
    expect(text.includes(needle)).toBe(false);
  }
}

const NOT_FOUND = (resource: string) => ({
  error: { code: 'not_found', message: `${resource} not found` },
});

type Op =
  | { kind: 'create'; tenant: number; cred: number; words: string[] }
  | {
      kind: 'getOwn' | 'getOther' | 'evidenceOwn' | 'evidenceOther';
      tenant: number;
      cred: number;
      pick: number;
    }
  | { kind: 'listKeys'; tenant: number; cred: number };

const tenantArb = fc.integer({ min: 0, max: 1 });
const credArb = fc.integer({ min: 0, max: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const),
    tenant: tenantArb,
    cred: credArb,
    words: fc.array(fc.stringMatching(/^[A-Za-z0-9]{1,12}$/), { minLength: 1, maxLength: 6 }),
  }),
  fc.record({
    kind: fc.constantFrom<'getOwn' | 'getOther' | 'evidenceOwn' | 'evidenceOther'>(
      'getOwn',
      'getOther',
      'evidenceOwn',
      'evidenceOther',
    ),
    tenant: tenantArb,
    cred: credArb,
    pick: fc.nat(),
  }),
  fc.record({ kind: fc.constant('listKeys' as const), tenant: tenantArb, cred: credArb }),
);

async function apply(op: Op): Promise<void> {
  const self = tenants[op.tenant] as TenantState;
  const other = tenants[1 - op.tenant] as TenantState;
  const key = self.credentials[op.cred] ?? '';
  switch (op.kind) {
    case 'create': {
      const marker = `ISO-${randomBytes(6).toString('hex')}`;
      self.markers.push(marker);
      const reply = await callApi('/v1/extractions', {
        method: 'POST',
        key,
        body: {
          document: {
            contentType: 'text/plain',
            text: `Vendor: ${marker}\n${op.words.join(' ')}\nTotal: 10.00`,
          },
          schema: 'invoice',
        },
      });
      expect(reply.status).toBe(202);
      assertNothingForeign(reply, op.tenant);
      self.extractions.push((reply.body as ExtractionBody).id);
      return;
    }
    case 'getOwn':
    case 'getOther': {
      const pool = op.kind === 'getOwn' ? self.extractions : other.extractions;
      const id =
        pool.length > 0 ? (pool[op.pick % pool.length] as string) : 'ex_000000000000000000000000';
      const reply = await callApi(`/v1/extractions/${id}`, { key });
      assertNothingForeign(reply, op.tenant);
      if (op.kind === 'getOther' || pool.length === 0) {
        expect(reply.status).toBe(404);
        expect(withoutRequestId(reply.body)).toEqual(NOT_FOUND('extraction'));
        return;
      }
      expect(reply.status).toBe(200);
      const body = reply.body as ExtractionBody;
      expect(body.id).toBe(id);
      if (body.evidenceId && !self.evidence.includes(body.evidenceId))
        self.evidence.push(body.evidenceId);
      return;
    }
    case 'evidenceOwn':
    case 'evidenceOther': {
      // The other's evidence ids derive from its extraction ids, sealed or not yet written.
      const pool =
        op.kind === 'evidenceOwn'
          ? self.evidence
          : [...other.evidence, ...other.extractions.map((id) => `ev_${id}`)];
      const id =
        pool.length > 0
          ? (pool[op.pick % pool.length] as string)
          : 'ev_ex_000000000000000000000000';
      const reply = await callApi(`/v1/evidence/${id}`, { key });
      assertNothingForeign(reply, op.tenant);
      if (op.kind === 'evidenceOther' || pool.length === 0) {
        expect(reply.status).toBe(404);
        expect(withoutRequestId(reply.body)).toEqual(NOT_FOUND('evidence'));
        return;
      }
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ id, tenantId: self.id });
      return;
    }
    case 'listKeys': {
      const reply = await callApi('/v1/api-keys', { key });
      expect(reply.status).toBe(200);
      assertNothingForeign(reply, op.tenant);
      const ids = (reply.body as { apiKeys: { keyId: string }[] }).apiKeys.map((k) => k.keyId);
      expect(ids).toEqual(expect.arrayContaining(self.keyIds));
      for (const id of other.keyIds) expect(ids).not.toContain(id);
      return;
    }
  }
}

it('two tenants never see each other’s ids or data, in any interleaving', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 8 }), async (ops) => {
      for (const op of ops) await apply(op);
    }),
    { numRuns: 15 },
  );
  // The run exercised both directions of both kinds of lookups.
  expect(tenants[0].extractions.length + tenants[1].extractions.length).toBeGreaterThan(0);
}, 180_000);
