/**
 * Issue 18, docs/api.md and the README's table of functions against the code they describe:
 * every route and its scope, the roles, the webhook events and signature (the page's Node
 * snippet run on signatures made by webhooks/signature.ts), the result shapes (the real
 * post-processing steps), the evidence ids, the audit bucket layout and the functions the stack
 * runs. Each check fails when the page and the code disagree, naming what differs.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../functions/src/config';
import { evidenceIdFor, EVENT_KINDS } from '../../functions/src/evidence/record';
import type { Seal } from '../../functions/src/evidence/seal';
import { exportPaths } from '../../functions/src/evidence/seal';
import { customExtractionSchema } from '../../functions/src/extraction/schemas/custom-store';
import { BUILT_IN_SCHEMAS } from '../../functions/src/extraction/schemas/built-in';
import { runSteps } from '../../functions/src/extraction/postprocess/registry';
import { newExtractionId } from '../../functions/src/extraction/submit';
import { createApiRouter } from '../../functions/src/http/api';
import { createOpsRouter } from '../../functions/src/http/ops';
import type { Route } from '../../functions/src/http/route';
import { ErrorBody } from '../../functions/src/http/views';
import { eventEvidenceId } from '../../functions/src/ledger/evidence-writer';
import type { Services } from '../../functions/src/services';
import { ROLE_SCOPES } from '../../functions/src/tenancy/identity';
import { API_KEY_SCOPES } from '../../functions/src/tenancy/platform';
import { WEBHOOK_EVENTS } from '../../functions/src/webhooks/events';
import {
  SIGNATURE_HEADER,
  signatureHeader,
  verifyWebhookSignature,
} from '../../functions/src/webhooks/signature';
import {
  readDoc,
  routeTable,
  runWebhookSnippet,
  section,
  tableRows,
  taggedBlock,
  type DocumentedRoute,
  type SignatureCase,
} from '../support/api-docs';

const doc = readDoc('docs/api.md');
const root = path.resolve(__dirname, '..', '..');

function declared(routes: readonly Route[]): DocumentedRoute[] {
  return routes.map((r) => ({
    method: r.method,
    path: r.pattern.replace(/:([a-zA-Z]+)/g, '{$1}'),
    scope: typeof r.auth === 'object' ? r.auth.scope : r.auth,
  }));
}

/** What differs between the page's table and the router: one line per route. */
function drift(documented: DocumentedRoute[], served: DocumentedRoute[]): string[] {
  const key = (r: DocumentedRoute) => `${r.method} ${r.path}`;
  const onPage = new Map(documented.map((r) => [key(r), r.scope]));
  const problems: string[] = [];
  for (const r of served) {
    const scope = onPage.get(key(r));
    if (scope === undefined) problems.push(`${key(r)} is missing from docs/api.md`);
    else if (scope !== r.scope)
      problems.push(`${key(r)}: docs/api.md says ${scope}, the route needs ${r.scope}`);
  }
  const servedKeys = new Set(served.map(key));
  for (const r of documented)
    if (!servedKeys.has(key(r))) problems.push(`${key(r)} is documented but not served`);
  const seen = new Set<string>();
  for (const r of documented) {
    if (seen.has(key(r))) problems.push(`${key(r)} is documented twice`);
    seen.add(key(r));
  }
  return problems;
}

// Registering routes touches no service; handlers are never called here.
const apiRoutes = declared(createApiRouter({} as Services).list());
const opsRoutes = declared(createOpsRouter({} as Services).list());

