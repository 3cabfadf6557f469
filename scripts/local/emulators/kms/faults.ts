/**
 * Injected Cloud KMS outages for fault tests, the gRPC counterpart of the storage emulator's
 * hook (../storage/faults.ts). gRPC has no room for admin routes, so they are served by a small
 * HTTP listener of their own (its `host:port` is `emulators.kmsAdmin` in the stack file):
 * `POST /admin/faults` `{fault, times?, method?, match?}` makes the next `times` calls of
 * `method` (e.g. `Decrypt`, `Encrypt`, `AsymmetricSign`; any method when absent) whose resource
 * name contains `match` fail; `GET /admin/faults` lists what is queued; `POST /admin/reset`
 * clears it. With nothing queued the emulator serves every call exactly as before.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { status } from '@grpc/grpc-js';
import { KmsError } from './errors';

/**
 * `unavailable`: gRPC status UNAVAILABLE (14), "the service is currently unavailable ... most
 * likely a transient condition, which can be corrected by retrying with a backoff"
 * (https://cloud.google.com/kms/docs/reference/rpc/google.rpc#google.rpc.Code). The official
 * client retries it by itself for every method the platform calls (Encrypt, Decrypt,
 * AsymmetricSign, GetPublicKey are `idempotent`, whose retry codes are DEADLINE_EXCEEDED and
 * UNAVAILABLE, backoff from 100 ms ×1.3 for up to 600 s in total:
 * @google-cloud/kms build/src/v1/key_management_service_client_config.json).
 */
export const KMS_FAULTS = {
  unavailable: () => new KmsError(status.UNAVAILABLE, 'The service is currently unavailable.'),
} as const;
export type KmsFaultKind = keyof typeof KMS_FAULTS;

export interface QueuedKmsFault {
  fault: KmsFaultKind;
  remaining: number;
  method: string | undefined;
  match: string | undefined;
}

/** The resource a KMS or IAM request names: `name`, `resource` (IAM) or `parent` (create/list). */
function resourceOf(request: unknown): string {
  if (typeof request !== 'object' || request === null) return '';
  const r = request as { name?: unknown; resource?: unknown; parent?: unknown };
  for (const value of [r.name, r.resource, r.parent]) if (typeof value === 'string') return value;
  return '';
}

export class KmsFaults {
  readonly #queued: QueuedKmsFault[] = [];

  /** The error for this call, if a fault is queued for it (spending one use). */
  take(method: string, request: unknown): KmsError | undefined {
    if (this.#queued.length === 0) return undefined;
    const resource = resourceOf(request);
    const index = this.#queued.findIndex(
      (q) =>
        (q.method === undefined || q.method === method) &&
        (q.match === undefined || resource.includes(q.match)),
    );
    const queued = this.#queued[index];
    if (queued === undefined) return undefined;
    queued.remaining -= 1;
    if (queued.remaining <= 0) this.#queued.splice(index, 1);
    return KMS_FAULTS[queued.fault]();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = new URL(req.url ?? '/', 'http://kms-admin').pathname;
    if (req.method === 'GET' && path === '/admin/faults') {
      send(200, { faults: this.#queued.map((q) => ({ ...q })) });
      return;
    }
    if (req.method === 'POST' && path === '/admin/reset') {
      this.#queued.length = 0;
      send(200, { ok: true });
      return;
    }
    if (req.method !== 'POST' || path !== '/admin/faults') {
      send(404, { error: 'not an admin route' });
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: { fault?: unknown; times?: unknown; method?: unknown; match?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      send(400, { error: 'body must be JSON' });
      return;
    }
    const times = body.times ?? 1;
    if (
      typeof body.fault !== 'string' ||
      !(body.fault in KMS_FAULTS) ||
      typeof times !== 'number' ||
      !Number.isInteger(times) ||
      times < 1 ||
      (body.method !== undefined && typeof body.method !== 'string') ||
      (body.match !== undefined && typeof body.match !== 'string')
    ) {
      send(400, {
        error: `expected {fault: ${Object.keys(KMS_FAULTS).join('|')}, times?: positive integer, method?: string, match?: string}`,
      });
      return;
    }
    this.#queued.push({
      fault: body.fault as KmsFaultKind,
      remaining: times,
      method: body.method,
      match: body.match,
    });
    send(200, { queued: this.#queued.length });
  }

  /** Serves the admin routes on `host:port` (0 picks a free port). */
  async listen(host: string, port: number): Promise<{ server: Server; port: number }> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no admin port bound');
    return { server, port: address.port };
  }
}
