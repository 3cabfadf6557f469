/**
 * The only module that touches the Firestore client for tenant data (an eslint rule enforces
 * it). Server code gets a `TenantDb` for one verified tenant; every path it can build lies
 * under `tenants/{tenantId}`, and a runtime guard rejects any other before a request is sent.
 * There is no method that takes a raw path, so a forgotten tenant filter cannot be written.
 */
import {
  FieldValue,
  Firestore,
  Timestamp,
  type DocumentReference,
  type Query,
  type Transaction,
  type WhereFilterOp,
} from '@google-cloud/firestore';
import { z } from 'zod';
import { InternalError } from '../errors';

export const TENANT_COLLECTIONS = [
  'documents',
  'extractions',
  'evidence',
  'seals',
  'sealIntents',
  'dataKeys',
  'idempotencyKeys',
  'schemas',
  // Every version of every custom schema (immutable), and what the model saw (system prompts,
  // schema versions) by the SHA-256 of its bytes.
  'schemaVersions',
  'content',
  'webhooks',
  'webhookDeliveries',
  // Break-glass access (access/): create-only requests and the decisions on them.
  'accessRequests',
  'accessDecisions',
  'witnesses',
  // Sub-processor notices (webhooks/subprocessor-notices.ts): the addresses that receive them
  // (server-written, confirmed by a mailed link) and the tenant's objections, one per notice.
  'subprocessorSubscriptions',
  'subprocessorObjections',
] as const;
export type TenantCollection = (typeof TENANT_COLLECTIONS)[number];

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function isValidId(id: string): boolean {
  return ID.test(id);
}

/**
 * A document id as every boundary accepts it (HTTP paths, Pub/Sub messages): the same rule
 * `TenantDb` enforces, so a message naming `a/b` is refused where it is parsed instead of
 * throwing deep in a handler and being redelivered forever.
 */
export const DocId = z.string().regex(ID, 'letters, digits, _ or -, at most 128');

export class TenantPathError extends InternalError {
  constructor(path: string, tenantId: string) {
    super('tenant_path_violation', `path ${path} is outside tenant ${tenantId}`);
  }
}

/** A value that becomes the commit time of the write that carries it. */
export const COMMIT_TIME = FieldValue.serverTimestamp();

export type DocData = Record<string, unknown>;

/**
 * A Timestamp for range queries on commit times. Records read back carry millisecond ISO
 * strings (Date has no more precision) while commit times have microseconds: range queries
 * must therefore bound on whole milliseconds (see the sealer's window).
 */
export function isoToTimestamp(iso: string): Timestamp {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(iso);
  if (!match?.[1]) throw new TypeError(`not a UTC ISO timestamp: ${iso}`);
  const seconds = Math.floor(Date.parse(`${match[1]}Z`) / 1000);
  const nanos = Number((match[2] ?? '').padEnd(9, '0'));
  return new Timestamp(seconds, nanos);
}

/**
 * A Firestore Timestamp at `ms` since the epoch: what a TTL policy needs in its field (a Date
 * or an ISO string would not do; https://firebase.google.com/docs/firestore/ttl).
 */
export function timestampFromMillis(ms: number): Timestamp {
  return Timestamp.fromMillis(ms);
}

/** Firestore Timestamps come back as ISO strings, so domain code deals in JSON only. */
function fromFirestore(value: unknown): unknown {
  if (value instanceof Timestamp) return value.toDate().toISOString();
  if (Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(fromFirestore);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromFirestore(v)]));
  }
  return value;
}

export interface ListOptions {
  where?: [field: string, op: WhereFilterOp, value: unknown][];
  orderBy?: [field: string, direction: 'asc' | 'desc'][];
  limit?: number;
  startAfter?: unknown[];
  /**
   * Starts after this document of the same collection, in the query's order: the exact position
   * (commit times included to the microsecond, which ISO strings read back cannot carry).
   */
  startAfterId?: string;
}

/** Creates Firestore clients per database: named databases host dedicated tenants. */
export class Databases {
  private readonly clients = new Map<string, Firestore>();
  constructor(private readonly projectId: string) {}

  get(databaseId = '(default)'): Firestore {
    let client = this.clients.get(databaseId);
    if (!client) {
      client = new Firestore({
        projectId: this.projectId,
        databaseId,
        ignoreUndefinedProperties: true,
      });
      this.clients.set(databaseId, client);
    }
    return client;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.terminate()));
    this.clients.clear();
  }
}

/**
 * Document writes made through this module in this process since it started (a transaction's
 * creates, updates and deletes each count, as Firestore bills them). The `stage_timings` event
 * reports the difference across one request, which is exact when the process serves one at a
 * time; `npm run bench -- e2e` reads it as firestore_writes_per_extraction.
 */
let documentWrites = 0;
export function documentWritesSoFar(): number {
  return documentWrites;
}

export class TenantTransaction {
  constructor(
    private readonly tenant: TenantDb,
    private readonly tx: Transaction,
  ) {}

  get tenantId(): string {
    return this.tenant.tenantId;
  }

  /** The tenant's evidence retention in days, when its handle was opened from its profile. */
  get evidenceRetentionDays(): number | undefined {
    return this.tenant.evidenceRetentionDays;
  }

