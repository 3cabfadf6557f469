/**
 * Issue 10, the notifier and webhook endpoints from an attacker's side: finding 6 (a webhook
 * row that does not parse stalls every delivery), finding 8 (an offboarded tenant's events are
 * still sent), finding 11 (the endpoint limit can be raced; a slow endpoint holds the notifier).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Firestore } from '@google-cloud/firestore';
import { parseConfig } from '../../functions/src/config';
import { offboardTenant } from '../../functions/src/lifecycle/offboarding';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, type Services } from '../../functions/src/services';
import { deliverNotification, postSigned } from '../../functions/src/webhooks/notifier';
import { listWebhooks, MAX_WEBHOOKS_PER_TENANT } from '../../functions/src/webhooks/store';
import { callApi, eventually, extractInvoice, stack } from '../support/api';

let services: Services;
let firestore: Firestore;
const servers: Server[] = [];

beforeAll(() => {
  services = createServices(parseConfig({ ...process.env, SEAL_SAFETY_SECONDS: '0' }));
  firestore = new Firestore({ projectId: stack().projectId });
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await Promise.all([firestore.terminate(), services.close()]);
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hook`;
}

async function newTenant(name: string) {
  const { tenant, apiKey } = await onboardTenant(services, {
    tenantId: `${name}-${randomBytes(4).toString('hex')}`,
    name,
  });
  return { tenant, key: apiKey.token };
}

describe('finding 6: a webhook row written around the API does not stall deliveries', () => {
  it('skips a row without a secret, and the listing and deliveries go on', async () => {
    const { tenant, key } = await newTenant('hook-row');
    const received: string[] = [];
    const url = await listen((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(req.url ?? '');
        res.writeHead(200).end();
      });
    });
    expect(
      (
        await callApi('/v1/webhooks', {
          method: 'POST',
          key,
          body: { url, events: ['extraction.succeeded'] },
        })
      ).status,
    ).toBe(201);
    // What a browser client could write through the rules before: no secret, no createdBy.
    await firestore
      .doc(`tenants/${tenant.id}/webhooks/wh_forged`)
      .set({ url, events: ['extraction.succeeded'], tenantId: tenant.id });

    expect((await listWebhooks(services, tenant)).map((w) => w.id)).not.toContain('wh_forged');
    const listed = await callApi('/v1/webhooks', { key });
    expect(listed.status).toBe(200);
    const done = await extractInvoice(key, 'Vendor: Hook\nTotal: 1.00');
    // The stack's notifier and this call race to deliver the one event: between them it is
    // delivered once, and neither stalls on the forged row (which made listWebhooks throw).
    const counts = await deliverNotification(services, {
      tenantId: tenant.id,
      extractionId: done.id,
      event: 'extraction.succeeded',
    });
    expect(counts.delivered + counts.skipped).toBe(1);
    await eventually(() => Promise.resolve(received.length >= 1 ? true : undefined));
  }, 60_000);
});

describe('finding 8: after offboarding, nothing of the tenant is sent anywhere', () => {
  it('drops a notification of an offboarded tenant', async () => {
    const { tenant, key } = await newTenant('hook-off');
    let posts = 0;
    const url = await listen((req, res) => {
      req.resume();
      req.on('end', () => {
        posts++;
        res.writeHead(200).end();
      });
    });
    await callApi('/v1/webhooks', {
      method: 'POST',
      key,
      body: { url, events: ['extraction.succeeded'] },
    });
    const done = await extractInvoice(key, 'Vendor: Off hook\nTotal: 1.00');
    // The stack's notifier delivers the event while the tenant is active; only then offboard,
    // so no delivery in flight can land after the count below.
    await eventually(() => Promise.resolve(posts >= 1 ? true : undefined));
    await offboardTenant(services, tenant.id);
    const before = posts;
    const counts = await deliverNotification(services, {
      tenantId: tenant.id,
      extractionId: done.id,
      event: 'extraction.succeeded',
    });
    expect(counts.delivered).toBe(0);
    expect(posts).toBe(before);
  }, 90_000);
});

describe('finding 11: webhook limits', () => {
  it('concurrent registrations never leave more than the limit', async () => {
    const { tenant, key } = await newTenant('hook-race');
    const url = await listen((_req, res) => res.writeHead(200).end());
    for (let i = 0; i < MAX_WEBHOOKS_PER_TENANT - 2; i++) {
      const reply = await callApi('/v1/webhooks', {
        method: 'POST',
        key,
        body: { url: `${url}?n=${String(i)}`, events: ['extraction.succeeded'] },
      });
      expect(reply.status).toBe(201);
    }
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        callApi('/v1/webhooks', {
          method: 'POST',
          key,
          body: { url: `${url}?race=${String(i)}`, events: ['extraction.succeeded'] },
        }),
      ),
    );
    const stored = await firestore.collection(`tenants/${tenant.id}/webhooks`).get();
    expect(stored.size).toBe(MAX_WEBHOOKS_PER_TENANT);
    expect(replies.filter((r) => r.status === 201)).toHaveLength(2);
    for (const r of replies.filter((x) => x.status !== 201))
      expect(r.body).toMatchObject({ error: { code: 'webhook_limit' } });
  }, 60_000);

  it('a slow endpoint trickling its answer is cut at the delivery deadline', async () => {
    // Sends a byte every 100 ms for 3 s: never idle for the idle timeout, but far past the
    // total deadline of one delivery.
    const url = await listen((req, res) => {
      req.resume();
      res.writeHead(200);
      let n = 0;
      const timer = setInterval(() => {
        res.write('.');
        if (++n === 30) {
          clearInterval(timer);
          res.end();
        }
      }, 100);
      res.on('close', () => {
        clearInterval(timer);
      });
    });
    const result = await postSigned(
      url,
      '{}',
      {},
      {
        policy: { allowLoopback: true },
        timeoutMs: 500,
      },
    );
    expect(result.outcome).toBe('timeout');
  });
});

describe('issue 18: deleting twice answers the same everywhere', () => {
  it('a webhook, an API key and an erasure: 204 and 204 again; an id never the tenant’s: 404', async () => {
    const { key } = await newTenant('delete-twice');
    const url = await listen((_req, res) => {
      res.writeHead(200).end();
    });
    const hook = await callApi('/v1/webhooks', {
      method: 'POST',
      key,
      body: { url, events: ['extraction.succeeded'] },
    });
    const hookId = (hook.body as { id: string }).id;
    const apiKey = await callApi('/v1/api-keys', {
      method: 'POST',
      key,
      body: { name: 'to delete', scopes: ['extractions:read'] },
    });
    const keyId = (apiKey.body as { keyId: string }).keyId;
    const done = await extractInvoice(key, 'Vendor: Twice\nTotal: 1.00');
    for (const path of [
      `/v1/webhooks/${hookId}`,
      `/v1/api-keys/${keyId}`,
      `/v1/extractions/${done.id}`,
    ]) {
      const first = await callApi(path, { method: 'DELETE', key });
      const second = await callApi(path, { method: 'DELETE', key });
      expect({ path, first: first.status, second: second.status }).toEqual({
        path,
        first: 204,
        second: 204,
      });
    }
    for (const path of [
      '/v1/webhooks/wh_never',
      '/v1/api-keys/0000000000000000',
      '/v1/extractions/ex_never',
    ]) {
      expect({ path, status: (await callApi(path, { method: 'DELETE', key })).status }).toEqual({
        path,
        status: 404,
      });
    }
    // The deleted endpoint is gone from the listing, and its secret from the database.
    const listed = await callApi('/v1/webhooks', { key });
    expect(JSON.stringify(listed.body)).not.toContain(hookId);
  }, 60_000);
});
