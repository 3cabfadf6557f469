/**
 * The router over the functions-framework request: exact method + path patterns, the route
 * declarations run in one fixed order (authenticate, scope, query, headers, body, handler), one
 * catch that maps every error to `{error: {code, message, requestId, details?}}`.
 *
 * The body is read here, after authentication, under the route's own limit
 * (`request-body.ts`): before that, a request costs its headers and nothing more. Only the
 * client's inputs (query, headers, body) are validated as such: a ZodError from parsing them is
 * a 400 `invalid_request` naming the fields; one from anywhere else is a row or a message of
 * ours that no longer parses, a 500 that shows nothing of our records' shape.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from '@google-cloud/functions-framework';
import { ZodError } from 'zod';
import { AppError, badRequest } from '../errors';
import { errorFields, log } from '../logging';
import type { Services } from '../services';
import { requireScope } from '../tenancy/api-keys';
import { authenticate, authenticateOperator, authenticateStaff } from './auth';
import { mediaTypeOf } from './body';
import { DEFAULT_BODY_LIMIT, readBody, restoreBodyHeaders } from './request-body';
import type { AnyCaller, BodyReader, ReceivedBody, Reply, Route, RouteAuth } from './route';

interface Entry {
  route: Route;
  regex: RegExp;
  keys: string[];
}

/** The caller a route's `auth` asks for, or the 401/403/429 that refuses the request. */
async function callerOf(
  services: Services,
  auth: RouteAuth,
  req: Request,
  requestId: string,
): Promise<AnyCaller> {
  if (auth === 'none') return {};
  if (auth === 'operator') {
    const uid = await authenticateOperator(services, req, requestId);
    return { actor: { kind: 'user', id: uid } };
  }
  if (auth === 'engineer' || auth === 'approver' || auth === 'staff') {
    const staff = await authenticateStaff(services, req, requestId, auth);
    return { actor: { kind: 'user', id: staff.uid }, staff };
  }
  const authenticated = await authenticate(services, req, requestId);
  requireScope(authenticated.principal, auth.scope);
  return authenticated;
}

export class Router {
  private readonly entries: Entry[] = [];

  constructor(private readonly services: Services) {}

  add(...routes: Route[]): this {
    for (const route of routes) {
      const keys: string[] = [];
      const source = route.pattern.replace(/:([a-zA-Z]+)/g, (_, key: string) => {
        keys.push(key);
        return '([^/]+)';
      });
      this.entries.push({ route, regex: new RegExp(`^${source}/?$`), keys });
    }
    return this;
  }

  /** Every route served, in the order added (a copy): for the OpenAPI document and the tests. */
  list(): Route[] {
    return this.entries.map(({ route }) => route);
  }

  handle = async (req: Request, res: Response): Promise<void> => {
    restoreBodyHeaders(req);
    const requestId = randomUUID();
    const started = Date.now();
    const path = (req.path || '/').replace(/\/{2,}/g, '/');
    let reply: Reply;
    let routePattern = 'unmatched';
    try {
      const candidates = this.entries
        .map((entry) => ({ entry, match: entry.regex.exec(path) }))
        .filter((c) => c.match !== null);
      // A literal segment beats a parameter: /v1/evidence/checkpoints is not /v1/evidence/:id.
      const found = candidates
        .filter((c) => c.entry.route.method === req.method)
        .sort((a, b) => a.entry.keys.length - b.entry.keys.length)[0];
      if (!found?.match) {
        throw candidates.length > 0
          ? new AppError(405, 'method_not_allowed', `${req.method} is not allowed here`)
          : new AppError(404, 'route_not_found', 'no such route');
      }
      routePattern = found.entry.route.pattern;
      const params: Record<string, string> = {};
      found.entry.keys.forEach((key, i) => {
        params[key] = decodeURIComponent(found.match?.[i + 1] ?? '');
      });
      reply = await this.run(found.entry.route, req, params, requestId);
    } catch (err) {
      reply = toErrorReply(err, requestId);
      if (reply.status >= 500)
        log('request_failed', {
          requestId,
          route: routePattern,
          status: reply.status,
          ...errorFields(err),
        });
    }
    res.status(reply.status);
    res.set('X-Request-Id', requestId);
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.set(name, value);
    if (reply.body === undefined) res.end();
    else res.json(reply.body);
    log('request_completed', {
      requestId,
      method: req.method,
      route: routePattern,
      status: reply.status,
      ms: Date.now() - started,
    });
  };

  /** A matched route's declaration, in order: caller, query, headers, body, then the handler. */
  private async run(
    route: Route,
    req: Request,
    params: Record<string, string>,
    requestId: string,
  ): Promise<Reply> {
    const caller = await callerOf(this.services, route.auth, req, requestId);
    const { query: querySchema, body: bodyReader } = route;
    const query: unknown = querySchema
      ? clientInput('the request is invalid', () => querySchema.parse(req.query))
      : undefined;
    const headers: Record<string, unknown> = {};
    for (const [key, header] of Object.entries(route.headers ?? {})) {
      headers[key] = clientInput('the request is invalid', () =>
        header.parse(req.get(header.name)),
      );
    }
    const body = bodyReader ? await this.readBody(req, bodyReader) : undefined;
    return route.handle({
      services: this.services,
      req,
      requestId,
      params,
      query,
      headers,
      body,
      ...caller,
    });
  }

  /** The route's body, read under its limit and handed to its reader. */
  private async readBody(req: Request, reader: BodyReader<unknown>): Promise<unknown> {
    const limit = reader.maxBytes?.(this.services) ?? DEFAULT_BODY_LIMIT;
    const contentType = req.get('content-type');
    const received: ReceivedBody = {
      bytes: await readBody(req, limit),
      contentType,
      mediaType: mediaTypeOf(contentType),
    };
    try {
      return await reader.read(received, this.services);
    } catch (err) {
      throw err instanceof ZodError ? invalidInput('the request body is invalid', err) : err;
    }
  }
}

/** A client input's ZodError, in the words of this API: 400 and the fields it got wrong. */
function invalidInput(message: string, err: ZodError): AppError {
  return badRequest(
    'invalid_request',
    message,
    err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  );
}

/** Parses a client input: its ZodError is the client's 400, not one of ours. */
function clientInput<T>(message: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw err instanceof ZodError ? invalidInput(message, err) : err;
  }
}

/**
 * The reply for an error. A 4xx AppError says what the client did wrong, with its details. A
 * 5xx one keeps its stable code, but its message and details are ours (key names, paths,
 * causes): they go to the log (`request_failed`), never to the caller. Anything else, a
 * ZodError from our own data included, is a bare 500 `internal`.
 */
export function toErrorReply(err: unknown, requestId: string): Reply {
  if (err instanceof AppError && err.status < 500) {
    return {
      status: err.status,
      headers: err.headers,
      body: {
        error: {
          code: err.code,
          message: err.message,
          requestId,
          ...(err.details === undefined ? {} : { details: err.details }),
        },
      },
    };
  }
  if (err instanceof AppError) {
    return {
      status: err.status,
      headers: err.headers,
      body: { error: { code: err.code, message: 'internal error', requestId } },
    };
  }
  return {
    status: 500,
    body: { error: { code: 'internal', message: 'internal error', requestId } },
  };
}
