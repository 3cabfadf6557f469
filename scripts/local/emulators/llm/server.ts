/**
 * A local stand-in for the OpenAI and Anthropic HTTP APIs that the official SDKs can point at.
 * It answers structured-output requests deterministically from the document text (see
 * `extract.ts`), reports dated model snapshots and token usage like the real services, and can
 * inject the failures adapters must survive (rate limits, outages, timeouts, broken output).
 *
 * Prompt and document content is never logged: fixtures may be copies of real customer files.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { RunningEmulator } from '../running';
import { messages } from './anthropic';
import { type Fault, FaultQueue, type FaultKind, parseFault } from './faults';
import { countInputTokens, countTokens, generate, limitOutput } from './generate';
import { findModel, listModels, type Provider, resolveModel } from './models';
import { chatCompletions, responses } from './openai';
import {
  type ApiErrorSpec,
  type Endpoint,
  errorResponse,
  isRecord,
  newId,
  type TokenUsage,
} from './protocol';

/** Where the emulator listens. */
export interface LlmEmulatorOptions {
  /** Interface to bind; defaults to `127.0.0.1`. */
  host?: string;
  /** Port to bind; `0` (the default) picks a free one. */
  port?: number;
}

/** Per-model counters reported by `GET /admin/usage`, keyed by the dated snapshot. */
export interface ModelUsage {
  /** Generation requests for the model, faulted ones included. */
  requests: number;
  /** Tokens of answered (HTTP 200) requests only, as the providers bill. */
  inputTokens: number;
  outputTokens: number;
}

