/**
 * A small router over the functions-framework request: exact method + path patterns, one catch
 * that maps every error to `{error: {code, message, requestId, details?}}`.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from '@google-cloud/functions-framework';
import { ZodError } from 'zod';
import { AppError } from '../errors';
import { errorFields, log } from '../logging';

export interface RouteContext {
  req: Request;
  params: Record<string, string>;
  requestId: string;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: RouteContext) => Promise<Reply>;

interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  keys: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: Handler): this {
    const keys: string[] = [];
    const source = pattern.replace(/:([a-zA-Z]+)/g, (_, key: string) => {
      keys.push(key);
      return '([^/]+)';
    });
    this.routes.push({ method, pattern, regex: new RegExp(`^${source}/?$`), keys, handler });
    return this;
  }

  /** Every method + pattern served, for the OpenAPI coverage test. */
  list(): { method: string; pattern: string }[] {
    return this.routes.map(({ method, pattern }) => ({ method, pattern }));
  }

  handle = async (req: Request, res: Response): Promise<void> => {
    const requestId = randomUUID();
    const started = Date.now();
    const path = (req.path || '/').replace(/\/{2,}/g, '/');
    let reply: Reply;
    let routePattern = 'unmatched';
    try {
      const candidates = this.routes
        .map((route) => ({ route, match: route.regex.exec(path) }))
        .filter((c) => c.match !== null);
      // A literal segment beats a parameter: /v1/evidence/checkpoints is not /v1/evidence/:id.
      const found = candidates
        .filter((c) => c.route.method === req.method)
        .sort((a, b) => a.route.keys.length - b.route.keys.length)[0];
      if (!found?.match) {
        throw candidates.length > 0
          ? new AppError(405, 'method_not_allowed', `${req.method} is not allowed here`)
          : new AppError(404, 'route_not_found', 'no such route');
      }
      routePattern = found.route.pattern;
      const params: Record<string, string> = {};
      found.route.keys.forEach((key, i) => {
        params[key] = decodeURIComponent(found.match?.[i + 1] ?? '');
      });
      reply = await found.route.handler({ req, params, requestId });
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
}

export function toErrorReply(err: unknown, requestId: string): Reply {
  if (err instanceof AppError) {
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
  if (err instanceof ZodError) {
    return {
      status: 400,
      body: {
        error: {
          code: 'invalid_request',
          message: 'the request body is invalid',
          requestId,
          details: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        },
      },
    };
  }
  return {
    status: 500,
    body: { error: { code: 'internal', message: 'internal error', requestId } },
  };
}
