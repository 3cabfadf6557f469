/**
 * Expands the one table in `matrix.ts` into a case per collection × operation × principal ×
 * shape and runs each against the Firestore emulator of the running stack with the repository's
 * `firestore.rules`. A case expects success exactly when the table allows it.
 *
 * The emulator is shared with other suites running at the same time: this file never clears
 * it, works only under tenants (and top-level ids) unique to this run, and deletes only the
 * documents it wrote.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  assertFails,
  assertSucceeds,
  initializeTestEnvironment,
  type RulesTestContext,
  type RulesTestEnvironment,
} from '@firebase/rules-unit-testing';
import {
  collection,
  collectionGroup,
  deleteDoc,
  doc,
  getDoc,
  getDocs,
  query,
  setDoc,
  setLogLevel,
  updateDoc,
  where,
  writeBatch,
  type Firestore,
} from 'firebase/firestore';
import { projectRoot, readStackFile } from '../../scripts/local/stack-file';
import {
  allows,
  MATRIX,
  OPS,
  PRINCIPALS,
  type CollectionRow,
  type DocData,
  type Op,
  type Principal,
  type Shape,
  type ShapeContext,
} from './matrix';

// Every refused write is also logged by the SDK as a warning; the assertions report them.
setLogLevel('error');

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

let env: RulesTestEnvironment;
/** What each case's request did, filled in beforeAll (run concurrently; cases are independent). */
const outcomes = new Map<Case, { ok: true } | { ok: false; error: unknown }>();
const CONCURRENCY = 16;
const contexts = new Map<string, RulesTestContext>();

/** One client per principal and tenant, reused by every case (a client is an app + channel). */
function dbFor(principal: Principal, tenantId: string): Firestore {
  const key = `${principal.label}\n${tenantId}`;
  let ctx = contexts.get(key);
  if (!ctx) {
    const claims = principal.claims(tenantId, OTHER_TENANT);
    ctx =
      claims === null
        ? env.unauthenticatedContext()
        : env.authenticatedContext(principal.uid, claims);
    contexts.set(key, ctx);
  }
  // The compat instance the library returns wraps the modular one the v9 functions accept.
  return ctx.firestore() as unknown as Firestore;
}

async function asOwner(write: (db: Firestore) => Promise<void>): Promise<void> {
  await env.withSecurityRulesDisabled((ctx) => write(ctx.firestore() as unknown as Firestore));
}

/** Writes documents (rules disabled) in batches of at most 500. */
async function seed(docs: [string, DocData][]): Promise<void> {
  await asOwner(async (db) => {
    for (let i = 0; i < docs.length; i += 500) {
      const batch = writeBatch(db);
      for (const [p, data] of docs.slice(i, i + 500)) batch.set(doc(db, p), data);
      await batch.commit();
    }
  });
}

function perform(c: Case): Promise<unknown> {
  const db = dbFor(c.principal, c.tenantId);
  const ref = doc(db, c.docPath);
  const ctx: ShapeContext = {
    tenantId: c.tenantId,
    otherTenantId: OTHER_TENANT,
    docId: ref.id,
    uid: c.principal.uid,
  };
  switch (c.op) {
    case 'get':
      return getDoc(ref);
    case 'list':
      return getDocs(ref.parent);
    case 'create':
      return setDoc(ref, c.shape?.data(ctx) ?? {});
    case 'update':
      return updateDoc(ref, c.shape?.data(ctx) ?? {});
    case 'delete':
      return deleteDoc(ref);
  }
}

/** assertFails reads `code` and `message`; FirestoreError has both. */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

beforeAll(async () => {
  const stack = readStackFile();
  const [host = '', port = ''] = stack.emulators.firestore.split(':');
  env = await initializeTestEnvironment({
    projectId: stack.projectId,
    firestore: {
      host,
      port: Number(port),
      rules: readFileSync(path.join(projectRoot(), 'firestore.rules'), 'utf8'),
    },
  });
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
  await seed([
    ...cases.flatMap((c): [string, DocData][] => (c.seed ? [[c.docPath, c.seed]] : [])),
    ...otherDocs,
  ]);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let c = cases[next++]; c; c = cases[next++]) {
      try {
        await perform(c);
        outcomes.set(c, { ok: true });
      } catch (error) {
        outcomes.set(c, { ok: false, error });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}, 120_000);

afterAll(async () => {
  // Only this run's documents; never clearFirestore() on the shared emulator.
  await asOwner(async (db) => {
    const paths = [...written];
    for (let i = 0; i < paths.length; i += 500) {
      const batch = writeBatch(db);
      for (const p of paths.slice(i, i + 500)) batch.delete(doc(db, p));
      await batch.commit();
    }
  });
  await env.cleanup();
}, 60_000);

describe('firestore.rules matrix', () => {
  it('denies more paths than it allows', () => {
    const allowed = cases.filter((c) => c.allowed).length;
    expect(allowed).toBeGreaterThan(0);
    expect(cases.length - allowed).toBeGreaterThan(allowed);
  });

  for (const row of MATRIX) {
    describe(row.path, () => {
      for (const c of cases.filter((x) => x.row === row)) {
        it(c.name, async () => {
          const outcome = outcomes.get(c);
          if (!outcome) throw new Error('the case did not run');
          const result = outcome.ok ? Promise.resolve() : Promise.reject(asError(outcome.error));
          if (c.allowed) await assertSucceeds(result);
          else await assertFails(result);
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
        const own = doc(dbFor(principal, TENANT), docPathOf(row, TENANT, 'x')).parent;
        const foreign = doc(dbFor(principal, TENANT), docPathOf(row, OTHER_TENANT, 'x')).parent;
        await assertSucceeds(getDocs(own));
        await assertFails(getDocs(foreign));
        await assertFails(getDocs(query(foreign, where('tenantId', '==', OTHER_TENANT))));
      });
    }
  }

  for (const group of ['extractions', 'evidence', 'schemas', 'webhooks']) {
    it(`refuses a collection-group query on ${group} even to an admin`, async () => {
      const db = dbFor(PRINCIPALS[0] as Principal, TENANT);
      await assertFails(getDocs(collectionGroup(db, group)));
      await assertFails(
        getDocs(query(collectionGroup(db, group), where('tenantId', '==', TENANT))),
      );
    });
  }

  it('refuses listing the tenants collection to everyone', async () => {
    for (const principal of PRINCIPALS) {
      await assertFails(getDocs(collection(dbFor(principal, TENANT), 'tenants')));
    }
  });
});
