/**
 * The single source of truth for what `firestore.rules` allows. Each row is one document path
 * template with, per operation, the roles of the SAME tenant that are allowed; every other
 * principal (another tenant, a token without claims or with forged claims, no sign-in) is denied
 * everywhere. Writable rows also carry a valid document and the forged shapes that must be
 * refused even to an allowed role. `firestore-rules.test.ts` expands this table into cases.
 */
import { serverTime, type DocData } from './firestore-rest';

export const OPS = ['get', 'list', 'create', 'update', 'delete'] as const;
export type Op = (typeof OPS)[number];

export const ROLES = ['admin', 'member', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export type { DocData };

/** What a document shape may depend on. */
export interface ShapeContext {
  /** The tenant of the path under test. */
  tenantId: string;
  /** Some other tenant of the same run. */
  otherTenantId: string;
  /** The document id of the path under test. */
  docId: string;
  /** The uid of the principal writing. */
  uid: string;
}

export interface Shape {
  /** Data for `create` (a whole document) or `update` (a patch merged into the seeded one). */
  data: (c: ShapeContext) => DocData;
  /** Derives the document id from the case's own (e.g. a schema name too long to be valid). */
  docId?: (caseDocId: string) => string;
}

export interface CollectionRow {
  /** Document path; `{t}` is the case's tenant, `{id}` the case's document id. */
  path: string;
  /** Roles of the same tenant allowed each operation; an operation left out allows nobody. */
  allow: Partial<Record<Op, readonly Role[]>>;
  /** The document stored (rules disabled) before get, list, update and delete. */
  seed: (c: ShapeContext) => DocData;
  create: { valid: Shape; forged?: Record<string, Shape> };
  update: { valid: Shape; forged?: Record<string, Shape> };
}

/** A creation time the server wrote earlier, as stored in seeded documents. */
export const SEED_TIME = new Date(Date.UTC(2026, 0, 1));
/** A creation time a client picks itself instead of the commit time. */
export const FORGED_TIME = new Date(Date.UTC(2026, 5, 1));
/** The uid of the admin who created seeded records (not the principal updating them). */
export const SEED_AUTHOR = 'seed-admin';

/** The Identity Platform tenant whose users are the tenant's people (its `firebase.tenant`). */
export const IDENTITY_TENANT = 'people-a-7f3k2';
/** Another customer's Identity Platform tenant, whose admin may set any custom claims there. */
export const OTHER_IDENTITY_TENANT = 'people-b-9q4m1';

/**
 * A tenant profile as the server writes it (tenancy/platform.ts, TenantProfileSchema): the rules
 * read `status` and `identityTenantId` from it.
 */
export function tenantProfile(
  tenantId: string,
  options: { identityTenantId?: string; status?: 'active' | 'offboarded' } = {},
): DocData {
  return {
    id: tenantId,
    name: `Tenant ${tenantId}`,
    status: options.status ?? 'active',
    ...(options.identityTenantId === undefined
      ? {}
      : { identityTenantId: options.identityTenantId }),
    createdAt: SEED_TIME,
  };
}

const ALL: readonly Role[] = ROLES;
const ADMIN_MEMBER: readonly Role[] = ['admin', 'member'];
const ADMIN_AUDITOR: readonly Role[] = ['admin', 'auditor'];
const ADMIN: readonly Role[] = ['admin'];

const shape = (data: (c: ShapeContext) => DocData, docId?: (id: string) => string): Shape =>
  docId === undefined ? { data } : { data, docId };

/** A plausible server-owned record; for read-only rows, any client write is refused anyway. */
const serverRecord = (c: ShapeContext): DocData => ({
  tenantId: c.tenantId,
  status: 'succeeded',
  createdAt: SEED_TIME,
});
const serverOwned = (path: string, allow: Partial<Record<Op, readonly Role[]>>): CollectionRow => ({
  path,
  allow,
  seed: serverRecord,
  create: {
    valid: shape((c) => ({
      tenantId: c.tenantId,
      status: 'succeeded',
      createdBy: c.uid,
      createdAt: serverTime(),
    })),
  },
  update: { valid: shape(() => ({ status: 'tampered' })) },
});

const schemaDoc = (c: ShapeContext): DocData => ({
  name: c.docId,
  description: 'Purchase orders',
  jsonSchema: { type: 'object', properties: { total: { type: 'number' } } },
  tenantId: c.tenantId,
  createdBy: c.uid,
  createdAt: serverTime(),
});
const webhookDoc = (c: ShapeContext): DocData => ({
  url: 'https://hooks.example.com/provenant',
  events: ['extraction.succeeded', 'extraction.failed'],
  tenantId: c.tenantId,
  createdBy: c.uid,
  createdAt: serverTime(),
});
const noticeDoc = (c: ShapeContext): DocData => ({
  email: 'ops@example.com',
  tenantId: c.tenantId,
  createdAt: serverTime(),
});
/** Seeded records are stored as the server would store them: an earlier time, another admin. */
const seeded =
  (make: (c: ShapeContext) => DocData) =>
  (c: ShapeContext): DocData => ({
    ...make({ ...c, uid: SEED_AUTHOR }),
    createdAt: SEED_TIME,
  });

const without = (data: DocData, key: string): DocData =>
  Object.fromEntries(Object.entries(data).filter(([k]) => k !== key));

export const MATRIX: readonly CollectionRow[] = [
  {
    ...serverOwned('tenants/{t}', { get: ALL }),
    seed: (c) => tenantProfile(c.tenantId, { identityTenantId: IDENTITY_TENANT }),
  },
  serverOwned('tenants/{t}/extractions/{id}', { get: ALL, list: ALL }),
  serverOwned('tenants/{t}/documents/{id}', { get: ADMIN_MEMBER, list: ADMIN_MEMBER }),
  serverOwned('tenants/{t}/evidence/{id}', { get: ADMIN_AUDITOR, list: ADMIN_AUDITOR }),
  serverOwned('tenants/{t}/seals/{id}', { get: ADMIN_AUDITOR, list: ADMIN_AUDITOR }),
  serverOwned('tenants/{t}/accessLog/{id}', { get: ADMIN_AUDITOR, list: ADMIN_AUDITOR }),
  serverOwned('tenants/{t}/dataKeys/{id}', {}),
  serverOwned('tenants/{t}/idempotencyKeys/{id}', {}),
  serverOwned('tenants/{t}/webhookDeliveries/{id}', {}),
  serverOwned('tenants/{t}/webhookRegistry/{id}', {}),
  // Break-glass requests and decisions (access/): server-only, like the grant they make.
  serverOwned('tenants/{t}/accessRequests/{id}', {}),
  serverOwned('tenants/{t}/accessDecisions/{id}', {}),
  serverOwned('tenants/{t}/somethingNew/{id}', {}),
  serverOwned('apiKeys/{id}', {}),
  serverOwned('access/{id}', {}),
  serverOwned('access/requests/items/{id}', {}),
  serverOwned('somethingElse/{id}', {}),
  {
    // Issue 9, finding 2: schemas are versioned and immutable, written by the server only
    // (POST /v1/schemas and POST /v1/schemas/{name}/versions check the JSON Schema subset and
    // make every change a new version). A client write, even an admin's with a well-formed
    // document, would edit what earlier extractions' evidence names. Admins and members read.
    path: 'tenants/{t}/schemas/{id}',
    allow: { get: ADMIN_MEMBER, list: ADMIN_MEMBER },
    seed: seeded(schemaDoc),
    create: { valid: shape(schemaDoc) },
    update: {
      valid: shape(() => ({ description: 'Purchase orders v2', jsonSchema: { type: 'object' } })),
      forged: {
        'description only': shape(() => ({ description: 'Purchase orders v2' })),
        'jsonSchema only': shape(() => ({ jsonSchema: { type: 'object' } })),
      },
    },
  },
  // Every version of every schema, and what the model saw (prompts, schema versions) by hash:
  // the server's own records, read through the API (GET /v1/schemas/{name}/versions/{n},
  // /v1/content/...) and exported beside the evidence. No client reads or writes them.
  {
    ...serverOwned('tenants/{t}/schemaVersions/{id}', {}),
    seed: seeded((c) => ({ ...schemaDoc(c), version: 1, sha256: 'a'.repeat(64) })),
    create: { valid: shape((c) => ({ ...schemaDoc(c), version: 1, sha256: 'a'.repeat(64) })) },
    update: { valid: shape(() => ({ jsonSchema: { type: 'object' } })) },
  },
  serverOwned('tenants/{t}/content/{id}', {}),
  {
    // Only the server writes webhooks (issue 10, finding 6): a row a client made has no sealed
    // secret and is not counted against the tenant's limit. Admins may read them.
    path: 'tenants/{t}/webhooks/{id}',
    allow: { get: ADMIN, list: ADMIN },
    seed: seeded(webhookDoc),
    create: { valid: shape(webhookDoc) },
    update: { valid: shape(() => ({ url: 'https://hooks.example.com/elsewhere' })) },
  },
  {
    path: 'tenants/{t}/noticeSubscriptions/{id}',
    allow: { get: ADMIN, list: ADMIN, create: ADMIN, delete: ADMIN },
    seed: seeded(noticeDoc),
    create: {
      valid: shape(noticeDoc),
      forged: {
        'extra key': shape((c) => ({ ...noticeDoc(c), createdBy: c.uid })),
        'missing key': shape((c) => without(noticeDoc(c), 'createdAt')),
        'wrong type': shape((c) => ({ ...noticeDoc(c), email: ['ops@example.com'] })),
        'tenantId of another tenant': shape((c) => ({
          ...noticeDoc(c),
          tenantId: c.otherTenantId,
        })),
        'createdAt not request.time': shape((c) => ({ ...noticeDoc(c), createdAt: FORGED_TIME })),
        'not an email': shape((c) => ({ ...noticeDoc(c), email: 'ops at example.com' })),
        'email with a space': shape((c) => ({ ...noticeDoc(c), email: 'ops team@example.com' })),
      },
    },
    update: { valid: shape(() => ({ email: 'other@example.com' })) },
  },
];

/** Who asks. Only `sameTenant` principals with a role can ever be allowed. */
export interface Principal {
  label: string;
  uid: string;
  /** The role that the table's `allow` lists are checked against; absent: never allowed. */
  role?: Role;
  /** Token claims; `null` means not signed in. */
  claims: (tenantId: string, otherTenantId: string) => Record<string, unknown> | null;
}

/** Signed in through the tenant's own Identity Platform tenant, as its people are. */
const ownIdentity = { firebase: { tenant: IDENTITY_TENANT, sign_in_provider: 'password' } };

export const PRINCIPALS: readonly Principal[] = [
  ...ROLES.map((role): Principal => ({
    label: `${role} of the tenant`,
    uid: `${role}-uid`,
    role,
    claims: (t) => ({ tenant_id: t, role, ...ownIdentity }),
  })),
  // Issue 10, finding 4: the API refuses a token whose Identity Platform tenant is not the
  // tenant's (tenancy/identity.ts); claims alone must not open the tenant's data either.
  {
    label: 'admin of the tenant by claims, signed in through another identity tenant',
    uid: 'foreign-idp-admin-uid',
    claims: (t) => ({
      tenant_id: t,
      role: 'admin',
      firebase: { tenant: OTHER_IDENTITY_TENANT, sign_in_provider: 'password' },
    }),
  },
  {
    label: "admin of the tenant by claims, signed in to the project's own user pool",
    uid: 'project-pool-admin-uid',
    claims: (t) => ({ tenant_id: t, role: 'admin' }),
  },
  {
    label: 'admin of another tenant',
    uid: 'other-admin-uid',
    claims: (_t, other) => ({ tenant_id: other, role: 'admin', ...ownIdentity }),
  },
  // Issue 13: the platform's break-glass people (project pool, `access_roles` claims) reach a
  // tenant's content only through the ops function under a grant, never through the rules.
  {
    label: 'break-glass engineer (no grant)',
    uid: 'engineer-uid',
    claims: () => ({ access_roles: ['engineer'] }),
  },
  {
    label: 'break-glass engineer and approver',
    uid: 'engineer-approver-uid',
    claims: () => ({ access_roles: ['engineer', 'approver'] }),
  },
  {
    label: 'platform operator',
    uid: 'operator-uid',
    claims: () => ({ platform_role: 'operator' }),
  },
  { label: 'signed in without claims', uid: 'no-claims-uid', claims: () => ({}) },
  {
    label: 'tenant_id but no role',
    uid: 'no-role-uid',
    claims: (t) => ({ tenant_id: t, ...ownIdentity }),
  },
  {
    label: 'role admin with a numeric tenant_id',
    uid: 'numeric-tenant-uid',
    claims: () => ({ tenant_id: 42, role: 'admin', ...ownIdentity }),
  },
  {
    label: 'unknown role "owner"',
    uid: 'owner-uid',
    claims: (t) => ({ tenant_id: t, role: 'owner', ...ownIdentity }),
  },
  { label: 'unauthenticated', uid: '', claims: () => null },
];

/** Whether the table allows `principal` to do `op` on `row` with a valid shape. */
export function allows(row: CollectionRow, op: Op, principal: Principal): boolean {
  return principal.role !== undefined && (row.allow[op] ?? []).includes(principal.role);
}
