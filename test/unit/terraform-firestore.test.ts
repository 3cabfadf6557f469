/**
 * Every Firestore query in functions/src has the index it needs in terraform/modules/firestore,
 * and every index there serves a query. The queries are read from the code with the TypeScript
 * compiler: `db.list('<collection>', { where, orderBy })` on a TenantDb (a `where` built by
 * `push`es is read as required filters plus optional ones, every combination checked) and
 * `.collection('<name>').where(...).orderBy(...)` chains on the platform's own collections. A
 * query the scanner cannot read fails the test, so a new query cannot slip past it.
 *
 * Firestore's rules (https://firebase.google.com/docs/firestore/query-data/index-overview):
 * single-field indexes are automatic (either direction); equality-only filters are served by
 * merging them; anything else ordering or ranging over a second field needs a composite index
 * whose fields are the equality fields, then the order fields in their directions (an inequality
 * field not ordered on is ordered ascending after them). `__name__` is implicit.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { EXPIRY_MARGIN_DAYS, expiryTimestamp } from '../../functions/src/ledger/evidence-writer';
import { Databases, TENANT_COLLECTIONS } from '../../functions/src/tenancy/firestore';
import { PlatformDb } from '../../functions/src/tenancy/platform';
import { allResources, blocks, loadTerraform, moduleAt, ROOT, str } from './terraform-config';

const SRC = path.join(ROOT, 'functions', 'src');
/** TenantDb.list itself applies whatever it is given: its callers are the queries. */
const GENERIC_QUERY_BUILDER = 'tenancy/firestore.ts';
const EQUALITY = new Set(['==', 'in', 'array-contains', 'array-contains-any']);

interface Filter {
  field: string;
  op: string;
}
interface QueryShape {
  where: string;
  collection: string;
  required: Filter[];
  optional: Filter[];
  orderBy: { field: string; direction: 'asc' | 'desc' }[];
}
interface IndexField {
  field: string;
  order: 'ASCENDING' | 'DESCENDING';
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

function literal(node: ts.Node | undefined): string | undefined {
  return node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))
    ? node.text
    : undefined;
}

class Unreadable extends Error {}

/** `['field', 'op', value]` → a filter; `['field', 'asc']` → an order. */
function tuple(node: ts.Expression, where: string): [string, string] {
  if (!ts.isArrayLiteralExpression(node)) throw new Unreadable(`${where}: not a tuple literal`);
  const [a, b] = node.elements;
  const field = literal(a);
  const second = literal(b);
  if (field === undefined || second === undefined)
    throw new Unreadable(`${where}: field and operator must be string literals`);
  return [field, second];
}

function enclosingFunction(node: ts.Node): ts.Node {
  let current: ts.Node = node;
  while (
    !ts.isFunctionDeclaration(current) &&
    !ts.isMethodDeclaration(current) &&
    !ts.isArrowFunction(current) &&
    !ts.isFunctionExpression(current) &&
    !ts.isSourceFile(current)
  ) {
    current = current.parent;
  }
  return current;
}

