/**
 * One declaration per route: its method and path, who may call it, what it reads (query,
 * headers, body), what it answers, and the handler. The router runs everything but the handler
 * in a fixed order (authenticate, check the scope, parse the query, the headers, the body), so a
 * handler only calls the domain and shapes the reply; the OpenAPI document is generated from the
 * same declarations, and a declaration without its documentation does not compile.
 */
import type { Request } from '@google-cloud/functions-framework';
import type { z } from 'zod';
import type { Actor } from '../evidence/actor';
import type { Services } from '../services';
import type { ApiKeyScope } from '../tenancy/platform';
import type { StaffMember } from '../tenancy/identity';
import type { AuthenticatedTenant, StaffNeed } from './auth';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route: `'none'` anyone; `{ scope }` a tenant's API key or ID token holding the
 * scope (every such request also spends the tenant's quota); `'operator'` a platform operator's
 * Firebase ID token (`platform_role: operator`); `'engineer'`, `'approver'` or `'staff'` (either)
 * a break-glass staff member's ID token (`access_roles`, see docs/access.md).
 */
export type RouteAuth = 'none' | 'operator' | StaffNeed | { readonly scope: ApiKeyScope };

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A request body as the router read it (`http/request-body.ts`), for a `BodyReader`. */
export interface ReceivedBody {
  /** The bytes as sent; never inflated (a Content-Encoding other than identity is a 415). */
  readonly bytes: Buffer;
  /** The Content-Type header as sent (a multipart boundary is one of its parameters). */
  readonly contentType: string | undefined;
  /** `type/subtype` of the Content-Type, lower case; undefined when absent or unparseable. */
  readonly mediaType: string | undefined;
}

/** How a route reads its body, and what the document's `requestBody` says about it. */
export interface BodyReader<T> {
  /** Media type → the schema of what may be sent as that type. */
  readonly content: Readonly<Record<string, z.ZodType>>;
  /** Whether a request must carry a body. */
  readonly required: boolean;
  /**
   * The most bytes the router reads (a 413 past it, counted while reading);
   * `DEFAULT_BODY_LIMIT` (1 MiB) when absent.
   */
  readonly maxBytes?: (services: Services) => number;
  /** A ZodError thrown here is the client's: a 400 `invalid_request` with its details. */
  read(body: ReceivedBody, services: Services): T | Promise<T>;
}

/** A request header a route reads; parsed after the query, before the body. */
export interface HeaderReader<T> {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
  /** What the document says a value looks like; `parse` is what enforces it. */
  readonly schema: z.ZodType;
  parse(value: string | undefined): T;
}

export interface OkResponse {
  readonly status: number;
  readonly description: string;
  /** The JSON body; none for an empty reply (204). */
  readonly schema?: z.ZodType;
}

/** `'/v1/api-keys/:keyId/rotate'` → `'keyId'`. */
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

export type PathParams<P extends string> = { readonly [K in ParamNames<P>]: string };

/** The caller of a route without authentication: nobody in particular, nothing to add. */
export type Anonymous = object;

/** The caller of an operator route. */
export interface Operator {
  /** The operator as evidence names a person: `{kind: 'user', id: uid}`. */
  actor: Actor;
}

/** The caller of a break-glass route. */
export interface Staff {
  /** The person as evidence names them: `{kind: 'user', id: uid}`. */
  actor: Actor;
  staff: StaffMember;
}

export type Caller<A extends RouteAuth> = A extends 'none'
  ? Anonymous
  : A extends 'operator'
    ? Operator
    : A extends StaffNeed
      ? Staff
      : AuthenticatedTenant;

type Parsed<Q> = Q extends z.ZodType ? z.output<Q> : undefined;
type Read<B> = B extends BodyReader<infer T> ? T : undefined;
type HeaderValues<H> = { readonly [K in keyof H]: H[K] extends HeaderReader<infer T> ? T : never };

type HeaderReaders = Readonly<Record<string, HeaderReader<unknown>>>;
type NoHeaders = Readonly<Record<string, never>>;

/** What a handler receives: the request, its parsed inputs and its authenticated caller. */
export type RouteContext<
  P extends string,
  A extends RouteAuth,
  Q extends z.ZodObject | undefined,
  H extends HeaderReaders,
  B extends BodyReader<unknown> | undefined,
> = {
  services: Services;
  req: Request;
  requestId: string;
  params: PathParams<P>;
  query: Parsed<Q>;
  headers: HeaderValues<H>;
  body: Read<B>;
} & Caller<A>;

export interface RouteDeclaration<
  P extends string,
  A extends RouteAuth,
  Q extends z.ZodObject | undefined,
  H extends HeaderReaders,
  B extends BodyReader<unknown> | undefined,
> {
  readonly method: Method;
  /** Literal segments and `:name` parameters; a literal segment wins over a parameter. */
  readonly pattern: P;
  readonly auth: A;
  readonly summary: string;
  /** Validates `req.query` (a 400 `invalid_request` when it does not match). */
  readonly query?: Q;
  readonly headers?: H;
  readonly body?: B;
  /** The success answers, at least one. */
  readonly ok: readonly [OkResponse, ...OkResponse[]];
  /** Error statuses besides 500 and those of `auth` (401/403; 429 too for a tenant's). */
  readonly errors: readonly number[];
  handle(ctx: RouteContext<P, A, Q, H, B>): Promise<Reply>;
}

export type AnyCaller = Anonymous | Operator | Staff | AuthenticatedTenant;

/** Everything a handler can be given, whatever its route declared. */
export type AnyRouteContext = {
  services: Services;
  req: Request;
  requestId: string;
  params: Readonly<Record<string, string>>;
  query: unknown;
  headers: Readonly<Record<string, unknown>>;
  body: unknown;
} & AnyCaller;

/** A declaration as the router and the document generator hold it. */
export interface Route {
  readonly method: Method;
  readonly pattern: string;
  readonly auth: RouteAuth;
  readonly summary: string;
  readonly query?: z.ZodObject;
  readonly headers?: HeaderReaders;
  readonly body?: BodyReader<unknown>;
  readonly ok: readonly OkResponse[];
  readonly errors: readonly number[];
  readonly handle: (ctx: AnyRouteContext) => Promise<Reply>;
}

/**
 * Declares a route. The types of `params`, `query`, `headers`, `body` and the caller in the
 * handler's context follow from the declaration; the router provides exactly those.
 */
export function route<
  const P extends string,
  const A extends RouteAuth,
  Q extends z.ZodObject | undefined = undefined,
  H extends HeaderReaders = NoHeaders,
  B extends BodyReader<unknown> | undefined = undefined,
>(declaration: RouteDeclaration<P, A, Q, H, B>): Route {
  // The router builds the context from these same fields, so it has the declared shape.
  return declaration as unknown as Route;
}
