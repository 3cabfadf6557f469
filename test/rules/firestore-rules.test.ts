/**
 * Expands the one table in `matrix.ts` into a case per collection × operation × principal ×
 * shape and runs each against the Firestore emulator of the running stack with the repository's
 * `firestore.rules`. A case expects success exactly when the table allows it.
 *
 * Every case is one REST request (`firestore-rest.ts`): its answer is the rules' verdict, and a
 * request that gets no answer fails its case as "no verdict", never as a denial or an allowance.
 *
 * The emulator is shared with other suites running at the same time: this file never clears
 * it, works only under tenants (and top-level ids) unique to this run, and deletes only the
 * documents it wrote.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot, readStackFile } from '../../scripts/local/stack-file';
import { FirestoreRest, idToken, type Caller, type Verdict } from './firestore-rest';
import {
  allows,
  IDENTITY_TENANT,
  MATRIX,
  OTHER_IDENTITY_TENANT,
  OPS,
  PRINCIPALS,
  type CollectionRow,
  type DocData,
  type Op,
  type Principal,
  type Shape,
  type ShapeContext,
  tenantProfile,
} from './matrix';

const run = `rules-${randomBytes(4).toString('hex')}`;
const TENANT = `${run}-a`;
const OTHER_TENANT = `${run}-b`;

interface Case {
  name: string;
  row: CollectionRow;
  op: Op;
  principal: Principal;
  tenantId: string;
  docPath: string;
  /** The document written by create and update cases. */
  shape?: Shape;
  /** The seeded document, for get, list, update and delete cases. */
  seed?: DocData;
  allowed: boolean;
}

function docPathOf(row: CollectionRow, tenantId: string, docId: string): string {
  return row.path.replace('{t}', tenantId).replace('{id}', docId);
}

/** Every case of the table. Each has its own document, so no case depends on another's outcome. */
function buildCases(): Case[] {
  const cases: Case[] = [];
  for (const row of MATRIX) {
    for (const op of OPS) {
      const shapes: [string, Shape | undefined][] =
        op === 'create' || op === 'update'
          ? [
              ['valid', row[op].valid],
              ...Object.entries(row[op].forged ?? {}).map(([label, s]): [string, Shape] => [
                `forged: ${label}`,
                s,
              ]),
            ]
          : [['', undefined]];
      for (const principal of PRINCIPALS) {
        for (const [label, shape] of shapes) {
          const n = cases.length;
          let tenantId = TENANT;
          const caseDocId = `${run}-c${String(n)}`;
          let docId = shape?.docId?.(caseDocId) ?? caseDocId;
          // The tenant profile is the document `tenants/{t}` itself: a create needs a tenant
          // whose profile does not exist yet.
          if (!row.path.includes('{id}') && op === 'create') tenantId = `${run}-new${String(n)}`;
          if (!row.path.includes('{id}')) docId = tenantId;
          const docPath = docPathOf(row, tenantId, docId);
          const c: ShapeContext = { tenantId, otherTenantId: OTHER_TENANT, docId, uid: 'seed' };
          const allowed = allows(row, op, principal) && (shape === undefined || label === 'valid');
          cases.push({
            name: `${op} by ${principal.label}${label ? ` [${label}]` : ''} → ${allowed ? 'allowed' : 'denied'}`,
            row,
            op,
            principal,
            tenantId,
            docPath,
            ...(shape ? { shape } : {}),
            ...(op === 'create' ? {} : { seed: row.seed(c) }),
            allowed,
          });
        }
      }
    }
  }
  return cases;
}

const cases = buildCases();
/** Every path this run may have written, deleted again in afterAll. */
const written = new Set(cases.map((c) => c.docPath));

const stack = readStackFile();
const rest = new FirestoreRest(stack.emulators.firestore, stack.projectId);
/** What each case's request got, filled in beforeAll (run concurrently; cases are independent). */
const outcomes = new Map<Case, { verdict: Verdict } | { error: unknown }>();
const CONCURRENCY = 16;

/** Who the principal is, as the Authorization of its requests. */
function callerFor(principal: Principal, tenantId: string): Caller {
  const claims = principal.claims(tenantId, OTHER_TENANT);
  return claims === null ? null : { idToken: idToken(stack.projectId, principal.uid, claims) };
}

