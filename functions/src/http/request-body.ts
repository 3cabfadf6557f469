/**
 * Request bodies of the HTTP functions (`api`, `ops`), read by us and not by the functions
 * framework, so that no request costs more than its route allows, and an unauthenticated one
 * costs no body at all.
 *
 * Why: the framework (functions-framework 5.0.5, `build/src/server.js` `getServer`) puts
 * body-parser's json, text, urlencoded and raw (`type: '*\/*'`) parsers in front of every
 * function, each with `limit: '1024mb'` and body-parser's default `inflate: true`. Before any
 * of our code runs, a request may make the process inflate gzip, deflate, br or zstd up to
 * 1 GiB into memory (body-parser 2 `lib/read.js`: the limit counts inflated bytes) and then
 * decode it to a string: a 1 MB gzip of zeros cost 2 GiB. Cloud Run's 32 MiB request limit
 * counts the bytes as sent, not what they inflate to. The framework has no option to skip its
 * parsers (`build/src/options.ts`: port, target, signature type, source, timeout, ignored
 * routes, execution id), in production or locally.
 *
 * How: body-parser leaves a request alone when it has no body, which it decides from the
 * headers alone (`read.js` → type-is `hasBody`: a Transfer-Encoding header or a numeric
 * Content-Length). In a process serving one of our HTTP functions, every request's
 * Content-Length and Transfer-Encoding are set aside as it arrives, before the framework's
 * Express app sees it: Node publishes `http.server.request.start` on `node:diagnostics_channel`
 * synchronously, just before the server emits 'request' (`lib/_http_server.js`
 * `parserOnIncoming`). The parsers then skip every request and leave its stream unread; the
 * router puts the headers back before anything else and reads the body itself, after
 * authentication, under the route's limit counted while reading, with no Content-Encoding but
 * identity. Node's HTTP parser frames the body from the raw bytes, so the parsed header copies
 * set aside change nothing on the wire. A body never read (an unauthenticated request, a route
 * without one, a refusal) is discarded by Node when the response ends (`resOnFinish` →
 * `req._dump()`), at no memory cost. The same framework and Node run in Cloud Functions gen2
 * and in the local stack, so both behave alike.
 *
 * Node documents its built-in diagnostics channels as experimental. Should one stop firing, the
 * framework would parse bodies again, and `readBody` refuses them (a 500 on every route with a
 * body) rather than use what it read; the unit tests run the framework's own server and the
 * e2e test `hardening-bombs` the deployed one, so an upgrade that changes either fails there.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';
import { parseArgs } from 'node:util';
import { AppError, InternalError, payloadTooLarge } from '../errors';

/** What a route reads when it declares no limit of its own. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

const BODY_HEADERS = ['content-length', 'transfer-encoding'] as const;
type BodyHeaders = Partial<Record<(typeof BODY_HEADERS)[number], string>>;

/** Requests whose body headers were set aside, until the router puts them back. */
const setAside = new WeakMap<IncomingMessage, BodyHeaders>();
/** Requests whose body the framework never read: only these can be read here. */
const unread = new WeakSet<IncomingMessage>();

/**
 * The function this process serves, as the framework decides it (`options.ts`: the `--target`
 * flag, else `FUNCTION_TARGET`, which Cloud Functions sets, else `function`).
 */
export function servedTarget(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): string {
  const { values } = parseArgs({
    args: [...argv],
    options: { target: { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const flag = values.target;
  return typeof flag === 'string' ? flag : (env.FUNCTION_TARGET ?? 'function');
}

/**
 * How long the server keeps an idle client connection open. Node's default (5 s) races any
 * client that reuses a pooled connection: when the client's own idle timer runs late (its event
 * loop busy), it writes a request onto a socket the server has just closed and fails with
 * "other side closed", with nothing logged here. Google's load balancers keep backend
 * connections idle for up to 600 s and ask backends to wait longer than that (620 s), so the
 * server never closes first.
 */
const KEEP_ALIVE_MS = 620_000;

function setBodyAside(message: unknown): void {
  const server = (message as { server?: Server }).server;
  if (server && server.keepAliveTimeout < KEEP_ALIVE_MS) server.keepAliveTimeout = KEEP_ALIVE_MS;
  const request = (message as { request?: IncomingMessage }).request;
  // Once per request, whoever subscribed how often.
  if (!request || setAside.has(request)) return;
  const held: BodyHeaders = {};
  for (const name of BODY_HEADERS) {
    const value = request.headers[name];
    if (value === undefined) continue;
    held[name] = value;
    // The cached parsed headers object; rawHeaders and the wire are untouched.
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
    delete request.headers[name];
  }
  setAside.set(request, held);
}

/**
 * In a process that serves one of `httpFunctions`, keeps every request body from the
 * framework's parsers (see the file comment). Call once at cold start, before the first
 * request; the other functions (Pub/Sub pushes as CloudEvents) keep the framework's parsing.
 * Returns how to stop (the subscription is process-wide), or undefined when this process
 * serves no HTTP function of ours.
 */
export function takeOverRequestBodies(
  httpFunctions: readonly string[],
  argv?: readonly string[],
  env?: NodeJS.ProcessEnv,
): (() => void) | undefined {
  if (!httpFunctions.includes(servedTarget(argv, env))) return undefined;
  subscribe('http.server.request.start', setBodyAside);
  return () => {
    unsubscribe('http.server.request.start', setBodyAside);
  };
}

/** Puts back the headers set aside, so the request reads as sent; first thing per request. */
export function restoreBodyHeaders(req: IncomingMessage): void {
  const held = setAside.get(req);
  if (!held) return;
  setAside.delete(req);
  Object.assign(req.headers, held);
  unread.add(req);
}

/** Reads no more of the body: Node discards what is left as it arrives, keeping none of it. */
function discard(req: IncomingMessage): void {
  req.removeAllListeners('data');
  req.resume();
}

/**
 * The body as sent, at most `maxBytes`: 415 for any Content-Encoding but identity (nothing is
 * inflated, so a body costs what it weighs), 413 as soon as the declared length or the bytes
 * received pass the limit, with or without Content-Length.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  if (!unread.has(req)) {
    // The framework's parsers had this body: fail closed rather than use what they read.
    return Promise.reject(
      new InternalError('request_body_unavailable', 'internal error', new Error('not taken over')),
    );
  }
  unread.delete(req);
  const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    return Promise.reject(
      new AppError(
        415,
        'unsupported_content_encoding',
        'send the body without Content-Encoding (compressed bodies are not accepted)',
      ),
    );
  }
  const tooLarge = () => payloadTooLarge(`the request body exceeds ${String(maxBytes)} bytes`);
  const declared = req.headers['content-length'];
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) {
    return Promise.resolve(Buffer.alloc(0));
  }
  if (declared !== undefined && Number(declared) > maxBytes) {
    discard(req);
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (outcome: () => void) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        finish(() => {
          chunks.length = 0;
          discard(req);
          reject(tooLarge());
        });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      finish(() => {
        resolve(Buffer.concat(chunks, received));
      });
    };
    const ended = () =>
      new AppError(400, 'incomplete_body', 'the request body ended before its declared end');
    const onError = () => {
      finish(() => {
        reject(ended());
      });
    };
    const onClose = () => {
      finish(() => {
        reject(ended());
      });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
