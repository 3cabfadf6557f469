/**
 * Signed webhooks on the local stack: endpoints registered through the API (private and
 * metadata addresses refused), extraction outcomes delivered by the notifier as signed POSTs to
 * an HTTP server in this test, failed attempts retried and every attempt recorded.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Firestore } from '@google-cloud/firestore';
import { parseConfig } from '../../functions/src/config';
import { createServices, type Services } from '../../functions/src/services';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { verifyWebhookSignature } from '../../functions/src/webhooks/signature';
import {
  callApi,
  eventually,
  LOG_CANARY,
  stack,
  waitForTerminal,
  withCanary,
  type ExtractionBody,
} from '../support/api';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

let services: Services;
let firestore: Firestore;

beforeAll(() => {
  services = createServices(parseConfig());
  firestore = new Firestore({ projectId: stack().projectId });
});

afterAll(async () => {
  await Promise.all([firestore.terminate(), services.close()]);
});

/** A receiver on 127.0.0.1 answering each POST with the next status in `statuses` (then 200). */
async function receiver(statuses: number[] = []) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses.shift() ?? 200;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}/hooks/provenant`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function newTenant() {
  const onboarded = await onboardTenant(services, {
    tenantId: `hook-${randomBytes(5).toString('hex')}`,
    name: 'Pipeline webhooks',
    providers: { primary: 'openai', fallback: null },
  });
  return { tenant: onboarded.tenant, apiKey: onboarded.apiKey.token };
}

async function register(apiKey: string, body: unknown) {
  return callApi('/v1/webhooks', { method: 'POST', key: apiKey, body });
}

async function extract(apiKey: string, text: string): Promise<ExtractionBody> {
  const created = await callApi('/v1/extractions', {
    method: 'POST',
    key: apiKey,
    body: { document: { contentType: 'text/plain', text }, schema: 'invoice' },
  });
  expect(created.status).toBe(202);
  return waitForTerminal((created.body as ExtractionBody).id, apiKey, 60_000);
}

const DOCUMENT = (marker: string) =>
  withCanary(`Vendor: Hookline Ltd\nInvoice No: ${marker}\nTotal: 42.00`);

async function deliveries(tenantId: string, extractionId: string) {
  const snap = await firestore
    .collection(`tenants/${tenantId}/webhookDeliveries`)
    .where('extractionId', '==', extractionId)
    .get();
  return snap.docs
    .map((d) => d.data() as { attempt: number; outcome: string; httpStatus: number | null })
    .sort((a, b) => a.attempt - b.attempt);
}

describe('registration', () => {
  it.each([
    'https://10.0.0.5/hook',
    'https://192.168.1.20/hook',
    'https://172.16.3.4/hook',
    'https://169.254.169.254/computeMetadata/v1/',
    'https://[::ffff:169.254.169.254]/',
    'https://[fd00::1]/',
    'https://100.64.1.1/',
    'https://0.0.0.0/',
    'https://metadata.google.internal/computeMetadata/v1/',
    'http://hooks.example.com/plaintext',
  ])('refuses %s with webhook_url_forbidden and stores nothing', async (url) => {
    const { apiKey } = await newTenant();
    const reply = await register(apiKey, { url });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: { code: 'webhook_url_forbidden' } });
    const list = await callApi('/v1/webhooks', { key: apiKey });
    expect(list.body).toEqual({ webhooks: [] });
  });

  it('shows the secret once, lists without it, stores it only sealed, deletes', async () => {
    const { tenant, apiKey } = await newTenant();
    const created = await register(apiKey, {
      url: 'http://127.0.0.1:9/never',
      events: ['extraction.failed'],
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const hook = created.body as { id: string; secret: string; events: string[] };
    expect(hook.secret).toMatch(/^whsec_/);
    expect(hook.events).toEqual(['extraction.failed']);
    const list = await callApi('/v1/webhooks', { key: apiKey });
    expect(JSON.stringify(list.body)).not.toContain(hook.secret);
    expect((list.body as { webhooks: { id: string }[] }).webhooks.map((w) => w.id)).toEqual([
      hook.id,
    ]);
    const stored = await firestore.doc(`tenants/${tenant.id}/webhooks/${hook.id}`).get();
    expect(stored.exists).toBe(true);
    expect(JSON.stringify(stored.data())).not.toContain(hook.secret.slice(6));

    const other = await newTenant();
    const foreign = await callApi(`/v1/webhooks/${hook.id}`, {
      method: 'DELETE',
      key: other.apiKey,
    });
    expect(foreign.status).toBe(404);
    const del = await callApi(`/v1/webhooks/${hook.id}`, { method: 'DELETE', key: apiKey });
    expect(del.status).toBe(204);
    // One rule for every DELETE (issue 18): repeated, it answers 204 again.
    const again = await callApi(`/v1/webhooks/${hook.id}`, { method: 'DELETE', key: apiKey });
    expect(again.status).toBe(204);
  });

  it('requires keys:admin', async () => {
    const { apiKey } = await newTenant();
    const limited = await callApi('/v1/api-keys', {
      method: 'POST',
      key: apiKey,
      body: { name: 'reader', scopes: ['extractions:read', 'extractions:write'] },
    });
    expect(limited.status).toBe(201);
    const token = (limited.body as { token: string }).token;
    const reply = await register(token, { url: 'http://127.0.0.1:9/x' });
    expect(reply.status).toBe(403);
    expect((await callApi('/v1/webhooks', { key: token })).status).toBe(403);
  });
});

describe('delivery', () => {
  it('POSTs a signed extraction.succeeded event without document content', async () => {
    const { tenant, apiKey } = await newTenant();
    const server = await receiver();
    try {
      const created = await register(apiKey, { url: server.url });
      expect(created.status).toBe(201);
      const { secret } = created.body as { secret: string };
      const marker = `pvn-hook-${randomBytes(6).toString('hex')}`;
      const done = await extract(apiKey, DOCUMENT(marker));
      expect(done.status).toBe('succeeded');
      const got = await eventually(() =>
        Promise.resolve(server.received.length > 0 ? server.received[0] : undefined),
      );
      const header = String(got.headers['provenant-signature']);
      expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifyWebhookSignature(secret, header, got.body)).toBe(true);
      expect(verifyWebhookSignature('whsec_wrong', header, got.body)).toBe(false);
      expect(verifyWebhookSignature(secret, header, got.body.replace('succeeded', 'failed'))).toBe(
        false,
      );
      const event = JSON.parse(got.body) as Record<string, unknown>;
      expect(event).toEqual({
        id: expect.stringMatching(/^evt_[0-9a-f]{32}$/) as string,
        type: 'extraction.succeeded',
        createdAt: expect.any(String) as string,
        data: { extractionId: done.id, status: 'succeeded', evidenceId: done.evidenceId },
      });
      expect(got.headers['provenant-event-id']).toBe(event.id);
      expect(got.headers['content-type']).toBe('application/json');
      expect(got.body).not.toContain(LOG_CANARY);
      expect(got.body).not.toContain(marker);
      expect(got.body).not.toContain('Hookline');
      const records = await eventually(async () => {
        const r = await deliveries(tenant.id, done.id);
        return r.length > 0 ? r : undefined;
      });
      expect(records).toEqual([
        expect.objectContaining({ attempt: 1, outcome: 'delivered', httpStatus: 200 }),
      ]);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('retries an endpoint that fails, records each attempt, and keeps the event id', async () => {
    const { tenant, apiKey } = await newTenant();
    const server = await receiver([503, 500]);
    try {
      const created = await register(apiKey, { url: server.url });
      const { secret } = created.body as { secret: string };
      const done = await extract(apiKey, DOCUMENT(`pvn-hook-${randomBytes(6).toString('hex')}`));
      const records = await eventually(async () => {
        const r = await deliveries(tenant.id, done.id);
        return r.some((d) => d.outcome === 'delivered') ? r : undefined;
      }, 45_000);
      expect(records.map((r) => `${r.outcome}:${String(r.httpStatus)}`)).toEqual([
        'http_error:503',
        'http_error:500',
        'delivered:200',
      ]);
      expect(server.received.map((r) => r.status)).toEqual([503, 500, 200]);
      const ids = new Set(server.received.map((r) => r.headers['provenant-event-id']));
      expect(ids.size).toBe(1);
      for (const r of server.received) {
        expect(
          verifyWebhookSignature(secret, String(r.headers['provenant-signature']), r.body),
        ).toBe(true);
      }
    } finally {
      await server.close();
    }
  }, 60_000);

  it('announces a failed extraction as extraction.failed', async () => {
    const { apiKey } = await newTenant();
    const server = await receiver();
    try {
      const created = await register(apiKey, { url: server.url, events: ['extraction.failed'] });
      expect(created.status).toBe(201);
      const marker = `pvn-hook-${randomBytes(6).toString('hex')}`;
      await fetch(`http://${stack().emulators.llm}/admin/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ fault: 'refusal', times: 1, match: marker }),
      });
      const done = await extract(apiKey, DOCUMENT(marker));
      expect(done.status).toBe('failed');
      const got = await eventually(() =>
        Promise.resolve(server.received.length > 0 ? server.received[0] : undefined),
      );
      expect(JSON.parse(got.body)).toMatchObject({
        type: 'extraction.failed',
        data: { extractionId: done.id, status: 'failed' },
      });
      expect(got.body).not.toContain('evidenceId');
    } finally {
      await server.close();
    }
  }, 60_000);
});
