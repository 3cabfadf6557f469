/**
 * The OpenAPI 3.1 description of the customer API, generated from the router's route
 * declarations: their summaries, auth, query, header and body readers and answers, with the
 * same zod schemas that validate requests. A declaration cannot omit its documentation (the
 * types require it), and `buildOpenApi` refuses a route that somehow has none.
 *
 * Each operation states who may call it three ways, all from its `auth`: a sentence in its
 * `description`, the scope as the `x-provenant-scope` extension (what a client generator or a
 * script reads), and a `security` requirement naming the scope as a role of the bearer scheme.
 * The webhooks the API sends are the document's top-level `webhooks` (OpenAPI 3.1 §4.8.1).
 */
import { z } from 'zod';
import { ROLE_SCOPES, ROLES } from '../tenancy/identity';
import { API_KEY_SCOPES } from '../tenancy/platform';
import { WEBHOOK_EVENTS, type WebhookEvent } from '../webhooks/events';
import { SIGNATURE_HEADER } from '../webhooks/signature';
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

/** The extension naming an operation's required API key scope. */
export const SCOPE_EXTENSION = 'x-provenant-scope';

/**
 * An open route opts out of the document's bearer security; the others say what they need. In
 * OpenAPI 3.1 a requirement of a non-OAuth scheme may list "role names which are required for
 * the execution" (§4.8.30.2): the scope is that role, so a generic tool shows it too.
 */
function requirement(auth: RouteAuth): Record<string, unknown> {
  if (auth === 'none') return { description: 'No credentials needed.', security: [] };
  if (auth === 'operator') {
    return {
      description:
        'Requires a platform operator: a Firebase ID token whose `platform_role` claim is `operator`.',
      security: [{ bearer: [] }],
    };
  }
  if (typeof auth === 'string') {
    return {
      description: `Requires a break-glass staff member: a Firebase ID token whose \`access_roles\` claim holds ${auth === 'staff' ? '`engineer` or `approver`' : `\`${auth}\``} (docs/access.md).`,
      security: [{ bearer: [] }],
    };
  }
  return {
    description: `Requires the \`${auth.scope}\` scope (an API key issued with it, or an ID token whose role grants it).`,
    [SCOPE_EXTENSION]: auth.scope,
    security: [{ bearer: [auth.scope] }],
  };
}

/** The body a webhook endpoint receives (webhooks/events.ts `WebhookEvent`). */
const WebhookEventBody = z
  .strictObject({
    id: z
      .string()
      .describe('evt_ + 32 hex: the same for every delivery of this outcome; deduplicate on it.'),
    type: z.enum(WEBHOOK_EVENTS),
    createdAt: z.string().describe('When the extraction completed (ISO 8601).'),
    data: z.strictObject({
      extractionId: z.string(),
      status: z.string().describe('`succeeded` or `failed`: read the extraction for the rest.'),
      evidenceId: z.string().optional(),
    }),
  })
  .meta({ id: 'WebhookEvent' });

// The schema and the type the notifier sends must agree both ways, or this does not compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type WebhookEventBodyMatches = Holds<Same<z.infer<typeof WebhookEventBody>, WebhookEvent>>;

const SIGNATURE_DESCRIPTION =
  "`t=<unix seconds>,v1=<hex HMAC-SHA256>`: the HMAC key is the endpoint's whole signing secret (`whsec_...`, UTF-8), the message is `<t>.<raw body>`. Reject a `t` more than 300 seconds from now. The header may carry more than one `v1` (kept for secret rotation): accept when any matches. See docs/api.md for a verification snippet.";

function webhookOperations(
  ref: (schema: z.ZodType, io: 'input' | 'output') => Record<string, unknown>,
): Record<string, unknown> {
  const webhooks: Record<string, unknown> = {};
  for (const event of WEBHOOK_EVENTS) {
    webhooks[event] = {
      post: {
        operationId: `webhook${event.replace(/(^|\.)([a-z])/g, (_, _dot: string, c: string) => c.toUpperCase())}`,
        summary: `The \`${event}\` event, POSTed to each endpoint subscribed to it`,
        parameters: [
          {
            name: SIGNATURE_HEADER,
            in: 'header',
            required: true,
            description: SIGNATURE_DESCRIPTION,
            schema: { type: 'string', pattern: '^t=\\d+(,v1=[0-9a-f]{64})+$' },
          },
          {
            name: 'Provenant-Event-Id',
            in: 'header',
            required: true,
            description: 'The event id, as in the body.',
            schema: { type: 'string' },
          },
          {
            name: 'Provenant-Event-Type',
            in: 'header',
            required: true,
            description: 'The event type, as in the body.',
            schema: { type: 'string', enum: [event] },
          },
        ],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: ref(WebhookEventBody, 'output') } },
        },
        responses: {
          '2XX': { description: 'Delivered; any other answer (or none in time) is retried.' },
        },
      },
    };
  }
  return webhooks;
}

const BEARER_DESCRIPTION = [
  'An API key (`pvn_<keyId>_<secret>`) or a Firebase ID token whose `tenant_id` claim names the tenant and whose `role` claim grants scopes.',
  `Scopes: ${API_KEY_SCOPES.map((s) => `\`${s}\``).join(', ')}.`,
  `Roles: ${ROLES.map((r) => `\`${r}\` (${ROLE_SCOPES[r].join(', ')})`).join('; ')}.`,
  `Each operation names its scope in \`${SCOPE_EXTENSION}\` and in its security requirement.`,
].join(' ');

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
      if (typeof op.auth === 'object') errors.add(429);
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
    webhooks: webhookOperations(ref),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: BEARER_DESCRIPTION },
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