function perform(c: Case): Promise<Verdict> {
  const caller = callerFor(c.principal, c.tenantId);
  const docId = c.docPath.slice(c.docPath.lastIndexOf('/') + 1);
  const ctx: ShapeContext = {
    tenantId: c.tenantId,
    otherTenantId: OTHER_TENANT,
    docId,
    uid: c.principal.uid,
  };
  switch (c.op) {
    case 'get':
      return rest.get(caller, c.docPath);
    case 'list':
      return rest.list(caller, c.docPath.slice(0, c.docPath.lastIndexOf('/')));
    case 'create':
      return rest.set(caller, c.docPath, c.shape?.data(ctx) ?? {});
    case 'update':
      return rest.update(caller, c.docPath, c.shape?.data(ctx) ?? {});
    case 'delete':
      return rest.delete(caller, c.docPath);
  }
}

/** The case's verdict, or why it has none. */
function describeOutcome(outcome: { verdict: Verdict } | { error: unknown }): string {
  if ('error' in outcome) return `no verdict: ${String(outcome.error)}`;
  return outcome.verdict.allowed ? 'allowed' : `denied (${outcome.verdict.message.trim()})`;
}

async function expectVerdict(pending: Promise<Verdict>, allowed: boolean): Promise<void> {
  const verdict = await pending;
  expect(verdict.allowed ? 'allowed' : `denied (${verdict.message.trim()})`).toMatch(
    allowed ? /^allowed$/ : /^denied/,
  );
}