/** A `where` given as an identifier: its initializer's tuples are required, `push`ed ones optional. */
function resolveWhere(
  id: ts.Identifier,
  where: string,
): { required: Filter[]; optional: Filter[] } {
  const scope = enclosingFunction(id);
  const required: Filter[] = [];
  const optional: Filter[] = [];
  const found = { declared: false };
  const visit = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.name.text === id.text
    ) {
      found.declared = true;
      const init = node.initializer;
      if (!init || !ts.isArrayLiteralExpression(init))
        throw new Unreadable(`${where}: ${id.text} is not initialised with an array literal`);
      for (const el of init.elements) {
        const [field, op] = tuple(el, where);
        required.push({ field, op });
      }
    }
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ts.isIdentifier(node.expression.expression) &&
      node.expression.expression.text === id.text
    ) {
      if (node.expression.name.text !== 'push')
        throw new Unreadable(`${where}: ${id.text}.${node.expression.name.text}() is not readable`);
      for (const arg of node.arguments) {
        const [field, op] = tuple(arg, where);
        optional.push({ field, op });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(scope);
  if (!found.declared)
    throw new Unreadable(`${where}: ${id.text} is not declared in the same function`);
  return { required, optional };
}

function listQuery(call: ts.CallExpression, collection: string, where: string): QueryShape {
  const shape: QueryShape = { where, collection, required: [], optional: [], orderBy: [] };
  const options = call.arguments[1];
  if (options === undefined) return shape;
  if (!ts.isObjectLiteralExpression(options))
    throw new Unreadable(`${where}: options not a literal`);
  for (const prop of options.properties) {
    if (ts.isSpreadAssignment(prop)) continue; // `...(cursor ? { startAfter } : {})`: paging only
    if (!ts.isPropertyAssignment(prop) && !ts.isShorthandPropertyAssignment(prop))
      throw new Unreadable(`${where}: unreadable option`);
    const name = prop.name.getText();
    const value = ts.isPropertyAssignment(prop) ? prop.initializer : prop.name;
    if (name === 'where') {
      if (ts.isArrayLiteralExpression(value)) {
        for (const el of value.elements) {
          const [field, op] = tuple(el, where);
          shape.required.push({ field, op });
        }
      } else if (ts.isIdentifier(value)) {
        const resolved = resolveWhere(value, where);
        shape.required.push(...resolved.required);
        shape.optional.push(...resolved.optional);
      } else throw new Unreadable(`${where}: where is neither a literal nor a local array`);
    } else if (name === 'orderBy') {
      if (!ts.isArrayLiteralExpression(value))
        throw new Unreadable(`${where}: orderBy not a literal`);
      for (const el of value.elements) {
        const [field, direction] = tuple(el, where);
        if (direction !== 'asc' && direction !== 'desc')
          throw new Unreadable(`${where}: direction ${direction}`);
        shape.orderBy.push({ field, direction });
      }
    }
  }
  return shape;
}

/** `.collection('x').where('f', '==', v).orderBy('g')…` → one query on x. */
function chainQuery(outer: ts.CallExpression, where: string): QueryShape {
  const shape: QueryShape = { where, collection: '', required: [], optional: [], orderBy: [] };
  let node: ts.Expression = outer;
  while (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
    const method = node.expression.name.text;
    const [first, second] = node.arguments;
    if (method === 'where') {
      const field = literal(first);
      const op = literal(second);
      if (field === undefined || op === undefined)
        throw new Unreadable(`${where}: where() arguments must be literals`);
      shape.required.unshift({ field, op });
    } else if (method === 'orderBy') {
      const field = literal(first);
      const direction = second === undefined ? 'asc' : literal(second);
      if (field === undefined || (direction !== 'asc' && direction !== 'desc'))
        throw new Unreadable(`${where}: orderBy() arguments must be literals`);
      shape.orderBy.unshift({ field, direction });
    } else if (method === 'collection') {
      const name = literal(first);
      if (name === undefined) throw new Unreadable(`${where}: collection() must be a literal`);
      shape.collection = name;
      return shape;
    }
    node = node.expression.expression;
  }
  throw new Unreadable(`${where}: no .collection('name') at the root of the query`);
}

function scanQueries(): { queries: QueryShape[]; unreadable: string[] } {
  const queries: QueryShape[] = [];
  const unreadable: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const rel = path.relative(SRC, file);
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2023, true);
    const seenChains = new Set<ts.Node>();
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
        const method = node.expression.name.text;
        const where = `${rel}:${String(sf.getLineAndCharacterOfPosition(node.getStart()).line + 1)}`;
        try {
          const collection = literal(node.arguments[0]);
          if (
            method === 'list' &&
            collection !== undefined &&
            (TENANT_COLLECTIONS as readonly string[]).includes(collection)
          ) {
            queries.push(listQuery(node, collection, where));
          } else if (
            (method === 'where' || method === 'orderBy') &&
            rel !== GENERIC_QUERY_BUILDER
          ) {
            // The outermost where/orderBy of a chain stands for the whole chain.
            let outer: ts.Node = node;
            while (
              ts.isPropertyAccessExpression(outer.parent) &&
              ts.isCallExpression(outer.parent.parent)
            ) {
              outer = outer.parent.parent;
            }
            if (!seenChains.has(outer)) {
              seenChains.add(outer);
              let innermost: ts.Expression = outer as ts.Expression;
              while (
                ts.isCallExpression(innermost) &&
                ts.isPropertyAccessExpression(innermost.expression) &&
                !['where', 'orderBy', 'collection'].includes(innermost.expression.name.text)
              ) {
                innermost = innermost.expression.expression;
              }
              queries.push(chainQuery(innermost as ts.CallExpression, where));
            }
          }
        } catch (err) {
          if (err instanceof Unreadable) unreadable.push(err.message);
          else throw err;
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { queries, unreadable };
}

/** Each combination of the optional filters, as a concrete query. */
function concrete(shape: QueryShape): { filters: Filter[]; shape: QueryShape }[] {
  const out: { filters: Filter[]; shape: QueryShape }[] = [];
  const n = shape.optional.length;
  for (let mask = 0; mask < 1 << n; mask++) {
    const chosen = shape.optional.filter((_, i) => (mask & (1 << i)) !== 0);
    out.push({ filters: [...shape.required, ...chosen], shape });
  }
  return out;
}

interface NeededIndex {
  fields: IndexField[];
  /** How many leading fields are equality fields (their order in the index is free). */
  equalityCount: number;
}

/** The composite index a query needs, or undefined when automatic indexes serve it. */
function neededIndex(filters: Filter[], shape: QueryShape): NeededIndex | undefined {
  const equality = [...new Set(filters.filter((f) => EQUALITY.has(f.op)).map((f) => f.field))];
  const ordered: IndexField[] = shape.orderBy
    .filter((o) => o.field !== '__name__')
    .map((o) => ({ field: o.field, order: o.direction === 'asc' ? 'ASCENDING' : 'DESCENDING' }));
  for (const f of filters.filter((f) => !EQUALITY.has(f.op))) {
    if (!ordered.some((o) => o.field === f.field))
      ordered.push({ field: f.field, order: 'ASCENDING' });
  }
  if (ordered.length === 0) return undefined; // equality only: index merging
  const prefix = equality
    .filter((f) => !ordered.some((o) => o.field === f))
    .map((field): IndexField => ({ field, order: 'ASCENDING' }));
  const fields = [...prefix, ...ordered];
  return fields.length > 1 ? { fields, equalityCount: prefix.length } : undefined;
}

interface DeclaredIndex {
  name: string;
  collection: string;
  fields: IndexField[];
}

/** An index serves a query when its equality prefix is the query's equality set (any order)
 * and the rest matches the order fields and directions exactly. */
function serves(index: DeclaredIndex, collection: string, need: NeededIndex): boolean {
  const { fields: needed, equalityCount } = need;
  if (index.collection !== collection || index.fields.length !== needed.length) return false;
  const prefix = new Set(needed.slice(0, equalityCount).map((f) => f.field));
  const indexPrefix = new Set(index.fields.slice(0, equalityCount).map((f) => f.field));
  if ([...prefix].some((f) => !indexPrefix.has(f))) return false;
  return needed
    .slice(equalityCount)
    .every(
      (f, i) =>
        index.fields[equalityCount + i]?.field === f.field &&
        index.fields[equalityCount + i]?.order === f.order,
    );
}

let declared: DeclaredIndex[];
const scanned = scanQueries();

beforeAll(async () => {
  const mods = await loadTerraform();
  const firestore = moduleAt(mods, 'modules/firestore');
  declared = allResources([firestore], 'google_firestore_index').map((r) => ({
    name: r.name,
    collection: str(r.body.collection) ?? '',
    fields: blocks(r.body.fields).map((f) => ({
      field: str(f.field_path) ?? '',
      order: str(f.order) === 'DESCENDING' ? 'DESCENDING' : 'ASCENDING',
    })),
  }));
});

describe('Firestore composite indexes against the code', () => {
  it('reads every query in functions/src', () => {
    expect(scanned.unreadable).toEqual([]);
    // The scanner finds the queries it is known to need to; a silent scanner proves nothing.
    const places = scanned.queries.map((q) => `${q.collection}@${q.where.split(':')[0] ?? ''}`);
    expect(places).toEqual(
      expect.arrayContaining([
        'extractions@extraction/listing.ts',
        'evidence@ledger/sealer.ts',
        'seals@ledger/sealer.ts',
        'evidence@cli/audit/query.ts',
        'webhookDeliveries@webhooks/notifier.ts',
        'tenants@tenancy/platform.ts',
        'apiKeys@tenancy/platform.ts',
      ]),
    );
    const listing = scanned.queries.find((q) => q.where.startsWith('extraction/listing.ts'));
    expect(listing?.optional.map((f) => `${f.field} ${f.op}`)).toEqual([
      'status ==',
      'submittedAt >',
    ]);
  });

  it('has a composite index for every query that needs one', () => {
    const missing: string[] = [];
    for (const shape of scanned.queries) {
      for (const { filters } of concrete(shape)) {
        const needed = neededIndex(filters, shape);
        if (!needed) continue;
        if (!declared.some((index) => serves(index, shape.collection, needed))) {
          missing.push(
            `${shape.where} ${shape.collection}: ${needed.fields.map((f) => `${f.field} ${f.order}`).join(', ')}`,
          );
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('declares no index that no query uses', () => {
    const used = new Set<string>();
    for (const shape of scanned.queries) {
      for (const { filters } of concrete(shape)) {
        const needed = neededIndex(filters, shape);
        if (!needed) continue;
        for (const index of declared) {
          if (serves(index, shape.collection, needed)) used.add(index.name);
        }
      }
    }
    expect(declared.map((i) => i.name).filter((n) => !used.has(n))).toEqual([]);
    expect(declared.length).toBeGreaterThan(0);
  });

  it('would catch a query whose index is missing', () => {
    const shape: QueryShape = {
      where: 'example',
      collection: 'extractions',
      required: [{ field: 'schema', op: '==' }],
      optional: [],
      orderBy: [{ field: 'submittedAt', direction: 'desc' }],
    };
    const needed = neededIndex(shape.required, shape);
    expect(needed).toEqual({
      fields: [
        { field: 'schema', order: 'ASCENDING' },
        { field: 'submittedAt', order: 'DESCENDING' },
      ],
      equalityCount: 1,
    });
    expect(declared.some((i) => needed && serves(i, 'extractions', needed))).toBe(false);
    // Equality alone is served by merged single-field indexes.
    expect(
      neededIndex(
        [
          { field: 'a', op: '==' },
          { field: 'b', op: '==' },
        ],
        { ...shape, orderBy: [] },
      ),
    ).toBeUndefined();
  });
});

describe('Firestore TTL policies against the code', () => {
  /** Properties named like an expiry in object literals the code builds, with what they hold. */
  function expiryFields(): { field: string; timestamp: boolean; where: string }[] {
    const found: { field: string; timestamp: boolean; where: string }[] = [];
    for (const file of sourceFiles(SRC)) {
      const rel = path.relative(SRC, file);
      const sf = ts.createSourceFile(
        file,
        readFileSync(file, 'utf8'),
        ts.ScriptTarget.ES2023,
        true,
      );
      const visit = (node: ts.Node): void => {
        if (
          (ts.isPropertyAssignment(node) || ts.isShorthandPropertyAssignment(node)) &&
          /^(expiresAt|expireAt|expiry|ttl|deleteAt|purgeAt)$/.test(node.name.getText())
        ) {
          const value = ts.isPropertyAssignment(node)
            ? node.initializer.getText()
            : node.name.getText();
          found.push({
            field: node.name.getText(),
            // Only a Firestore Timestamp (or a Date, which the SDK stores as one) is TTL-eligible.
            timestamp: /Timestamp|isoToTimestamp|new Date\(/.test(value),
            where: `${rel}:${String(sf.getLineAndCharacterOfPosition(node.getStart()).line + 1)}`,
          });
        }
        ts.forEachChild(node, visit);
      };
      visit(sf);
    }
    return found;
  }

  it('has a TTL policy for exactly the expiry fields the code writes as timestamps', async () => {
    const mods = await loadTerraform();
    const ttl = moduleAt(mods, 'modules/firestore').locals.ttl_fields as Record<string, string>;
    const fields = expiryFields();
    // The scan is live: it sees the API keys' expiry, an ISO string TTL would ignore.
    expect(
      fields.some(
        (f) => f.field === 'expiresAt' && f.where.startsWith('tenancy/api-key-policy.ts'),
      ),
    ).toBe(true);
    const eligible = new Set(fields.filter((f) => f.timestamp).map((f) => f.field));
    expect(new Set(Object.values(ttl))).toEqual(eligible);
  });

  it('gives every TTL policy a database-wide field resource', async () => {
    const mods = await loadTerraform();
    const field = allResources([moduleAt(mods, 'modules/firestore')], 'google_firestore_field');
    const ttl = field.filter((f) => f.body.ttl_config !== undefined);
    expect(ttl.map((f) => [f.body.for_each, f.body.ttl_config])).toEqual([
      ['${local.ttl_fields}', [{}]],
    ]);
  });

  it('puts a TTL policy on the expiry of evidence records and seals, where the code writes it', async () => {
    const mods = await loadTerraform();
    const ttl = moduleAt(mods, 'modules/firestore').locals.ttl_fields as Record<string, string>;
    const writers = expiryFields()
      .filter((f) => f.timestamp)
      .map((f) => `${f.field}@${f.where.split(':')[0] ?? ''}`);
    // The evidence writer stamps every record; the sealer stamps every seal.
    expect(writers).toEqual(
      expect.arrayContaining(['expireAt@ledger/evidence-writer.ts', 'expireAt@ledger/sealer.ts']),
    );
    expect(ttl).toMatchObject({ evidence: 'expireAt', seals: 'expireAt' });
    expect(
      Object.keys(ttl).every((c) => (TENANT_COLLECTIONS as readonly string[]).includes(c)),
    ).toBe(true);
  });

  it('exempts every TTL field from indexing, in its own field resource, and no query reads it', async () => {
    const mods = await loadTerraform();
    const firestore = moduleAt(mods, 'modules/firestore');
    const [resource] = allResources([firestore], 'google_firestore_field').filter(
      (f) => f.body.ttl_config !== undefined,
    );
    // One field has one configuration: the TTL resource also holds its (empty) index config,
    // and no other field resource names a TTL field.
    expect(resource?.body.index_config).toEqual([{}]);
    const ttl = Object.entries(firestore.locals.ttl_fields as Record<string, string>);
    const unindexed = Object.values(
      firestore.locals.unindexed_fields as Record<string, { collection: string; field: string }>,
    );
    for (const [collection, field] of ttl) {
      expect(unindexed).not.toContainEqual({ collection, field });
      const readers = scanned.queries.filter(
        (q) =>
          q.collection === collection &&
          [...q.required, ...q.optional, ...q.orderBy].some((f) => f.field === field),
      );
      expect(readers.map((q) => q.where)).toEqual([]);
    }
  });

  it('lets a record expire no earlier than the Locked retention of its export', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const platformDays = 2557;
    // The tenant's handle carries the longer of the platform's and the tenant's retention …
    const platform = new PlatformDb(new Databases('demo-ttl'), platformDays);
    expect(platform.tenantDb({ id: 't1' }).evidenceRetentionDays).toBe(platformDays);
    expect(platform.tenantDb({ id: 't1', retentionDays: 3650 }).evidenceRetentionDays).toBe(3650);
    expect(platform.tenantDb({ id: 't1', retentionDays: 30 }).evidenceRetentionDays).toBe(
      platformDays,
    );
    // … and the expiry lies past it by the margin, which covers the wait until the seal, whose
    // export is then locked for the same retention from the seal time.
    for (const days of [platformDays, 3650]) {
      const expireAt = expiryTimestamp(days, now).toMillis();
      expect(expireAt - now).toBe((days + EXPIRY_MARGIN_DAYS) * 86_400_000);
    }
    expect(EXPIRY_MARGIN_DAYS).toBeGreaterThanOrEqual(7);
    // The bucket's own retention policy is the platform's evidence retention, from one variable,
    // so no record's expiry (at least the platform retention) comes before it.
    const mods = await loadTerraform();
    const platformModule = moduleAt(mods, 'modules/platform');
    const storageCall = platformModule.calls.find((c) => c.target === 'modules/storage');
    const functionsCall = platformModule.calls.find((c) => c.target === 'modules/functions');
    expect(storageCall?.body.audit_retention_days).toBe('${var.evidence_retention_days}');
    expect(functionsCall?.body.evidence_retention_days).toBe('${var.evidence_retention_days}');
    const functionsModule = moduleAt(mods, 'modules/functions');
    expect(
      (functionsModule.locals.environment as Record<string, unknown> | undefined)
        ?.EVIDENCE_RETENTION_DAYS,
    ).toBe('${tostring(var.evidence_retention_days)}');
  });
});

describe('Firestore single-field index exemptions against the code', () => {
  type Exempt = { collection: string; field: string };
  async function exemptions(): Promise<Exempt[]> {
    const mods = await loadTerraform();
    const firestore = moduleAt(mods, 'modules/firestore');
    const resources = allResources([firestore], 'google_firestore_field').filter(
      (f) => f.body.index_config !== undefined,
    );
    // One resource over each map, with an empty index_config: that is what removes the
    // indexes. TTL fields are exempted by their TTL resource (one field, one configuration).
    expect(resources.map((f) => [f.body.for_each, f.body.index_config])).toEqual([
      ['${local.unindexed_fields}', [{}]],
      ['${local.ttl_fields}', [{}]],
    ]);
    return [
      ...Object.values(firestore.locals.unindexed_fields as Record<string, Exempt>),
      ...Object.entries(firestore.locals.ttl_fields as Record<string, string>).map(
        ([collection, field]) => ({ collection, field }),
      ),
    ];
  }

  /** The exempted fields some query filters or orders on: each would then need its index. */
  function queried(exempt: Exempt[], queries: QueryShape[]): string[] {
    return exempt
      .filter((e) =>
        queries.some(
          (q) =>
            q.collection === e.collection &&
            [...q.required, ...q.optional, ...q.orderBy].some((f) => f.field === e.field),
        ),
      )
      .map((e) => `${e.collection}.${e.field}`);
  }

  it('exempts only fields no query reads', async () => {
    const exempt = await exemptions();
    expect(exempt.length).toBeGreaterThan(0);
    expect(queried(exempt, scanned.queries)).toEqual([]);
  });

  it('exempts fields of tenant collections the code writes', async () => {
    for (const e of await exemptions()) {
      expect(TENANT_COLLECTIONS as readonly string[]).toContain(e.collection);
    }
  });

  it('would catch a query on an exempted field', async () => {
    const exempt = await exemptions();
    const query: QueryShape = {
      where: 'example',
      collection: 'extractions',
      required: [],
      optional: [],
      orderBy: [{ field: 'updatedAt', direction: 'desc' }],
    };
    expect(queried(exempt, [query])).toEqual(['extractions.updatedAt']);
  });
});
