/**
 * Issue 16: Pub/Sub delivers at least once, in no promised order, sometimes late
 * (https://cloud.google.com/pubsub/docs/exactly-once-delivery, "at-least-once" by default;
 * https://cloud.google.com/pubsub/docs/ordering: without ordering keys, any order). The same
 * extraction message pushed again, messages pushed in reverse order, and a duplicate arriving
 * long after the extraction ended all leave exactly one outcome and one evidence record each.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  expectBooksBalanced,
  llmFault,
  pushToWorker,
  resilienceTenant,
  submit,
  terminal,
} from '../support/resilience';

jest.setTimeout(240_000);

it('duplicated, reordered and late deliveries of extraction messages: each extraction ends once with one evidence record', async () => {
  const { tenantId, apiKey } = await resilienceTenant('delivery');
  const marker = `pvn-delivery-${randomBytes(6).toString('hex')}`;
  // Model calls take 2 s, so the duplicates below overlap the stack's own delivery.
  await llmFault('latency:2000', 12, marker);
  const first = await submit(apiKey, `${marker}-1`);
  const second = await submit(apiKey, `${marker}-2`);
  // Reordered: message 2 before message 1, each pushed twice more while the originals run.
  const statuses: number[] = [];
  for (const id of [second, first, second, first])
    statuses.push(await pushToWorker({ tenantId, extractionId: id }));

  const outcomes = new Map<string, { status: string; evidenceId?: string }>();
  for (const id of [first, second]) outcomes.set(id, await terminal(apiKey, id));
  expect([...outcomes.values()].map((o) => o.status)).toEqual(['succeeded', 'succeeded']);
  // Delayed: a duplicate of message 1 long after it ended is acknowledged and changes nothing.
  await sleep(3000);
  const late = await pushToWorker({ tenantId, extractionId: first });
  expect(late).toBeGreaterThanOrEqual(200);
  expect(late).toBeLessThan(300);
  // A push answered non-2xx is redelivered by Pub/Sub, never lost; every one here was handled.
  for (const status of statuses) expect(status).toBeLessThan(500);
  expect(await terminal(apiKey, first)).toEqual(outcomes.get(first));
  await expectBooksBalanced(tenantId, outcomes);
});
