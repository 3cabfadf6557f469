/**
 * Issue 10, findings 5 and 8, from the side of whoever can reach a push endpoint: the worker,
 * dead-letter worker, notifier and sealer are driven through the functions framework exactly
 * as Pub/Sub push drives them (a raw push body to /projects/P/topics/T), in this process, with
 * this process's services pointed at the running stack. This process is also "another
 * instance" of the worker: its key cache stays warm while the stack's `ops` offboards a tenant.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { parseConfig } from '../../functions/src/config';
import { setLogSink } from '../../functions/src/logging';
import { offboardTenant } from '../../functions/src/lifecycle/offboarding';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, getServices } from '../../functions/src/services';
import { Firestore } from '@google-cloud/firestore';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import { extractInvoice, stack, tenantKey } from '../support/api';

// Registers every function with the framework, as the deployed entry point does.
import '../../functions/src/index';

const run = randomBytes(4).toString('hex');
const servers: Server[] = [];

async function listen(name: string): Promise<string> {
  const server = getTestServer(name);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

/** A Pub/Sub push request as the emulator and the real service send it. */
async function push(
  url: string,
  data: unknown,
  attributes: Record<string, string> = {},
): Promise<number> {
  const raw = typeof data === 'string' ? data : JSON.stringify(data);
  const response = await fetch(`${url}/projects/${stack().projectId}/topics/t`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      message: {
        data: Buffer.from(raw).toString('base64'),
        messageId: `m-${randomBytes(6).toString('hex')}`,
        attributes,
      },
      subscription: `projects/${stack().projectId}/subscriptions/s`,
    }),
  });
  await response.text();
  return response.status;
}

const acked = (status: number) => status >= 200 && status < 300;

let worker: string;
let deadLetter: string;
let notifier: string;
let sealer: string;

beforeAll(async () => {
  [worker, deadLetter, notifier, sealer] = await Promise.all([
    listen('extractWorker'),
    listen('deadLetterWorker'),
    listen('notifier'),
    listen('sealer'),
  ]);
});

afterAll(async () => {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) =>
          s.close(() => {
            resolve();
          }),
        ),
    ),
  );
  await getServices().close();
});

describe('finding 5: push endpoints acknowledge what can never succeed', () => {
  const tenantId = () => tenantKey(0).id;
  const badIds = ['a/b', '..', 'x'.repeat(129), 'with space', 'ünïcode'];

  it.each(badIds)(
    'worker acknowledges an extraction id %p instead of failing forever',
    async (id) => {
      expect(acked(await push(worker, { tenantId: tenantId(), extractionId: id }))).toBe(true);
    },
  );

  it.each(badIds)('dead-letter worker acknowledges an extraction id %p', async (id) => {
    expect(acked(await push(deadLetter, { tenantId: tenantId(), extractionId: id }))).toBe(true);
  });

  it.each(badIds)('notifier acknowledges an extraction id %p', async (id) => {
    const message = { tenantId: tenantId(), extractionId: id, event: 'extraction.succeeded' };
    expect(acked(await push(notifier, message))).toBe(true);
  });

  it('worker acknowledges a tenant id with a slash', async () => {
    expect(acked(await push(worker, { tenantId: 'a/b', extractionId: 'ex_1' }))).toBe(true);
  });

  it('sealer refuses, logs and acknowledges a body that is not a seal request', async () => {
    const lines: Record<string, unknown>[] = [];
    const previous = setLogSink((line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    try {
      expect(acked(await push(sealer, 'not json'))).toBe(true);
      expect(acked(await push(sealer, { trigger: 'x', tenantId: '../all' }))).toBe(true);
    } finally {
      setLogSink(previous);
    }
    expect(lines.filter((l) => l.message === 'push_message_refused')).toEqual([
      expect.objectContaining({ function: 'sealer', reason: 'not_json' }),
      expect.objectContaining({ function: 'sealer', reason: 'malformed_message' }),
    ]);
    expect(lines.some((l) => l.message === 'seal_pass_completed')).toBe(false);
  });
});

describe('finding 8: after offboarding, no instance decrypts or calls a model for the tenant', () => {
  let tenant: TenantProfile;
  let extractionId: string;

  beforeAll(async () => {
    const services = getServices();
    const onboarded = await onboardTenant(services, {
      tenantId: `push-off-${run}`,
      name: 'Push off',
    });
    tenant = onboarded.tenant;
    extractionId = (await extractInvoice(onboarded.apiKey.token, 'Vendor: Push\nTotal: 3.00')).id;
  }, 60_000);

  it('a message still in flight after offboarding is dropped, and the warm key is zeroed', async () => {
    const services = getServices();
    // This instance unwrapped the tenant's key before the offboarding (a warm cache).
    const cached = await services.keys.wrappingKey(tenant);
    expect(cached.equals(Buffer.alloc(32))).toBe(false);

    // Another instance offboards (its own services, its own cache): KEK versions destroyed.
    const other = createServices(parseConfig({ ...process.env, SEAL_SAFETY_SECONDS: '0' }));
    try {
      await offboardTenant(other, tenant.id);
    } finally {
      await other.close();
    }

    // A delivery of the extraction arrives at this instance afterwards (redelivered, or
    // published just before): it must not be processed with the cached key.
    const firestore = new Firestore({ projectId: stack().projectId });
    const ref = firestore.doc(`tenants/${tenant.id}/extractions/${extractionId}`);
    const before = (await ref.get()).data() as Record<string, unknown>;
    await ref.update({ status: 'queued' });
    const evidenceBefore = (await firestore.collection(`tenants/${tenant.id}/evidence`).get()).size;

    expect(acked(await push(worker, { tenantId: tenant.id, extractionId }))).toBe(true);

    const after = (await ref.get()).data() as Record<string, unknown>;
    expect(after.status).toBe('queued');
    expect(after.evidenceId).toEqual(before.evidenceId);
    expect((await firestore.collection(`tenants/${tenant.id}/evidence`).get()).size).toBe(
      evidenceBefore,
    );
    // The cached wrapping key of the offboarded tenant is zeroed, not merely forgotten.
    expect(cached.equals(Buffer.alloc(32))).toBe(true);
    await firestore.terminate();
  }, 60_000);
});
