import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningEmulator } from '../running';
import {
  deleteBucket,
  getBucket,
  insertBucket,
  listBuckets,
  lockRetentionPolicy,
  patchBucket,
} from './buckets';
import { GcsError, invalid, notImplemented } from './errors';
import { type RequestContext, readBody, sendError } from './http';
import { deleteObject, getObject, listObjects, patchObject } from './objects';
import { StorageFaults } from './faults';
import { Store } from './store';
import { UploadSessions } from './uploads';

/** Where and how to run the Cloud Storage emulator. */
export interface StorageEmulatorOptions {
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** Port to bind; `0` (the default) picks a free one. */
  port?: number;
  /** Folder holding buckets, object metadata and object bytes; survives restarts. */
  dataDir: string;
}

/** Splits the raw path into decoded segments; `%2F` inside an object name stays one segment. */
function pathSegments(pathname: string): string[] {
  try {
    return pathname
      .split('/')
      .filter((segment) => segment !== '')
      .map((segment) => decodeURIComponent(segment));
  } catch {
    throw invalid('Malformed percent-encoding in the request path.');
  }
}

type Handler = () => void | Promise<void>;
/** Handlers of one resource, by HTTP method. */
type Methods = Partial<Record<string, Handler>>;

/**
 * Maps a path to the handlers of the resource it names. Object names arrive percent-encoded as
 * one path segment (the client encodes `/` as `%2F`), which is what tells an object name apart
 * from a sub-resource such as `.../o/NAME/compose`.
 */
function resolve(
  ctx: RequestContext,
  segments: string[],
  uploads: UploadSessions,
): Methods | undefined {
  const under = (...prefix: string[]): string[] | undefined =>
    prefix.every((segment, i) => segments[i] === segment)
      ? segments.slice(prefix.length)
      : undefined;

  const upload = under('upload', 'storage', 'v1', 'b');
  if (upload) {
    const [bucket, sub, ...rest] = upload;
    if (bucket === undefined || sub !== 'o' || rest.length > 0) return undefined;
    return {
      POST: () => uploads.start(ctx, bucket),
      PUT: () => uploads.put(ctx, bucket),
      DELETE: () => {
        uploads.cancel(ctx, bucket);
      },
    };
  }

  const download = under('download', 'storage', 'v1', 'b');
  if (download) {
    const [bucket, sub, object, ...rest] = download;
    if (bucket === undefined || sub !== 'o' || object === undefined || rest.length > 0)
      return undefined;
    return {
      GET: () => {
        ctx.query.set('alt', 'media');
        getObject(ctx, bucket, object);
      },
    };
  }

  const api = under('storage', 'v1', 'b');
  if (!api) return undefined;
  const [bucket, sub, object, ...rest] = api;
  if (bucket === undefined) {
    return {
      GET: () => {
        listBuckets(ctx);
      },
      POST: () => insertBucket(ctx),
    };
  }
  if (sub === undefined) {
    return {
      GET: () => {
        getBucket(ctx, bucket);
      },
      PATCH: () => patchBucket(ctx, bucket),
      DELETE: () => {
        deleteBucket(ctx, bucket, (name) => {
          uploads.dropBucket(name);
        });
      },
    };
  }
  if (sub === 'lockRetentionPolicy' && object === undefined) {
    return {
      POST: () => {
        lockRetentionPolicy(ctx, bucket);
      },
    };
  }
  if (sub !== 'o' || rest.length > 0) return undefined;
  if (object === undefined) {
    return {
      GET: () => {
        listObjects(ctx, bucket);
      },
    };
  }
  return {
    GET: () => {
      getObject(ctx, bucket, object);
    },
    PATCH: () => patchObject(ctx, bucket, object),
    DELETE: () => {
      deleteObject(ctx, bucket, object);
    },
  };
}

async function route(
  ctx: RequestContext,
  pathname: string,
  uploads: UploadSessions,
): Promise<void> {
  const handler = resolve(ctx, pathSegments(pathname), uploads)?.[ctx.method];
  if (!handler) throw notImplemented(`${ctx.method} ${pathname}`);
  await handler();
}

function internalError(error: unknown): GcsError {
  // Details go to stderr for whoever runs the stack; object contents never appear in them.
  process.stderr.write(
    `storage emulator: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return new GcsError(500, 'backendError', 'Internal error in the local Cloud Storage emulator.');
}

/**
 * Starts a Cloud Storage JSON API emulator that `@google-cloud/storage` talks to unchanged via
 * `new Storage({ apiEndpoint: emulator.url, projectId })`. State persists under `dataDir`.
 */
export async function startStorageEmulator(
  options: StorageEmulatorOptions,
): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  const store = Store.open(options.dataDir);
  const uploads = new UploadSessions();
  let fallbackBaseUrl = `http://${host}`;
  const faults = new StorageFaults();

  const server = http.createServer((req, res) => {
    let bodyPromise: Promise<Buffer> | undefined;
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const ctx: RequestContext = {
      req,
      res,
      method: req.method ?? 'GET',
      query: url.searchParams,
      baseUrl: req.headers.host ? `http://${req.headers.host}` : fallbackBaseUrl,
      store,
      body: () => (bodyPromise ??= readBody(req)),
    };
    // Swallowed here because the handler's own await on the body reports it.
    req.on('error', () => undefined);
    if (url.pathname.startsWith('/admin/')) {
      void faults.admin(req, res, url.pathname).then((served) => {
        if (!served) sendError(res, notImplemented(`${ctx.method} ${url.pathname}`));
      });
      return;
    }
    const fault = faults.take(req);
    const handled =
      fault?.kind === 'error'
        ? Promise.reject(fault.error)
        : fault?.kind === 'latency'
          ? sleep(fault.ms).then(() => route(ctx, url.pathname, uploads))
          : route(ctx, url.pathname, uploads);
    handled
      .catch((error: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendError(res, error instanceof GcsError ? error : internalError(error));
      })
      .finally(() => {
        // Drain an unread body so keep-alive connections stay usable after an early error.
        if (!bodyPromise && !req.complete) req.resume();
      });
  });
  // Clients keep sockets alive; a malformed request on one must not take the server down.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  fallbackBaseUrl = `http://${host}:${port}`;
  return {
    host: `${host}:${port}`,
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}