  async get(collection: TenantCollection, id: string): Promise<DocData | undefined> {
    const snap = await this.tx.get(this.tenant.ref(collection, id));
    return snap.exists ? (fromFirestore(snap.data()) as DocData) : undefined;
  }

  /**
   * Several documents in one read (one BatchGetDocuments round trip, where reads awaited
   * together would each wait for the transaction's id in turn), in the order asked.
   */
  async getAll(
    refs: readonly (readonly [TenantCollection, string])[],
  ): Promise<(DocData | undefined)[]> {
    if (refs.length === 0) return [];
    const snaps = await this.tx.getAll(
      ...refs.map(([collection, id]) => this.tenant.ref(collection, id)),
    );
    return snaps.map((snap) => (snap.exists ? (fromFirestore(snap.data()) as DocData) : undefined));
  }

  /** Fails the whole commit when the document exists: the primitive of create-only records. */
  create(collection: TenantCollection, id: string, data: DocData): this {
    this.tx.create(this.tenant.ref(collection, id), data);
    documentWrites += 1;
    return this;
  }

  update(collection: TenantCollection, id: string, data: DocData): this {
    this.tx.update(this.tenant.ref(collection, id), data);
    documentWrites += 1;
    return this;
  }

  delete(collection: TenantCollection, id: string): this {
    this.tx.delete(this.tenant.ref(collection, id));
    documentWrites += 1;
    return this;
  }
}

/** Firestore access for exactly one tenant. */
export class TenantDb {
  private readonly root: string;

  constructor(
    private readonly db: Firestore,
    readonly tenantId: string,
    /**
     * How long this tenant's evidence is kept (the platform minimum or the tenant's longer
     * choice), so every evidence record written through this handle carries its expiry
     * (ledger/evidence-writer.ts). Undefined: records are written without one and never expire.
     */
    readonly evidenceRetentionDays?: number,
  ) {
    if (!isValidId(tenantId)) throw new TenantPathError(`tenants/${tenantId}`, tenantId);
    this.root = `tenants/${tenantId}`;
  }

  /** @internal Builds and checks a reference; exported to the transaction wrapper only. */
  ref(collection: TenantCollection, id: string): DocumentReference {
    if (!TENANT_COLLECTIONS.includes(collection) || !isValidId(id)) {
      throw new TenantPathError(`${this.root}/${collection}/${id}`, this.tenantId);
    }
    const ref = this.db.doc(`${this.root}/${collection}/${id}`);
    this.assertInside(ref.path);
    return ref;
  }

  private assertInside(path: string): void {
    const parts = path.split('/');
    if (parts.length !== 4 || parts[0] !== 'tenants' || parts[1] !== this.tenantId) {
      throw new TenantPathError(path, this.tenantId);
    }
  }

  async get(collection: TenantCollection, id: string): Promise<DocData | undefined> {
    const snap = await this.ref(collection, id).get();
    return snap.exists ? (fromFirestore(snap.data()) as DocData) : undefined;
  }

  async create(collection: TenantCollection, id: string, data: DocData): Promise<void> {
    documentWrites += 1;
    await this.ref(collection, id).create(data);
  }

  /**
   * Create-only, where a second attempt is expected (a resumed job, a concurrent duplicate):
   * false when the document already existed, and it is left as it was.
   */
  async createIfAbsent(collection: TenantCollection, id: string, data: DocData): Promise<boolean> {
    try {
      await this.create(collection, id, data);
      return true;
    } catch (err) {
      if (isAlreadyExists(err)) return false;
      throw err;
    }
  }

  async update(collection: TenantCollection, id: string, data: DocData): Promise<void> {
    documentWrites += 1;
    await this.ref(collection, id).update(data);
  }

  async delete(collection: TenantCollection, id: string): Promise<void> {
    documentWrites += 1;
    await this.ref(collection, id).delete();
  }

  async list(
    collection: TenantCollection,
    options: ListOptions = {},
  ): Promise<{ id: string; data: DocData }[]> {
    const parent = this.db.collection(`${this.root}/${collection}`);
    this.assertInside(`${parent.path}/probe`);
    let query: Query = parent;
    for (const [field, op, value] of options.where ?? []) query = query.where(field, op, value);
    for (const [field, direction] of options.orderBy ?? []) query = query.orderBy(field, direction);
    if (options.startAfter) query = query.startAfter(...options.startAfter);
    if (options.startAfterId !== undefined) {
      const cursor = await this.ref(collection, options.startAfterId).get();
      // A cursor document that is gone (or never was) starts nowhere: an empty page.
      if (!cursor.exists) return [];
      query = query.startAfter(cursor);
    }
    if (options.limit !== undefined) query = query.limit(options.limit);
    const snap = await query.get();
    return snap.docs.map((doc) => {
      this.assertInside(doc.ref.path);
      return { id: doc.id, data: fromFirestore(doc.data()) as DocData };
    });
  }

  runTransaction<T>(fn: (tx: TenantTransaction) => Promise<T>): Promise<T> {
    return this.db.runTransaction((tx) => fn(new TenantTransaction(this, tx)));
  }
}

/** Firestore's ALREADY_EXISTS, what a create-only write answers on a second attempt. */
export function isAlreadyExists(err: unknown): boolean {
  return (err as { code?: unknown }).code === 6;
}
