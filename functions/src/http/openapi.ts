/**
 * The OpenAPI 3.1 description of the customer API, generated from the router's route
 * declarations: their summaries, auth, query, header and body readers and answers, with the
 * same zod schemas that validate requests. A declaration cannot omit its documentation (the
 * types require it), and `buildOpenApi` refuses a route that somehow has none.
 */
import { z } from 'zod';
import { route, type Route, type RouteAuth } from './route';
import { AnyObject, ErrorBody } from './views';

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request',
  401: 'Missing or invalid credentials',
  403: 'Not allowed for this key',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported media type',
  422: 'Unprocessable',
  429: 'Over the tenant quota; retry after the Retry-After seconds',
  500: 'Internal error',
};

/**
 * JSON Schema 2020-12 from zod. Schemas registered with an `id` (`.meta({id})`) land in
 * `components.schemas` and are referenced from wherever they occur.
 */
function toSchema(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: Record<string, unknown>,
): Record<string, unknown> {
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    cycles: 'throw',
  }) as Record<string, unknown>;
  delete json.$schema;
  const defs = (json.$defs ?? {}) as Record<string, unknown>;
  delete json.$defs;
  const relink = (value: unknown) =>
    JSON.parse(
      JSON.stringify(value).replace(/"#\/\$defs\/([^"]+)"/g, '"#/components/schemas/$1"'),
    ) as Record<string, unknown>;
  for (const [id, def] of Object.entries(defs)) components[id] = relink(def);
  return relink(json);
}

/** An open route opts out of the document's bearer security; the others say what they need. */
function requirement(auth: RouteAuth): { security: [] } | { description: string } {
  if (auth === 'none') return { security: [] };
  if (auth === 'operator') return { description: 'Requires a platform operator ID token.' };
  return { description: `Requires the \`${auth.scope}\` scope.` };
}

export class UndocumentedRouteError extends Error {
  override readonly name = 'UndocumentedRouteError';
}

/** The document for exactly the routes given (the api router's `list()`). */
export function buildOpenApi(routes: readonly Route[]): {
  openapi: string;
  [key: string]: unknown;
} {
  const missing = routes.filter(
    (r) => typeof r.summary !== 'string' || !Array.isArray(r.ok) || r.ok.length === 0,
  );
  if (missing.length > 0) {
    throw new UndocumentedRouteError(
      `routes without an OpenAPI entry: ${missing.map((r) => `${r.method} ${r.pattern}`).join(', ')}`,
    );
  }
  const components: Record<string, unknown> = {};
  const ref = (schema: z.ZodType, io: 'input' | 'output') => toSchema(schema, io, components);
  const errorResponse = (status: number) => ({
    description: STATUS_TEXT[status] ?? 'Error',
    ...(status === 429
      ? {
          headers: {
            'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } },
          },
        }
      : {}),
    content: { 'application/json': { schema: ref(ErrorBody, 'output') } },
  });

  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of routes) {
    const { method, pattern } = op;
    const path = pattern.replace(/:([a-zA-Z]+)/g, '{$1}');
    const parameters: Record<string, unknown>[] = [...pattern.matchAll(/:([a-zA-Z]+)/g)].map(
      (m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }),
    );
    if (op.query) {
      const query = toSchema(op.query, 'input', components) as {
        properties?: Record<string, Record<string, unknown>>;
        required?: string[];
      };
      for (const [name, schema] of Object.entries(query.properties ?? {})) {
        parameters.push({
          name,
          in: 'query',
          required: query.required?.includes(name) ?? false,
          schema,
        });
      }
    }
    for (const header of Object.values(op.headers ?? {})) {
      parameters.push({
        name: header.name,
        in: 'header',
        required: header.required,
        description: header.description,
        schema: toSchema(header.schema, 'input', components),
      });
    }
    const responses: Record<string, unknown> = {};
    for (const ok of op.ok) {
      responses[String(ok.status)] = {
        description: ok.description,
        ...(ok.schema
          ? { content: { 'application/json': { schema: ref(ok.schema, 'output') } } }
          : {}),
      };
    }
    const errors = new Set([...op.errors, 500]);
    if (op.auth !== 'none') {
      errors.add(401);
      errors.add(403);
      // Only a tenant's requests spend a quota.
      if (op.auth !== 'operator') errors.add(429);
    }
    for (const status of [...errors].sort()) responses[String(status)] = errorResponse(status);
    const content: Record<string, unknown> = {};
    for (const [type, schema] of Object.entries(op.body?.content ?? {}))
      content[type] = { schema: toSchema(schema, 'input', components) };
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = {
      operationId: `${method.toLowerCase()}${path.replace(/[^a-zA-Z0-9]+(.)?/g, (_, c?: string) => (c ?? '').toUpperCase())}`,
      summary: op.summary,
      ...requirement(op.auth),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.body && Object.keys(content).length > 0
        ? { requestBody: { required: op.body.required, content } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Provenant API',
      version: '1',
      description:
        'Evidence-first document extraction. Errors always have the shape {error: {code, message, requestId, details?}}.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (pvn_...) or a Firebase ID token with tenant claims.',
        },
      },
      schemas: components,
    },
  };
}

/**
 * `GET /v1/openapi.json`, unauthenticated; built on first use from `routes()`, the router's
 * final list.
 */
export function openApiRoute(routes: () => readonly Route[]): Route {
  let document: unknown;
  return route({
    method: 'GET',
    pattern: '/v1/openapi.json',
    auth: 'none',
    summary: 'This document',
    ok: [{ status: 200, schema: AnyObject, description: 'The OpenAPI 3.1 document' }],
    errors: [],
    handle: () => {
      document ??= buildOpenApi(routes());
      return Promise.resolve({ status: 200, body: document });
    },
  });
}
