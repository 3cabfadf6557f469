/**
 * The OpenAPI 3.1 description of the customer API, generated from the same zod schemas that
 * validate requests. Every operation the router serves must have an entry in OPERATIONS: the
 * document is built from the router's own route list, and a route without an entry makes the
 * build (and its test) fail, so a new route cannot go undocumented.
 */
import { z } from 'zod';
import { CreateSchemaBody } from '../extraction/custom-schemas';
import { ListExtractionsQuery } from '../extraction/listing';
import { CreateExtractionBody, EXTRACTION_STATUSES } from '../extraction/submit';
import { API_KEY_SCOPES, type ApiKeyScope } from '../tenancy/platform';
import { CreateApiKeyBody, RotateApiKeyBody } from './api-keys-routes';
import type { Router } from './router';

const ErrorBody = z
  .strictObject({
    error: z.strictObject({
      code: z.string().describe('Stable, machine-readable error code.'),
      message: z.string(),
      requestId: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

const Extraction = z
  .strictObject({
    id: z.string(),
    status: z.enum(EXTRACTION_STATUSES),
    schema: z.string(),
    createdAt: z.string().nullable(),
    result: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'Built-in schemas: {fields, lineItems, issues} with grounded values; custom schemas: {data, issues}.',
      ),
    evidenceId: z.string().optional(),
    model: z
      .strictObject({ provider: z.string(), model: z.string(), modelVersion: z.string() })
      .optional(),
    error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    webhookUrl: z.string().optional(),
  })
  .meta({ id: 'Extraction' });

const ExtractionPage = z
  .strictObject({ data: z.array(Extraction), nextPageToken: z.string().nullable() })
  .meta({ id: 'ExtractionPage' });

const MultipartExtraction = z.strictObject({
  file: z.string().meta({ contentMediaType: 'application/octet-stream' }),
  schema: z.string(),
  webhookUrl: z.string().optional(),
  metadata: z.string().optional().describe('A JSON object of string values.'),
});

const Schema = z
  .strictObject({
    name: z.string(),
    version: z.number().int(),
    builtIn: z.boolean(),
    description: z.string(),
    jsonSchema: z.record(z.string(), z.unknown()),
    createdAt: z.string().nullable(),
  })
  .meta({ id: 'Schema' });

const ApiKey = z
  .strictObject({
    keyId: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    createdAt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    token: z.string().optional().describe('The secret, shown once when a key is issued.'),
    rotatedFrom: z.string().optional(),
  })
  .meta({ id: 'ApiKey' });

const Webhook = z
  .looseObject({ id: z.string(), url: z.string(), events: z.array(z.string()) })
  .meta({ id: 'Webhook' });

const AnyObject = z.record(z.string(), z.unknown());

interface Operation {
  summary: string;
  /** Scope the API key needs; `null` for no authentication at all. */
  auth: ApiKeyScope | 'authenticated' | null;
  query?: z.ZodObject;
  body?: z.ZodType;
  multipart?: z.ZodObject;
  ok: { status: number; schema?: z.ZodType; description: string }[];
  /** Error statuses besides the 401/403/429 every authenticated route may answer. */
  errors: number[];
}

const OPERATIONS: Record<string, Operation> = {
  'GET /healthz': {
    summary: 'Liveness',
    auth: null,
    ok: [{ status: 200, schema: z.strictObject({ ok: z.boolean() }), description: 'Serving' }],
    errors: [],
  },
  'GET /v1/openapi.json': {
    summary: 'This document',
    auth: null,
    ok: [{ status: 200, schema: AnyObject, description: 'The OpenAPI 3.1 document' }],
    errors: [],
  },
  'POST /v1/extractions': {
    summary: 'Submit a document for extraction',
    auth: 'extractions:write',
    body: CreateExtractionBody,
    multipart: MultipartExtraction,
    ok: [
      { status: 202, schema: Extraction, description: 'Accepted and queued' },
      { status: 200, schema: Extraction, description: 'Idempotent replay: the original' },
    ],
    errors: [400, 409, 413, 415, 422],
  },
  'GET /v1/extractions': {
    summary: 'List extractions, newest first',
    auth: 'extractions:read',
    query: ListExtractionsQuery,
    ok: [{ status: 200, schema: ExtractionPage, description: 'One page' }],
    errors: [400],
  },
  'GET /v1/extractions/:id': {
    summary: 'Read one extraction',
    auth: 'extractions:read',
    ok: [{ status: 200, schema: Extraction, description: 'The extraction' }],
    errors: [404],
  },
  'DELETE /v1/extractions/:id': {
    summary: 'Erase an extraction: its original, raw response and result become unreadable',
    auth: 'extractions:write',
    ok: [{ status: 204, description: 'Erased (also when it already was)' }],
    errors: [404],
  },
  'GET /v1/extractions/:id/receipt': {
    summary: 'Inclusion receipt of the extraction evidence in a signed seal',
    auth: 'extractions:read',
    ok: [{ status: 200, schema: AnyObject, description: 'The receipt' }],
    errors: [404, 409],
  },
  'GET /v1/evidence/:id': {
    summary: 'Read one evidence record',
    auth: 'extractions:read',
    ok: [{ status: 200, schema: AnyObject, description: 'The evidence record' }],
    errors: [404],
  },
  'GET /v1/evidence/checkpoints': {
    summary: 'Signed seals of the tenant evidence log',
    auth: 'extractions:read',
    ok: [{ status: 200, schema: AnyObject, description: 'Checkpoints' }],
    errors: [],
  },
  'GET /v1/schemas': {
    summary: 'Built-in and custom extraction schemas',
    auth: 'authenticated',
    ok: [
      {
        status: 200,
        schema: z.strictObject({ data: z.array(Schema) }),
        description: 'All schemas',
      },
    ],
    errors: [],
  },
  'GET /v1/schemas/:name': {
    summary: 'Read one schema',
    auth: 'authenticated',
    ok: [{ status: 200, schema: Schema, description: 'The schema' }],
    errors: [404],
  },
  'POST /v1/schemas': {
    summary: 'Register a custom schema (OpenAI strict / Anthropic tool-input subset)',
    auth: 'schemas:write',
    body: CreateSchemaBody,
    ok: [{ status: 201, schema: Schema, description: 'Registered' }],
    errors: [400, 409, 422],
  },
  'GET /v1/api-keys': {
    summary: 'List API keys',
    auth: 'keys:admin',
    ok: [
      {
        status: 200,
        schema: z.strictObject({ apiKeys: z.array(ApiKey) }),
        description: 'Keys, never secrets',
      },
    ],
    errors: [],
  },
  'POST /v1/api-keys': {
    summary: 'Issue an API key',
    auth: 'keys:admin',
    body: CreateApiKeyBody,
    ok: [{ status: 201, schema: ApiKey, description: 'Issued; the token is shown once' }],
    errors: [400, 415],
  },
  'DELETE /v1/api-keys/:keyId': {
    summary: 'Revoke an API key',
    auth: 'keys:admin',
    ok: [{ status: 204, description: 'Revoked' }],
    errors: [404],
  },
  'POST /v1/api-keys/:keyId/rotate': {
    summary: 'Rotate an API key with an overlap',
    auth: 'keys:admin',
    body: RotateApiKeyBody,
    ok: [{ status: 201, schema: ApiKey, description: 'The new key; the token is shown once' }],
    errors: [400, 404, 409, 415],
  },
  'GET /v1/webhooks': {
    summary: 'List webhook endpoints',
    auth: 'keys:admin',
    ok: [
      {
        status: 200,
        schema: z.strictObject({ webhooks: z.array(Webhook) }),
        description: 'Endpoints, never secrets',
      },
    ],
    errors: [],
  },
  'POST /v1/webhooks': {
    summary: 'Register a webhook endpoint',
    auth: 'keys:admin',
    body: z.strictObject({ url: z.string(), events: z.array(z.string()).optional() }),
    ok: [{ status: 201, schema: Webhook, description: 'Registered; the secret is shown once' }],
    errors: [400, 415, 422],
  },
  'DELETE /v1/webhooks/:id': {
    summary: 'Delete a webhook endpoint',
    auth: 'keys:admin',
    ok: [{ status: 204, description: 'Deleted' }],
    errors: [404],
  },
};

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

export class UndocumentedRouteError extends Error {
  override readonly name = 'UndocumentedRouteError';
}

/** The document for exactly the routes given (the api router's `list()`). */
export function buildOpenApi(routes: readonly { method: string; pattern: string }[]): {
  openapi: string;
  [key: string]: unknown;
} {
  const missing = routes.filter((r) => !Object.hasOwn(OPERATIONS, `${r.method} ${r.pattern}`));
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
  for (const { method, pattern } of routes) {
    const op = OPERATIONS[`${method} ${pattern}`];
    if (!op) continue;
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
    if (method === 'POST' && pattern === '/v1/extractions') {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'Replays return the original; a different body with the same key is a 409.',
        schema: { type: 'string', minLength: 1, maxLength: 128 },
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
    if (op.auth !== null) {
      errors.add(401);
      errors.add(403);
      errors.add(429);
    }
    for (const status of [...errors].sort()) responses[String(status)] = errorResponse(status);
    const content: Record<string, unknown> = {};
    if (op.body) content['application/json'] = { schema: toSchema(op.body, 'input', components) };
    if (op.multipart)
      content['multipart/form-data'] = { schema: toSchema(op.multipart, 'input', components) };
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = {
      operationId: `${method.toLowerCase()}${path.replace(/[^a-zA-Z0-9]+(.)?/g, (_, c?: string) => (c ?? '').toUpperCase())}`,
      summary: op.summary,
      ...(op.auth === null ? { security: [] } : {}),
      ...(op.auth !== null && op.auth !== 'authenticated'
        ? { description: `Requires the \`${op.auth}\` scope.` }
        : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(Object.keys(content).length > 0 ? { requestBody: { required: true, content } } : {}),
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

/** `GET /v1/openapi.json`, unauthenticated; built on first use from the router's final routes. */
export function registerOpenApiRoute(router: Router): void {
  let document: unknown;
  router.on('GET', '/v1/openapi.json', () => {
    document ??= buildOpenApi(router.list());
    return Promise.resolve({ status: 200, body: document });
  });
}
