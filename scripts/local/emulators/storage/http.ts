import type { IncomingMessage, ServerResponse } from 'node:http';
import { GcsError, invalid, parseError } from './errors';
import type { Store } from './store';

/**
 * Upper bound on one buffered request body. Uploads are held in memory while they are checked
 * and hashed; a local emulator has no business receiving more than this in one request.
 */
export const MAX_BODY_BYTES = 512 * 1024 * 1024;

/** What every handler gets: the parsed request plus the shared state. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  query: URLSearchParams;
  /** `http://host:port` as the client addressed us, for `selfLink`, `mediaLink` and session URIs. */
  baseUrl: string;
  store: Store;
  body(): Promise<Buffer>;
}

/** Buffers the request body, refusing anything over {@link MAX_BODY_BYTES}. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_BODY_BYTES)
      throw new GcsError(413, 'uploadTooLarge', `Request body exceeds ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** Parses a JSON body; an empty body counts as `{}` (resumable initiations may send none). */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw parseError();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw parseError('Request body must be a JSON object.');
  return value as Record<string, unknown>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  const body = Buffer.from(JSON.stringify(payload));
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': body.length,
    ...headers,
  });
  res.end(body);
}

export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Length': 0, ...headers });
  res.end();
}

export function sendError(res: ServerResponse, error: GcsError): void {
  // 304 must not carry a body (RFC 9110); the client only looks at the status.
  if (error.status === 304) sendEmpty(res, 304);
  else sendJson(res, error.status, error.toJSON());
}

/** Reads a boolean query flag the way the JSON API spells it (`true` / `false`). */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === 'false') return false;
  if (value === 'true') return true;
  throw invalid(`Invalid value for ${name}: ${value}`);
}

/** Conditional-request parameters shared by bucket and object methods. */
export interface Preconditions {
  ifGenerationMatch?: string;
  ifGenerationNotMatch?: string;
  ifMetagenerationMatch?: string;
  ifMetagenerationNotMatch?: string;
}

const PRECONDITION_NAMES = [
  'ifGenerationMatch',
  'ifGenerationNotMatch',
  'ifMetagenerationMatch',
  'ifMetagenerationNotMatch',
] as const;

/** Reads the `if*Match` parameters, normalising numbers (`007` and `7` are the same generation). */
export function readPreconditions(query: URLSearchParams): Preconditions {
  const result: Preconditions = {};
  for (const name of PRECONDITION_NAMES) {
    const value = query.get(name);
    if (value === null) continue;
    if (!/^\d+$/.test(value)) throw invalid(`Invalid value for ${name}: ${value}`);
    result[name] = BigInt(value).toString();
  }
  return result;
}
