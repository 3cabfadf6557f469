import { execFile } from 'node:child_process';
import path from 'node:path';
import { createApiRouter } from '../../functions/src/http/api';
import {
  buildOpenApi,
  SCOPE_EXTENSION,
  UndocumentedRouteError,
} from '../../functions/src/http/openapi';
import { createOpsRouter } from '../../functions/src/http/ops';
import { route } from '../../functions/src/http/route';
import type { Services } from '../../functions/src/services';
import { WEBHOOK_EVENTS } from '../../functions/src/webhooks/events';

// Registering routes touches no service; handlers are never called here.
const routes = createApiRouter({} as Services).list();
const document = buildOpenApi(routes);

/**
 * @apidevtools/swagger-parser loads an ES module that jest's CommonJS runtime cannot require;
 * plain Node 22 can, so the standard validator runs in a child process on the document.
 */
function validateWithSwaggerParser(doc: unknown): Promise<string> {
  const script = `
    const SwaggerParser = require('@apidevtools/swagger-parser');
    SwaggerParser.validate(JSON.parse(process.env.OPENAPI_DOC))
      .then(() => process.stdout.write('valid'))
      .catch((e) => { process.stdout.write('invalid: ' + e.message); });`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', script],
      {
        cwd: path.resolve(__dirname, '..', '..'),
        env: { ...process.env, OPENAPI_DOC: JSON.stringify(doc) },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`validator failed: ${stderr || err.message}`));
        else resolve(stdout);
      },
    );
  });
}

type Paths = Record<string, Record<string, { responses: Record<string, unknown> }>>;

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    await expect(validateWithSwaggerParser(document)).resolves.toBe('valid');
  });

  it('fails validation when the document is broken (the check can fail)', async () => {
    const broken = { ...document, paths: { '/x': { get: { responses: { 200: {} } } } } };
    await expect(validateWithSwaggerParser(broken)).resolves.toMatch(/^invalid/);
  });

  it('describes exactly the routes the api router serves', () => {
    const served = routes
      .map((r) => `${r.method} ${r.pattern.replace(/:([a-zA-Z]+)/g, '{$1}')}`)
      .sort();
    const documented = Object.entries(document.paths as Paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(served);
    expect(served).toContain('POST /v1/extractions');
    expect(served).toContain('GET /v1/openapi.json');
  });

  it('refuses a route without its documentation, when declared and when built', () => {
    // @ts-expect-error: a declaration without summary, answers and errors does not compile.
    const undocumented = route({
      method: 'GET',
      pattern: '/v1/forgotten',
      auth: 'none',
      handle: () => Promise.resolve({ status: 200, body: {} }),
    });
    expect(() => buildOpenApi([...routes, undocumented])).toThrow(UndocumentedRouteError);
  });

  it('gives every error response the typed error shape', () => {
    const paths = document.paths as Paths;
    const post = paths['/v1/extractions']?.post;
    expect(Object.keys(post?.responses ?? {})).toEqual(
      expect.arrayContaining([
        '200',
        '202',
        '400',
        '401',
        '403',
        '409',
        '413',
        '415',
        '422',
        '500',
      ]),
    );
    for (const ops of Object.values(paths)) {
      for (const op of Object.values(ops)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400) continue;
          expect(response).toMatchObject({
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          });
        }
      }
    }
  });

  it('carries the request schemas generated from zod', () => {
    const post = (document.paths as Record<string, Record<string, unknown>>)['/v1/extractions']
      ?.post as { requestBody: { content: Record<string, { schema: Record<string, unknown> }> } };
    const json = post.requestBody.content['application/json']?.schema;
    expect(json?.required).toEqual(['document', 'schema']);
    expect(json?.additionalProperties).toBe(false);
    expect(Object.keys(post.requestBody.content)).toEqual([
      'application/json',
      'multipart/form-data',
    ]);
  });
});

interface Operation {
  description?: string;
  security?: Record<string, string[]>[];
  [SCOPE_EXTENSION]?: string;
}

