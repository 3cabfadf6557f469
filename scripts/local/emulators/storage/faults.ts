/**
 * Injected Cloud Storage outages for fault tests: `POST /admin/faults` `{fault, times?, match?}`
 * makes the next `times` requests whose decoded URL contains `match` fail the way Cloud Storage
 * fails when a backend is unavailable; `GET /admin/faults` lists what is queued; `POST
 * /admin/reset` clears it. Only the local stack exposes these routes (they are not the JSON API).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GcsError } from './errors';

/**
 * `unavailable`: HTTP 503, reason `backendError`, as the JSON API reports a transient backend
 * failure (https://cloud.google.com/storage/docs/json_api/v1/status-codes#503_Service_Unavailable).
 * `server_error`: HTTP 500, reason `backendError` (same page, 500 Internal Server Error). Both
 * are "retryable" per https://cloud.google.com/storage/docs/retry-strategy, which the official
 * client retries for idempotent (and precondition-guarded) operations. `latency:MS` holds the
 * request that long and then serves it: a slow backend, or a caller caught mid-write.
 */
export const STORAGE_FAULTS = {
  unavailable: () => new GcsError(503, 'backendError', 'Backend Error'),
  server_error: () => new GcsError(500, 'backendError', 'Backend Error'),
} as const;
export type StorageFaultKind = keyof typeof STORAGE_FAULTS;

/** What a queued fault does to the request it meets. */
export type StorageFault = { kind: 'error'; error: GcsError } | { kind: 'latency'; ms: number };

function parse(spec: string): StorageFault | undefined {
  const latency = /^latency:(\d{1,6})$/.exec(spec);
  if (latency) return { kind: 'latency', ms: Number(latency[1]) };
  return spec in STORAGE_FAULTS
    ? { kind: 'error', error: STORAGE_FAULTS[spec as StorageFaultKind]() }
    : undefined;
}

interface Queued {
  fault: string;
  remaining: number;
  match: string | undefined;
}

export class StorageFaults {
  readonly #queued: Queued[] = [];

  /** The fault for this request, if one is queued for it (spending one use). */
  take(req: IncomingMessage): StorageFault | undefined {
    let url = req.url ?? '';
    try {
      url = decodeURIComponent(url);
    } catch {
      // Matched as sent.
    }
    const index = this.#queued.findIndex((q) => q.match === undefined || url.includes(q.match));
    const queued = this.#queued[index];
    if (queued === undefined) return undefined;
    queued.remaining -= 1;
    if (queued.remaining <= 0) this.#queued.splice(index, 1);
    return parse(queued.fault);
  }

  /** Serves the admin routes; false when `path` is not one of them. */
  async admin(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && path === '/admin/faults') {
      send(200, { faults: this.#queued.map((q) => ({ ...q })) });
      return true;
    }
    if (req.method === 'POST' && path === '/admin/reset') {
      this.#queued.length = 0;
      send(200, { ok: true });
      return true;
    }
    if (req.method === 'POST' && path === '/admin/faults') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      let body: { fault?: unknown; times?: unknown; match?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        send(400, { error: 'body must be JSON' });
        return true;
      }
      const times = body.times ?? 1;
      if (
        typeof body.fault !== 'string' ||
        parse(body.fault) === undefined ||
        typeof times !== 'number' ||
        !Number.isInteger(times) ||
        times < 1 ||
        (body.match !== undefined && typeof body.match !== 'string')
      ) {
        send(400, {
          error: `expected {fault: ${Object.keys(STORAGE_FAULTS).join('|')}|latency:MS, times?: positive integer, match?: string}`,
        });
        return true;
      }
      this.#queued.push({
        fault: body.fault,
        remaining: times,
        match: body.match,
      });
      send(200, { queued: this.#queued.length });
      return true;
    }
    return false;
  }
}
