import { execFile } from 'node:child_process';
import path from 'node:path';
import { createApiRouter } from '../../functions/src/http/api';
import { buildOpenApi, UndocumentedRouteError } from '../../functions/src/http/openapi';
import { route } from '../../functions/src/http/route';
import type { Services } from '../../functions/src/services';

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