describe('docs/api.md routes and scopes', () => {
  it('lists every route the api function serves, with the scope it requires', () => {
    expect(drift(routeTable(doc, 'Routes'), apiRoutes)).toEqual([]);
  });

  it('lists every operator route of the ops function', () => {
    expect(drift(routeTable(doc, 'Operator API (`ops` function)'), opsRoutes)).toEqual([]);
  });

  it('fails when a route is missing, its scope differs, or it is not served (the check can fail)', () => {
    const table = routeTable(doc, 'Routes');
    const withoutRotate = table.filter((r) => r.path !== '/v1/api-keys/{keyId}/rotate');
    expect(drift(withoutRotate, apiRoutes)).toEqual([
      'POST /v1/api-keys/{keyId}/rotate is missing from docs/api.md',
    ]);
    const wrongScope = table.map((r) =>
      r.method === 'POST' && r.path === '/v1/webhooks' ? { ...r, scope: 'extractions:write' } : r,
    );
    expect(drift(wrongScope, apiRoutes)).toEqual([
      'POST /v1/webhooks: docs/api.md says extractions:write, the route needs keys:admin',
    ]);
    expect(
      drift([...table, { method: 'GET', path: '/v1/gone', scope: 'none' }], apiRoutes),
    ).toEqual(['GET /v1/gone is documented but not served']);
  });

  it('lists every scope, and every role with the scopes it grants', () => {
    const scopes = section(doc, 'Scopes');
    const rows = tableRows(scopes).map((cells) => cells.map((c) => c.replace(/`/g, '')));
    // Scopes have a colon (`keys:admin`), roles do not (`admin`).
    const scopeRows = rows.filter((cells) => (cells[0] ?? '').includes(':'));
    expect(scopeRows.map((c) => c[0])).toEqual([...API_KEY_SCOPES]);
    const roleRows = rows.filter((cells) => !(cells[0] ?? '').includes(':'));
    expect(
      Object.fromEntries(roleRows.map((c) => [c[0], (c[1] ?? '').split(',').map((s) => s.trim())])),
    ).toEqual(Object.fromEntries(Object.entries(ROLE_SCOPES).map(([r, s]) => [r, [...s]])));
  });
});

describe('docs/api.md errors', () => {
  const errors = section(doc, 'Errors');

  it('shows the error body the router renders', () => {
    const example = /```json\n([\s\S]*?)\n```/.exec(errors)?.[1] ?? '';
    expect(ErrorBody.safeParse(JSON.parse(example)).success).toBe(true);
  });

  const sources = sourceFiles(path.join(root, 'functions/src'))
    .filter((f) => !f.includes(`${path.sep}cli${path.sep}`))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');

  /** `status code` for each code in the table, under the status of its row. */
  function documentedCodes(markdown: string): string[] {
    return tableRows(section(markdown, 'Errors')).flatMap(([status, codes]) =>
      [...(codes ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => `${String(status)} ${m[1] ?? ''}`),
    );
  }

  it('lists every code the functions answer with, under its status, and no other', () => {
    const thrown = [...thrownCodes(sources)].sort();
    expect(thrown).toEqual(expect.arrayContaining(['403 insufficient_scope', '500 kms_integrity']));
    expect([...new Set(documentedCodes(doc))].sort()).toEqual(thrown);
  });

  it('fails when a code is missing or filed under another status (the check can fail)', () => {
    const moved = doc
      .replace('`not_sealed`, ', '')
      .replace('`route_not_found`', '`route_not_found`, `not_sealed`');
    const thrown = thrownCodes(sources);
    const documented = new Set(documentedCodes(moved));
    expect([...thrown].filter((c) => !documented.has(c))).toEqual(['409 not_sealed']);
    expect([...documented].filter((c) => !thrown.has(c))).toEqual(['404 not_sealed']);
  });

  it('lists the error codes of a failed extraction', () => {
    const failures = tableRows(section(doc, 'Extractions and their results'))
      .map((c) => c[0] ?? '')
      .filter((c) => /^`[a-z_]+`$/.test(c))
      .map((c) => c.replace(/`/g, ''));
    const extraction = sourceFiles(path.join(root, 'functions/src/extraction'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const thrown = [
      ...extraction.matchAll(/TerminalExtractionError\(\s*'([a-z_]+)'/g),
      // The dead-letter worker's code for a message that never succeeded.
      ...readFileSync(path.join(root, 'functions/src/extraction/dead-letter.ts'), 'utf8').matchAll(
        /code: '([a-z_]+)'/g,
      ),
    ].map((m) => m[1] ?? '');
    expect(failures.filter((c) => !new RegExp(`'${c}'`).test(extraction))).toEqual([]);
    expect(thrown.filter((c) => !failures.includes(c))).toEqual([]);
    expect(failures).toEqual(expect.arrayContaining(['provider_unavailable', 'processing_failed']));
  });
});

const HELPER_STATUS: Record<string, number> = {
  badRequest: 400,
  unauthenticated: 401,
  forbidden: 403,
  conflict: 409,
  unprocessable: 422,
};

/**
 * `status code` for each error the sources throw: through the errors.ts helpers, an AppError
 * (or subclass) with its status, or an InternalError subclass (500).
 */
function thrownCodes(sources: string): Set<string> {
  const found = new Set<string>();
  for (const m of sources.matchAll(
    /\b(badRequest|unauthenticated|forbidden|conflict|unprocessable)\(\s*'([a-z_]+)'/g,
  ))
    found.add(`${String(HELPER_STATUS[m[1] ?? ''])} ${m[2] ?? ''}`);
  for (const m of sources.matchAll(/\b(?:new AppError|super)\(\s*(\d{3}),\s*'([a-z_]+)'/g))
    found.add(`${m[1] ?? ''} ${m[2] ?? ''}`);
  for (const m of sources.matchAll(/\bsuper\(\s*'([a-z_]+)'/g)) found.add(`500 ${m[1] ?? ''}`);
  for (const m of sources.matchAll(/new AppError\(\s*(\d{3}),\s*'([a-z_]+)'/g))
    found.add(`${m[1] ?? ''} ${m[2] ?? ''}`);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

describe('docs/api.md webhooks', () => {
  it('names exactly the events the API sends, and the signature header', () => {
    const events = tableRows(section(doc, 'Events')).map((c) => (c[0] ?? '').replace(/`/g, ''));
    expect(events).toEqual([...WEBHOOK_EVENTS]);
    expect(section(doc, 'The signature')).toContain(
      `\`${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex>\``,
    );
  });

  it('the page’s verification snippet accepts real signatures and refuses forgeries, as signature.ts does', async () => {
    const secret = 'whsec_docs-test-secret';
    const now = Math.floor(Date.now() / 1000);
    // Non-ASCII text: the signature covers the UTF-8 bytes as sent.
    const body = JSON.stringify({ id: 'evt_1', type: 'extraction.succeeded', note: 'Zürich €' });
    const bytes = Buffer.from(body, 'utf8');
    const valid = signatureHeader(secret, now, body);
    const other = signatureHeader('whsec_other', now, body);
    const cases: [string, SignatureCase, boolean][] = [
      ['a fresh signature', { secret, header: valid, body: bytes }, true],
      [
        'a signature 4 minutes old',
        { secret, header: signatureHeader(secret, now - 240, body), body: bytes },
        true,
      ],
      [
        'a tampered body',
        { secret, header: valid, body: Buffer.from(body.replace('succeeded', 'failed')) },
        false,
      ],
      ['another secret', { secret, header: other, body: bytes }, false],
      [
        'a signature 10 minutes old',
        { secret, header: signatureHeader(secret, now - 600, body), body: bytes },
        false,
      ],
      [
        'a timestamp 10 minutes ahead',
        { secret, header: signatureHeader(secret, now + 600, body), body: bytes },
        false,
      ],
      [
        'a changed timestamp',
        { secret, header: valid.replace(`t=${String(now)}`, `t=${String(now - 1)}`), body: bytes },
        false,
      ],
      [
        'two v1 entries, the second valid',
        { secret, header: `${other},${valid.split(',')[1] ?? ''}`, body: bytes },
        true,
      ],
      ['no v1 entry', { secret, header: `t=${String(now)}`, body: bytes }, false],
      ['an empty header', { secret, header: '', body: bytes }, false],
    ];
    const snippet = await runWebhookSnippet(cases.map(([, c]) => c));
    const reference = cases.map(([, c]) =>
      verifyWebhookSignature(c.secret, c.header, c.body.toString('utf8')),
    );
    const expected = cases.map(([name, , ok]) => `${name}: ${String(ok)}`);
    expect(cases.map(([name], i) => `${name}: ${String(snippet[i])}`)).toEqual(expected);
    expect(cases.map(([name], i) => `${name}: ${String(reference[i])}`)).toEqual(expected);
  });

  it('states the delivery timeout and attempts the notifier uses', () => {
    const config = parseConfig(minimalEnv());
    const webhooks = section(doc, 'Events');
    expect(webhooks).toContain(`within ${String(config.WEBHOOK_TIMEOUT_MS / 1000)} seconds`);
    expect(webhooks).toContain(`up to ${String(config.WEBHOOK_MAX_ATTEMPTS)} attempts`);
  });
});

/** Every required variable, nothing with a default: the defaults are what the page states. */
function minimalEnv(): NodeJS.ProcessEnv {
  return {
    GOOGLE_CLOUD_PROJECT: 'docs-test',
    DOCUMENTS_BUCKET: 'docs-test-documents',
    AUDIT_BUCKET: 'docs-test-audit',
    KMS_KEY_RING: 'projects/docs-test/locations/europe-west1/keyRings/provenant',
    OPENAI_API_KEY: 'sk-test',
    ANTHROPIC_API_KEY: 'sk-ant-test',
    API_KEY_PEPPER: 'p'.repeat(32),
    SEALING_KEY_VERSION:
      'projects/docs-test/locations/europe-west1/keyRings/provenant/cryptoKeys/evidence-sealing/cryptoKeyVersions/1',
  };
}

const sha256 = (bytes: string) => createHash('sha256').update(bytes).digest('hex');

describe('docs/api.md result shapes', () => {
  const keysOf = (json: string) => Object.keys(JSON.parse(json) as object).sort();

  it('shows the built-in result as the post-processing steps make it', () => {
    const documentText = 'Vendor: Hookline Ltd\nTotal: 42.00';
    const quote = (value: unknown, q: string | null) => ({ value, quote: q });
    const raw = JSON.stringify({
      vendorName: quote('Hookline Ltd', 'Hookline Ltd'),
      invoiceNumber: quote(null, null),
      invoiceDate: quote(null, null),
      dueDate: quote(null, null),
      currency: quote(null, null),
      subtotal: quote(null, null),
      tax: quote(null, null),
      total: quote(42, '42.00'),
      lineItems: [],
    });
    const { result } = runSteps(raw, { documentText, schema: BUILT_IN_SCHEMAS.invoice }, sha256);
    const example = JSON.parse(taggedBlock(doc, 'built-in-result')) as {
      fields: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(result).sort()).toEqual(keysOf(taggedBlock(doc, 'built-in-result')));
    for (const [name, field] of Object.entries(example.fields)) {
      expect(Object.keys(result.fields[name] ?? {}).sort()).toEqual(Object.keys(field).sort());
    }
    expect(result.fields.total?.value).toBe('42.00');
  });

  it('shows the custom-schema result as the pipeline makes it', () => {
    const schema = customExtractionSchema('contract', {
      type: 'object',
      properties: {
        supplierName: { type: 'string' },
        contractValue: { type: ['number', 'null'] },
        renewal: { type: 'string', enum: ['auto', 'manual'] },
      },
      required: ['supplierName', 'contractValue', 'renewal'],
      additionalProperties: false,
    });
    const example = taggedBlock(doc, 'custom-result');
    const data = (JSON.parse(example) as { data: unknown }).data;
    const documentText = 'Supplier Name: Contoso Metals\nContract Value: 5000.00\nRenewal: manual';
    const { result } = runSteps(
      JSON.stringify(data),
      { documentText, schema },
      sha256,
      schema.steps,
    );
    expect(Object.keys(result).sort()).toEqual(keysOf(example));
    expect((result as unknown as { data: unknown }).data).toEqual(data);
  });
});

describe('docs/api.md evidence ids', () => {
  const ids = tableRows(section(doc, 'Evidence ids'));
  const example = (label: string) => (ids.find((c) => c[0] === label)?.[2] ?? '').replace(/`/g, '');

  it('lists every evidence kind', () => {
    // The kinds table names each kind in code; the id table's first column is prose.
    const kinds = ids
      .filter((c) => /^`[a-z_]+`$/.test(c[0] ?? ''))
      .map((c) => (c[0] ?? '').replace(/`/g, ''));
    expect(kinds).toEqual([...EVENT_KINDS]);
  });

  it('gives examples that the id functions produce', () => {
    const extractionId = example('extraction');
    expect(extractionId).toMatch(/^ex_[0-9a-f]{24}$/);
    expect(newExtractionId()).toMatch(/^ex_[0-9a-f]{24}$/);
    expect(example("an extraction's evidence")).toBe(evidenceIdFor(extractionId));
    expect(example("an event's evidence")).toBe(eventEvidenceId('erasure', extractionId));
  });
});

describe('docs/api.md audit bucket layout', () => {
  it('is where the sealer writes, with the default prefix', () => {
    const config = parseConfig(minimalEnv());
    const seal = {
      tenantId: 'acme',
      seq: 7,
      coverage: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T23:59:59.999Z' },
    } as Seal;
    const fill = (line: string) =>
      line
        .replace('gs://{AUDIT_BUCKET}/', '')
        .replace('{tenantId}', 'acme')
        .replace('{yyyy}/{mm}/{dd}', '2026/03/02')
        .replace('{seq}', '000007');
    const [records, sealFile] = taggedBlock(doc, 'audit-layout').split('\n').map(fill);
    expect({ records, seal: sealFile }).toEqual(exportPaths(config.AUDIT_EXPORT_PREFIX, seal));
    expect(records?.startsWith('evidence/')).toBe(true);
  });
});

describe('README: the functions the stack runs', () => {
  const readme = section(readDoc('README.md'), 'What the local stack runs');
  const rows = new Map(
    tableRows(readme).map((c) => [
      (c[0] ?? '').replace(/`/g, ''),
      { what: c[1] ?? '', port: c[2] ?? '' },
    ]),
  );
  const source = (file: string) => readFileSync(path.join(root, file), 'utf8');
  const registered = [
    ...source('functions/src/index.ts').matchAll(
      /functions\.(?:http|cloudEvent(?:<[^>]*>)?)\(\s*'([A-Za-z]+)'/g,
    ),
  ].map((m) => m[1] ?? '');
  const stack = source('scripts/local/stack.ts');
  const runLocally = [
    ...(/const FUNCTIONS = \[([\s\S]*?)\] as const/.exec(stack)?.[1] ?? '').matchAll(
      /name: '(\w+)'/g,
    ),
  ].map((m) => m[1] ?? '');
  const devPorts = Object.fromEntries(
    [
      ...(/const DEV_PORTS[^{]*\{([\s\S]*?)\};/.exec(stack)?.[1] ?? '').matchAll(/(\w+): (\d+)/g),
    ].map((m) => [m[1] ?? '', m[2] ?? '']),
  );

  it('has a row for every function index.ts registers', () => {
    expect(registered.length).toBeGreaterThanOrEqual(7);
    expect(registered.filter((name) => !rows.has(name))).toEqual([]);
  });

  it('gives each function the stack runs its npm start port, and says which it does not run', () => {
    expect(runLocally.length).toBeGreaterThanOrEqual(6);
    for (const name of runLocally) {
      expect({ name, port: rows.get(name)?.port }).toEqual({ name, port: devPorts[name] });
    }
    for (const name of registered.filter((n) => !runLocally.includes(n))) {
      expect({ name, what: rows.get(name)?.what }).toEqual({
        name,
        what: expect.stringContaining('not run by the local stack') as string,
      });
    }
  });
});