function operationOf(doc: Record<string, unknown>, method: string, pattern: string): Operation {
  const path = pattern.replace(/:([a-zA-Z]+)/g, '{$1}');
  const op = (doc.paths as Record<string, Record<string, Operation>>)[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${path} is not in the document`);
  return op;
}

describe('scopes per route (issue 18)', () => {
  const scoped = routes.flatMap((r) =>
    typeof r.auth === 'object' ? [{ route: r, scope: r.auth.scope }] : [],
  );

  it('states the scope of every scoped route: extension, security requirement, description', () => {
    expect(scoped.length).toBeGreaterThan(10);
    for (const { route: r, scope } of scoped) {
      const op = operationOf(document, r.method, r.pattern);
      expect({ route: `${r.method} ${r.pattern}`, scope: op[SCOPE_EXTENSION] }).toEqual({
        route: `${r.method} ${r.pattern}`,
        scope,
      });
      expect(op.security).toEqual([{ bearer: [scope] }]);
      expect(op.description).toContain(`\`${scope}\``);
    }
  });

  it('says an open route needs nothing, and names no scope for it', () => {
    for (const r of routes.filter((x) => x.auth === 'none')) {
      const op = operationOf(document, r.method, r.pattern);
      expect(op.security).toEqual([]);
      expect(op[SCOPE_EXTENSION]).toBeUndefined();
    }
    expect(operationOf(document, 'GET', '/v1/openapi.json').security).toEqual([]);
  });

  it('says an operator route needs an operator ID token (the ops function)', () => {
    const all = createOpsRouter({} as Services).list();
    const opsDocument = buildOpenApi(all);
    // Break-glass routes (below) are the ops function's other kind.
    const ops = all.filter((r) => !r.pattern.startsWith('/v1/access-requests'));
    expect(ops.length).toBeGreaterThan(0);
    for (const r of ops) {
      expect(r.auth).toBe('operator');
      const op = operationOf(opsDocument, r.method, r.pattern);
      expect(op.description).toMatch(/platform_role.*operator/);
      expect(op.security).toEqual([{ bearer: [] }]);
      expect(op[SCOPE_EXTENSION]).toBeUndefined();
    }
  });

  it('says a break-glass route needs a staff ID token with its access role (issue 13)', () => {
    const all = createOpsRouter({} as Services).list();
    const opsDocument = buildOpenApi(all);
    const access = all.filter((r) => r.pattern.startsWith('/v1/access-requests'));
    expect(access.length).toBe(8);
    for (const r of access) {
      expect(['engineer', 'approver', 'staff']).toContain(r.auth);
      const op = operationOf(opsDocument, r.method, r.pattern);
      expect(op.description).toMatch(/access_roles/);
      expect(op.security).toEqual([{ bearer: [] }]);
      expect(Object.keys((op as { responses?: object }).responses ?? {})).not.toContain('429');
    }
  });

  it('fails when a scope is changed in a declaration (the check can fail)', () => {
    const changed = routes.map((r) =>
      r.method === 'GET' && r.pattern === '/v1/api-keys'
        ? { ...r, auth: { scope: 'extractions:read' as const } }
        : r,
    );
    const op = operationOf(buildOpenApi(changed), 'GET', '/v1/api-keys');
    expect(op[SCOPE_EXTENSION]).toBe('extractions:read');
    expect(operationOf(document, 'GET', '/v1/api-keys')[SCOPE_EXTENSION]).toBe('keys:admin');
  });
});

describe('webhooks in the document (issue 18)', () => {
  type Webhooks = Record<
    string,
    {
      post: {
        parameters: { name: string; in: string; required: boolean }[];
        requestBody: { content: Record<string, { schema: { $ref: string } }> };
      };
    }
  >;

  it('describes every event the API sends, signed with Provenant-Signature', () => {
    const webhooks = document.webhooks as Webhooks;
    expect(Object.keys(webhooks)).toEqual([...WEBHOOK_EVENTS]);
    for (const event of WEBHOOK_EVENTS) {
      const post = webhooks[event]?.post;
      expect(post?.parameters).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'Provenant-Signature', in: 'header', required: true }),
        ]),
      );
      expect(post?.requestBody.content['application/json']?.schema.$ref).toBe(
        '#/components/schemas/WebhookEvent',
      );
    }
    const schemas = (document.components as { schemas: Record<string, { properties: object }> })
      .schemas;
    expect(Object.keys(schemas.WebhookEvent?.properties ?? {})).toEqual([
      'id',
      'type',
      'createdAt',
      'data',
    ]);
  });
});