/** Body of `GET /admin/usage`. */
export interface UsageReport {
  models: Record<string, ModelUsage>;
  /** How often each fault kind fired. */
  faults: Partial<Record<FaultKind, number>>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;
const STORED_RESPONSES_LIMIT = 1000;
// Model objects carry a creation time; a fixed one keeps listings byte-stable.
const MODELS_CREATED_AT = 1_700_000_000;
const FAULT_HEADER = 'x-emulator-fault';

class PayloadTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new PayloadTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function providerOf(req: IncomingMessage): Provider {
  return header(req, 'anthropic-version') === undefined ? 'openai' : 'anthropic';
}

function hasCredentials(req: IncomingMessage, provider: Provider): boolean {
  const bearer = /^Bearer\s+\S/i.test(header(req, 'authorization') ?? '');
  if (provider === 'openai') return bearer;
  return (header(req, 'x-api-key') ?? '').trim() !== '' || bearer;
}

function parseJsonObject(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The headers a 429 carries, as each API documents them. OpenAI: the `x-ratelimit-*` family
 * (https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers), resets as
 * durations, and no `retry-after`. Anthropic: `retry-after` in whole seconds and the
 * `anthropic-ratelimit-*` family, resets as RFC 3339 times
 * (https://docs.anthropic.com/en/api/rate-limits#response-headers). Neither sends the
 * `retry-after-ms` the SDKs also read.
 */
export function rateLimitHeaders(
  provider: Provider,
  seconds: number,
  now: Date = new Date(),
): Record<string, string> {
  if (provider === 'openai') {
    return {
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-limit-tokens': '200000',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-remaining-tokens': '199000',
      'x-ratelimit-reset-requests': `${String(seconds)}s`,
      'x-ratelimit-reset-tokens': '300ms',
    };
  }
  const reset = new Date(now.getTime() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const full = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    'retry-after': String(Math.ceil(seconds)),
    'anthropic-ratelimit-requests-limit': '50',
    'anthropic-ratelimit-requests-remaining': '0',
    'anthropic-ratelimit-requests-reset': reset,
    'anthropic-ratelimit-tokens-limit': '90000',
    'anthropic-ratelimit-tokens-remaining': '89000',
    'anthropic-ratelimit-tokens-reset': full,
    'anthropic-ratelimit-input-tokens-limit': '80000',
    'anthropic-ratelimit-input-tokens-remaining': '79000',
    'anthropic-ratelimit-input-tokens-reset': full,
    'anthropic-ratelimit-output-tokens-limit': '10000',
    'anthropic-ratelimit-output-tokens-remaining': '10000',
    'anthropic-ratelimit-output-tokens-reset': full,
  };
}

/** Mutable state of one emulator instance. */
class EmulatorState {
  readonly faults = new FaultQueue();
  readonly usage = new Map<string, ModelUsage>();
  readonly faultCounts = new Map<FaultKind, number>();
  readonly stored = new Map<string, Record<string, unknown>>();

  countRequest(snapshot: string): void {
    this.#model(snapshot).requests += 1;
  }

  countTokens(snapshot: string, usage: TokenUsage): void {
    const model = this.#model(snapshot);
    model.inputTokens += usage.input;
    model.outputTokens += usage.output;
  }

  countFault(kind: FaultKind): void {
    this.faultCounts.set(kind, (this.faultCounts.get(kind) ?? 0) + 1);
  }

  store(id: string, body: Record<string, unknown>): void {
    this.stored.set(id, body);
    // Oldest first: Map iteration follows insertion order.
    for (const key of this.stored.keys()) {
      if (this.stored.size <= STORED_RESPONSES_LIMIT) break;
      this.stored.delete(key);
    }
  }

  report(): UsageReport {
    return {
      models: Object.fromEntries([...this.usage].map(([model, usage]) => [model, { ...usage }])),
      faults: Object.fromEntries(this.faultCounts),
    };
  }

  reset(): void {
    this.faults.clear();
    this.usage.clear();
    this.faultCounts.clear();
    this.stored.clear();
  }

  #model(snapshot: string): ModelUsage {
    let usage = this.usage.get(snapshot);
    if (usage === undefined) {
      usage = { requests: 0, inputTokens: 0, outputTokens: 0 };
      this.usage.set(snapshot, usage);
    }
    return usage;
  }
}

/** One request in flight, with the provider-specific way to answer it. */
class Exchange {
  readonly requestId: string;
  readonly #started = Date.now();

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly provider: Provider,
  ) {
    this.requestId = provider === 'openai' ? newId('req_', 32) : newId('req_011C', 20);
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const base: Record<string, string> =
      this.provider === 'openai'
        ? {
            'x-request-id': this.requestId,
            'openai-version': '2020-10-01',
            'openai-processing-ms': String(Date.now() - this.#started),
          }
        : { 'request-id': this.requestId };
    return { ...base, ...extra };
  }

  ok(body: unknown): void {
    sendJson(this.res, 200, body, this.headers());
  }

  fail(error: ApiErrorSpec, extraHeaders: Record<string, string> = {}): void {
    const { status, body } = errorResponse(this.provider, error, this.requestId);
    sendJson(this.res, status, body, this.headers(extraHeaders));
  }
}

/**
 * Starts the emulator. Point clients at it with
 * `new OpenAI({ apiKey: 'test', baseURL: emulator.url + '/v1' })` and
 * `new Anthropic({ apiKey: 'test', baseURL: emulator.url })`.
 *
 * Besides the provider endpoints it serves `GET /healthz` and an admin API:
 * `POST /admin/faults` `{fault, times?, match?}` queues a fault for the next `times` requests
 * whose raw body contains `match`; `GET /admin/faults` lists the queue; `GET /admin/usage`
 * reports per-model and per-fault counts; `POST /admin/reset` clears faults and counters. A
 * request can also pick a fault itself with the `x-emulator-fault` header.
 */
export async function startLlmEmulator(options: LlmEmulatorOptions = {}): Promise<RunningEmulator> {
  const state = new EmulatorState();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function generation(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint) {
    const exchange = new Exchange(req, res, endpoint.provider);
    const { provider } = endpoint;
    if (!hasCredentials(req, provider)) {
      exchange.fail({
        kind: 'authentication',
        message:
          provider === 'openai'
            ? 'You did not provide an API key. Send it in the Authorization header as Bearer.'
            : 'x-api-key header is required',
      });
      return;
    }
    if (provider === 'anthropic' && header(req, 'anthropic-version') === undefined) {
      exchange.fail({ kind: 'invalid_request', message: 'anthropic-version: header is required' });
      return;
    }
    const raw = await readBody(req);
    const body = parseJsonObject(raw);
    if (body === undefined) {
      exchange.fail({
        kind: 'invalid_request',
        message: 'We could not parse the JSON body of your request.',
      });
      return;
    }
    const request = endpoint.parse(body);
    if ('kind' in request) {
      exchange.fail(request);
      return;
    }
    const model = findModel(provider, request.model);
    if (model === undefined) {
      exchange.fail({
        kind: 'model_not_found',
        message:
          provider === 'openai'
            ? `The model \`${request.model}\` does not exist or you do not have access to it.`
            : `model: ${request.model}`,
        param: 'model',
      });
      return;
    }
    const { snapshot } = model;
    const refused = endpoint.check(request, model);
    if (refused !== undefined) {
      exchange.fail(refused);
      return;
    }
    const requested = header(req, FAULT_HEADER);
    let fault: Fault | undefined;
    if (requested !== undefined) {
      fault = parseFault(requested);
      if (fault === undefined) {
        exchange.fail({
          kind: 'invalid_request',
          message: `Unknown ${FAULT_HEADER}: ${requested}`,
        });
        return;
      }
    } else {
      fault = state.faults.take(raw);
    }
    state.countRequest(snapshot);
    if (fault !== undefined) state.countFault(fault.kind);

    switch (fault?.kind) {
      case 'latency':
        await delay(fault.ms);
        break;
      case 'rate_limit': {
        exchange.fail(
          {
            kind: 'rate_limit',
            message:
              provider === 'openai'
                ? `Rate limit reached for ${snapshot} on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in ${String(fault.seconds)}s.`
                : 'This request would exceed the rate limit for your organization. Please try again later.',
          },
          rateLimitHeaders(provider, fault.seconds),
        );
        return;
      }
      case 'insufficient_quota':
        exchange.fail({
          kind: 'insufficient_quota',
          message:
            provider === 'openai'
              ? 'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.'
              : 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
        });
        return;
      case 'server_error':
        exchange.fail({
          kind: 'server_error',
          message:
            provider === 'openai'
              ? 'The server had an error while processing your request. Sorry about that!'
              : 'Internal server error',
        });
        return;
      case 'overloaded':
        exchange.fail({
          kind: 'overloaded',
          message:
            provider === 'openai'
              ? 'The engine is currently overloaded, please try again later.'
              : 'Overloaded',
        });
        return;
      case 'timeout':
        // Never answer: the client's own timeout fires, and close() destroys the socket.
        return;
      default:
        break;
    }
    if (res.destroyed) return;
    // The model writes at most its budget: the request's, else the model's own limit.
    const budget = endpoint.outputBudget(request) ?? model.maxOutputTokens;
    const generated = limitOutput(generate(request.prompt, request.spec, fault), budget);
    const usage = {
      input: countInputTokens(request.prompt),
      output: Math.min(countTokens(generated.text), budget),
    };
    const rendered = endpoint.render(request, snapshot, generated, usage);
    state.countTokens(snapshot, usage);
    if (request.store === true && typeof rendered.id === 'string') {
      state.store(rendered.id, rendered);
    }
    exchange.ok(rendered);
  }

  function listModelsResponse(req: IncomingMessage, res: ServerResponse, id?: string): void {
    const provider = providerOf(req);
    const exchange = new Exchange(req, res, provider);
    if (provider === 'openai') {
      const model = (name: string) => ({
        id: name,
        object: 'model',
        created: MODELS_CREATED_AT,
        owned_by: 'system',
      });
      if (id === undefined) {
        exchange.ok({ object: 'list', data: listModels('openai').map(model) });
      } else if (resolveModel('openai', id) !== undefined) {
        exchange.ok(model(id));
      } else {
        exchange.fail({
          kind: 'model_not_found',
          message: `The model '${id}' does not exist`,
          param: 'model',
        });
      }
      return;
    }
    const model = (name: string) => ({
      type: 'model',
      id: name,
      display_name: name,
      created_at: new Date(MODELS_CREATED_AT * 1000).toISOString(),
    });
    if (id === undefined) {
      const snapshots = [
        ...new Set(listModels('anthropic').map((name) => resolveModel('anthropic', name))),
      ]
        .filter((name): name is string => name !== undefined)
        .sort();
      exchange.ok({
        data: snapshots.map(model),
        has_more: false,
        first_id: snapshots[0] ?? null,
        last_id: snapshots[snapshots.length - 1] ?? null,
      });
      return;
    }
    const snapshot = resolveModel('anthropic', id);
    if (snapshot === undefined) exchange.fail({ kind: 'not_found', message: `model: ${id}` });
    else exchange.ok(model(snapshot));
  }

  async function admin(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    if (req.method === 'GET' && path === '/admin/usage') {
      sendJson(res, 200, state.report());
      return true;
    }
    if (req.method === 'GET' && path === '/admin/faults') {
      sendJson(res, 200, { faults: state.faults.list() });
      return true;
    }
    if (req.method === 'POST' && path === '/admin/reset') {
      await readBody(req);
      state.reset();
      sendJson(res, 200, { ok: true });
      return true;
    }
    if (req.method === 'POST' && path === '/admin/faults') {
      const body = parseJsonObject(await readBody(req));
      const fault = typeof body?.fault === 'string' ? body.fault : '';
      const times = body?.times ?? 1;
      const match = body?.match;
      if (parseFault(fault) === undefined) {
        sendJson(res, 400, { error: `unknown fault '${fault}'` });
      } else if (typeof times !== 'number' || !Number.isInteger(times) || times < 1) {
        sendJson(res, 400, { error: 'times must be a positive integer' });
      } else if (match !== undefined && (typeof match !== 'string' || match === '')) {
        sendJson(res, 400, { error: 'match must be a non-empty string' });
      } else {
        state.faults.add(fault, times, match);
        sendJson(res, 200, { queued: { fault, times, match: match ?? null } });
      }
      return true;
    }
    return false;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://emulator').pathname.replace(/\/+$/, '') || '/';
    if (req.method === 'GET' && path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (path.startsWith('/admin/') && (await admin(req, res, path))) return;
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      await generation(req, res, chatCompletions);
      return;
    }
    if (req.method === 'POST' && path === '/v1/responses') {
      await generation(req, res, responses);
      return;
    }
    if (req.method === 'POST' && path === '/v1/messages') {
      await generation(req, res, messages);
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      listModelsResponse(req, res);
      return;
    }
    const modelPath = /^\/v1\/models\/(.+)$/.exec(path);
    if (req.method === 'GET' && modelPath?.[1] !== undefined) {
      listModelsResponse(req, res, decodeURIComponent(modelPath[1]));
      return;
    }
    const responsePath = /^\/v1\/responses\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && responsePath?.[1] !== undefined) {
      const exchange = new Exchange(req, res, 'openai');
      const stored = state.stored.get(responsePath[1]);
      if (stored === undefined) {
        exchange.fail({
          kind: 'not_found',
          message: `Response with id '${responsePath[1]}' not found.`,
        });
      } else {
        exchange.ok(stored);
      }
      return;
    }
    new Exchange(req, res, providerOf(req)).fail({
      kind: 'not_found',
      message: `Unknown request URL: ${req.method ?? 'GET'} ${path}.`,
    });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof PayloadTooLarge) {
        sendJson(res, 413, { error: 'request body too large' });
        return;
      }
      // The cause stays out of the answer and the logs: its message could quote request content.
      sendJson(res, 500, {
        error: {
          message: 'emulator internal error',
          type: 'server_error',
          param: null,
          code: null,
        },
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = `${address.includes(':') ? `[${address}]` : address}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    host,
    url: `http://${host}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => {
          resolve();
        });
        // Held (timeout fault) and keep-alive connections would otherwise keep close() waiting.
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
