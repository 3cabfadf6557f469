/**
 * Issue 10 finding 6 (part): only the client's inputs are validated as the client's. The router
 * runs on the functions framework's own server, as in production, with bodies taken over.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { z } from 'zod';
import { InternalError } from '../../functions/src/errors';
import { jsonObject } from '../../functions/src/http/body';
import { takeOverRequestBodies } from '../../functions/src/http/request-body';
import { route } from '../../functions/src/http/route';
import { Router } from '../../functions/src/http/router';
import type { Services } from '../../functions/src/services';

/** A row of ours as it might come back from storage, and the schema it no longer meets. */
const StoredRow = z.object({ secret: z.string(), tenantId: z.string() });

const ok = [{ status: 200, description: 'ok' }] as const;

const routes = [
  route({
    method: 'GET',
    pattern: '/stored',
    auth: 'none',
    summary: 'Reads a stored row that does not parse',
    ok,
    errors: [],
    handle: () => Promise.resolve({ status: 200, body: StoredRow.parse({ tenantId: 7 }) }),
  }),
  route({
    method: 'GET',
    pattern: '/listed',
    auth: 'none',
    query: z.strictObject({ limit: z.coerce.number().int().min(1) }),
    summary: 'Validates its query',
    ok,
    errors: [400],
    handle: ({ query }) => Promise.resolve({ status: 200, body: query }),
  }),
  route({
    method: 'POST',
    pattern: '/things',
    auth: 'none',
    body: jsonObject(z.strictObject({ name: z.string().min(1) })),
    summary: 'Validates its body',
    ok,
    errors: [400, 415],
    handle: ({ body }) => Promise.resolve({ status: 200, body }),
  }),
  route({
    method: 'GET',
    pattern: '/broken',
    auth: 'none',
    summary: 'Fails with an internal error that names our resources',
    ok,
    errors: [],
    handle: () => {
      throw new InternalError('kms_bad_version', 'keyRings/secret-ring is not a version of x');
    },
  }),
];

// Routes with `auth: 'none'` never touch the services.
const router = new Router({} as Services).add(...routes);
functions.http('routerProbe', router.handle);

let server: http.Server;
let port: number;
let stop: (() => void) | undefined;

beforeAll(async () => {
  stop = takeOverRequestBodies(['routerProbe'], ['--target=routerProbe'], {});
  server = getTestServer('routerProbe');
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  stop?.();
  server.close();
  await once(server, 'close');
});

async function call(method: string, path: string, body?: string) {
  const response = await fetch(`http://127.0.0.1:${String(port)}${path}`, {
    method,
    ...(body === undefined ? {} : { body, headers: { 'Content-Type': 'application/json' } }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    requestId: response.headers.get('x-request-id'),
    text,
    error: (JSON.parse(text) as { error?: Record<string, unknown> }).error,
  };
}

describe('finding 6 (part): internal validation errors surface as 400 with internal field paths', () => {
  it('a row of ours that does not parse is a 500 with no detail', async () => {
    const reply = await call('GET', '/stored');
    expect(reply.status).toBe(500);
    expect(reply.error).toEqual({
      code: 'internal',
      message: 'internal error',
      requestId: reply.requestId,
    });
    expect(reply.text).not.toMatch(/secret|tenantId|details/);
  });

  it("an internal error's message and cause stay in the log", async () => {
    const reply = await call('GET', '/broken');
    expect(reply.status).toBe(500);
    expect(reply.error).toEqual({
      code: 'kms_bad_version',
      message: 'internal error',
      requestId: reply.requestId,
    });
  });

  it("the client's query and body are the client's: 400 with the fields to fix", async () => {
    const query = await call('GET', '/listed?limit=none');
    expect(query.status).toBe(400);
    expect(query.error).toMatchObject({
      code: 'invalid_request',
      details: [expect.objectContaining({ path: 'limit' })],
    });
    const body = await call('POST', '/things', '{"name":""}');
    expect(body.status).toBe(400);
    expect(body.error).toMatchObject({
      code: 'invalid_request',
      message: 'the request body is invalid',
      details: [expect.objectContaining({ path: 'name' })],
    });
  });
});

describe('finding 1: a malformed JSON body gets the typed error body', () => {
  it.each([
    ['a truncated object', '{"name": "x",'],
    ['a bare word', 'nope'],
  ])('%s is a 400 invalid_json as JSON, quoting nothing', async (_, sent) => {
    const reply = await call('POST', '/things', sent);
    expect(reply.status).toBe(400);
    expect(reply.type).toMatch(/^application\/json/);
    expect(reply.error).toEqual({
      code: 'invalid_json',
      message: 'the request body is not valid JSON',
      requestId: reply.requestId,
    });
  });
});
