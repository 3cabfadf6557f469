/**
 * Issue 10 finding 1 at the seam it is fixed: the functions framework's own server (the same
 * `getServer`, body parsers included, that runs in Cloud Functions and in the local stack),
 * with our takeover installed. A body reaches our code unread, and is read only as the route's
 * limit allows.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import {
  readBody,
  restoreBodyHeaders,
  servedTarget,
  takeOverRequestBodies,
} from '../../functions/src/http/request-body';

const LIMIT = 1024;

/** What the probe function saw: the framework's parsed body, and what our reader returned. */
interface Seen {
  frameworkBody: string;
  length?: number;
  status?: number;
  code?: string;
}

functions.http('bodyProbe', async (req, res) => {
  restoreBodyHeaders(req);
  const seen: Seen = { frameworkBody: typeof req.body };
  try {
    seen.length = (await readBody(req, LIMIT)).length;
  } catch (err) {
    const { status, code } = err as { status: number; code: string };
    seen.status = status;
    seen.code = code;
  }
  res.json(seen);
});

let server: http.Server;
let port: number;
let stop: (() => void) | undefined;

beforeAll(async () => {
  stop = takeOverRequestBodies(['bodyProbe'], ['--target=bodyProbe'], {});
  server = getTestServer('bodyProbe');
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  stop?.();
  server.close();
  await once(server, 'close');
});

/** One POST; `chunks` sends that many 256-byte chunks, chunked, until the answer comes. */
function post(headers: Record<string, string>, body?: Buffer, chunks = 0): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const state = { answered: false };
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers });
    req.on('response', (res) => {
      state.answered = true;
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        resolve(JSON.parse(Buffer.concat(parts).toString('utf8')) as Seen);
      });
    });
    req.on('error', (err) => {
      if (!state.answered) reject(err);
    });
    if (chunks === 0) {
      req.end(body);
      return;
    }
    void (async () => {
      for (let i = 0; i < chunks && !state.answered; i++) {
        req.write(Buffer.alloc(256, 0x61));
        await new Promise((r) => setImmediate(r));
      }
      req.end();
    })();
  });
}

describe('finding 1: body bombs before authentication', () => {
  // Compressing 64 MiB is the test's own work, not the server's: it gets its own budget, so a
  // busy machine slows the set-up without failing the assertion that follows.
  let bomb: Buffer;
  beforeAll(() => {
    bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
  }, 60_000);

  it('the framework parses nothing: a gzip body is refused with 415, not one byte inflated', async () => {
    expect(
      await post({ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, bomb),
    ).toEqual({ frameworkBody: 'undefined', status: 415, code: 'unsupported_content_encoding' });
  });

  it.each([
    ['JSON', 'application/json', '{"a":1}'],
    ['text', 'text/plain', 'hello'],
    ['a form', 'application/x-www-form-urlencoded', 'a=1&b=2'],
    ['bytes', 'application/octet-stream', 'xyz'],
  ])('reads %s as sent, the framework having read none of it', async (_, type, text) => {
    expect(await post({ 'Content-Type': type }, Buffer.from(text))).toEqual({
      frameworkBody: 'undefined',
      length: Buffer.byteLength(text),
    });
  });

  it('answers 413 for a declared length past the limit, before reading', async () => {
    expect(
      await post({ 'Content-Type': 'application/json' }, Buffer.alloc(LIMIT + 1, 0x61)),
    ).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('answers 413 while reading a chunked body past the limit, and stops reading it', async () => {
    expect(await post({ 'Content-Type': 'application/json' }, undefined, 1000)).toMatchObject({
      status: 413,
      code: 'payload_too_large',
    });
    // The same server still answers: the refused body left nothing behind.
    expect(await post({ 'Content-Type': 'text/plain' }, Buffer.from('ok'))).toMatchObject({
      length: 2,
    });
  });

  it('reads an absent body as empty', async () => {
    expect(await post({})).toEqual({ frameworkBody: 'undefined', length: 0 });
  });
});

describe('idle connections', () => {
  it('outlive a client that reuses one late: the server keeps them past the front end (620 s)', async () => {
    // Node's 5 s default closed a pooled connection just as a busy test client reused it
    // ("other side closed", walking-skeleton, once in a loaded full run).
    await post({ 'content-type': 'application/json' }, Buffer.from('{}'));
    expect(server.keepAliveTimeout).toBeGreaterThanOrEqual(620_000);
  });
});

describe('whose bodies are taken over', () => {
  it.each([
    [['--target=api'], {}, 'api'],
    [['--target', 'ops', '--port=8081'], {}, 'ops'],
    [['--port=8080'], { FUNCTION_TARGET: 'api' }, 'api'],
    [['--target=extractWorker'], { FUNCTION_TARGET: 'api' }, 'extractWorker'],
    [[], {}, 'function'],
  ])('argv %j with env %j serves %s, as the framework reads it', (argv, env, target) => {
    expect(servedTarget(argv, env)).toBe(target);
  });

  it('leaves the framework its parsers in a process serving a CloudEvent function', () => {
    expect(takeOverRequestBodies(['api', 'ops'], ['--target=extractWorker'], {})).toBeUndefined();
  });
});