beforeAll(async () => {
  await rest.loadRules(readFileSync(path.join(projectRoot(), 'firestore.rules'), 'utf8'));
  const other: ShapeContext = {
    tenantId: OTHER_TENANT,
    otherTenantId: TENANT,
    docId: `${run}-b0`,
    uid: 'seed',
  };
  const otherDocs = MATRIX.filter((r) => r.path.includes('{id}')).map((r): [string, DocData] => [
    docPathOf(r, OTHER_TENANT, other.docId),
    r.seed({ ...other, docId: other.docId }),
  ]);
  for (const [p] of otherDocs) written.add(p);
  // The profiles the rules read (the tenant row's own cases seed the same document).
  const profiles: [string, DocData][] = [
    [`tenants/${TENANT}`, tenantProfile(TENANT, { identityTenantId: IDENTITY_TENANT })],
    [`tenants/${OTHER_TENANT}`, tenantProfile(OTHER_TENANT, { identityTenantId: IDENTITY_TENANT })],
  ];
  for (const [p] of profiles) written.add(p);
  await rest.seed([
    ...profiles,
    ...cases.flatMap((c): [string, DocData][] => (c.seed ? [[c.docPath, c.seed]] : [])),
    ...otherDocs,
  ]);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let c = cases[next++]; c; c = cases[next++]) {
      try {
        outcomes.set(c, { verdict: await perform(c) });
      } catch (error) {
        outcomes.set(c, { error });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}, 120_000);

afterAll(async () => {
  // Only this run's documents; never a clear of the shared emulator.
  await rest.remove([...written]);
}, 60_000);

describe('firestore.rules matrix', () => {
  it('denies more paths than it allows', () => {
    const allowed = cases.filter((c) => c.allowed).length;
    expect(allowed).toBeGreaterThan(0);
    expect(cases.length - allowed).toBeGreaterThan(allowed);
  });

  it('gives every write case a document of its own', () => {
    // A write that lands on another case's document would be judged against that document:
    // the cases must not share one (issue 10, finding 10 suspected shared ids). The tenant
    // profile itself is the one document every principal's update of `tenants/{t}` targets.
    const writes = cases.filter(
      (c) => c.op === 'create' || (c.op === 'update' && c.row.path.includes('{id}')),
    );
    expect(new Set(writes.map((c) => c.docPath)).size).toBe(writes.length);
  });

  for (const row of MATRIX) {
    describe(row.path, () => {
      for (const c of cases.filter((x) => x.row === row)) {
        it(c.name, () => {
          const outcome = outcomes.get(c);
          if (!outcome) throw new Error('the case did not run');
          expect(describeOutcome(outcome)).toMatch(c.allowed ? /^allowed$/ : /^denied/);
        });
      }
    });
  }
});

describe('firestore.rules across tenants', () => {
  const listable = MATRIX.filter((r) => r.path.startsWith('tenants/{t}/') && r.allow.list);
  for (const row of listable) {
    for (const principal of PRINCIPALS.filter((p) => allows(row, 'list', p))) {
      it(`${principal.label} lists ${row.path} of its own tenant but not of another`, async () => {
        const caller = callerFor(principal, TENANT);
        const own = docPathOf(row, TENANT, 'x');
        const foreign = docPathOf(row, OTHER_TENANT, 'x');
        const parent = (p: string) => p.slice(0, p.lastIndexOf('/'));
        await expectVerdict(rest.list(caller, parent(own)), true);
        await expectVerdict(rest.list(caller, parent(foreign)), false);
        await expectVerdict(
          rest.list(caller, parent(foreign), { field: 'tenantId', value: OTHER_TENANT }),
          false,
        );
      });
    }
  }

  for (const group of ['extractions', 'evidence', 'schemas', 'webhooks']) {
    it(`refuses a collection-group query on ${group} even to an admin`, async () => {
      const caller = callerFor(PRINCIPALS[0] as Principal, TENANT);
      await expectVerdict(rest.collectionGroup(caller, group), false);
      await expectVerdict(
        rest.collectionGroup(caller, group, { field: 'tenantId', value: TENANT }),
        false,
      );
    });
  }

  it('refuses listing the tenants collection to everyone', async () => {
    for (const principal of PRINCIPALS) {
      await expectVerdict(rest.list(callerFor(principal, TENANT), 'tenants'), false);
    }
  });
});

// Issue 10, finding 4: the rules bind a person to the tenant as the API does
// (tenancy/identity.ts): the token's Identity Platform tenant (`firebase.tenant`) must be the
// profile's `identityTenantId`, both absent counting as equal, and the tenant must be active.
describe('firestore.rules bind the identity tenant and the tenant status, as the API does', () => {
  const extraction = (tenantId: string) => `tenants/${tenantId}/extractions/${run}-idp`;
  const adminOf = (tenantId: string, identityTenant?: string): Caller => ({
    idToken: idToken(stack.projectId, `idp-admin-${tenantId}`, {
      tenant_id: tenantId,
      role: 'admin',
      firebase: {
        sign_in_provider: 'password',
        ...(identityTenant === undefined ? {} : { tenant: identityTenant }),
      },
    }),
  });
  const POOL = `${run}-pool`;
  const OFFBOARDED = `${run}-gone`;
  const UNKNOWN = `${run}-unknown`;

  beforeAll(async () => {
    const docs: [string, DocData][] = [
      [`tenants/${POOL}`, tenantProfile(POOL)],
      [
        `tenants/${OFFBOARDED}`,
        tenantProfile(OFFBOARDED, { identityTenantId: IDENTITY_TENANT, status: 'offboarded' }),
      ],
      ...[TENANT, POOL, OFFBOARDED, UNKNOWN].map((t): [string, DocData] => [
        extraction(t),
        { tenantId: t, status: 'succeeded' },
      ]),
    ];
    for (const [p] of docs) written.add(p);
    await rest.seed(docs);
  });

  it("admits the tenant's own identity tenant", async () => {
    await expectVerdict(rest.get(adminOf(TENANT, IDENTITY_TENANT), extraction(TENANT)), true);
  });

  it('refuses a token of another identity tenant carrying the tenant id', async () => {
    const caller = adminOf(TENANT, OTHER_IDENTITY_TENANT);
    await expectVerdict(rest.get(caller, extraction(TENANT)), false);
    await expectVerdict(rest.get(caller, `tenants/${TENANT}`), false);
  });

  it("refuses a token of the project's user pool when the tenant has an identity tenant", async () => {
    await expectVerdict(rest.get(adminOf(TENANT), extraction(TENANT)), false);
  });

  it("admits the project's user pool for a tenant without an identity tenant", async () => {
    await expectVerdict(rest.get(adminOf(POOL), extraction(POOL)), true);
  });

  it('refuses any identity tenant for a tenant without one', async () => {
    await expectVerdict(rest.get(adminOf(POOL, IDENTITY_TENANT), extraction(POOL)), false);
  });

  it('refuses the people of an offboarded tenant', async () => {
    const caller = adminOf(OFFBOARDED, IDENTITY_TENANT);
    await expectVerdict(rest.get(caller, extraction(OFFBOARDED)), false);
    await expectVerdict(rest.get(caller, `tenants/${OFFBOARDED}`), false);
  });

  it('refuses a tenant that has no profile in this database', async () => {
    await expectVerdict(rest.get(adminOf(UNKNOWN), extraction(UNKNOWN)), false);
  });
});
