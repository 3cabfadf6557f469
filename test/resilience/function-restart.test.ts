/**
 * Issue 16's finding: a function process that died took the whole local stack down with it
 * (kill -9 of extractWorker under load stopped every part; in-flight clients got plain-text
 * 500s). The platform replaces a crashed instance; the local stack now restarts the function on
 * its port, and whatever was accepted before the kill completes exactly once. The sealer and
 * the API here (both in CI's short run, `npm run test:resilience:short`); the worker, whose cut
 * extractions wait out the subscription's ack deadline, in worker-restart.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { callApi, stack } from '../support/api';
import {
  awaitStorageFaultHit,
  expectBooksBalanced,
  killAndAwaitRestart,
  markedInvoice,
  resilienceTenant,
  storageFault,
  submit,
  terminal,
} from '../support/resilience';

jest.setTimeout(480_000);

it('kill -9 of the sealer mid-seal: restarted, the interrupted seal resumes and the export verifies', async () => {
  const { tenantId, apiKey } = await resilienceTenant('kill-sealer');
  // This tenant's first seal stalls writing its export (after its intent is stored and KMS
  // signed it), so the sealer is mid-seal when it is killed. Queued before any record exists,
  // so the stack's scheduler cannot have sealed the tenant already.
  const prefix = process.env.AUDIT_EXPORT_PREFIX ?? 'evidence';
  const match = `/b/${stack().resources.auditBucket}/o?uploadType=multipart&name=${prefix}/${tenantId}/`;
  await storageFault('latency:5000', 1, match);
  const marker = `pvn-kill-sealer-${randomBytes(6).toString('hex')}`;
  const ids = await Promise.all(
    Array.from({ length: 4 }, (_, i) => submit(apiKey, `${marker}-${String(i)}`)),
  );
  const outcomes = new Map<string, { status: string; evidenceId?: string }>();
  for (const id of ids) outcomes.set(id, await terminal(apiKey, id));
  await awaitStorageFaultHit(match, 1);
  await killAndAwaitRestart('sealer');
  await expectBooksBalanced(tenantId, outcomes);
});

it('kill -9 of the API mid-request: the cut request was never accepted, the accepted ones complete once, and a retry is accepted', async () => {
  const { tenantId, apiKey } = await resilienceTenant('kill-api');
  const marker = `pvn-kill-api-${randomBytes(6).toString('hex')}`;
  const before = await submit(apiKey, `${marker}-before`);
  // The next document upload of this tenant stalls: the API is mid-request when it is killed.
  // The stall outlasts any delay between seeing it hit and the kill on a loaded machine (with a
  // few seconds, the upload could finish first and the "cut" request be accepted).
  const match = `tenants/${tenantId}/documents/`;
  await storageFault('latency:60000', 1, match);
  const cut = callApi('/v1/extractions', {
    method: 'POST',
    key: apiKey,
    body: {
      document: { contentType: 'text/plain', text: markedInvoice(`${marker}-cut`) },
      schema: 'invoice',
    },
  });
  await awaitStorageFaultHit(match, 1);
  await killAndAwaitRestart('api');
  // The client sees the connection cut (a retryable network error), not a 2xx or a 500 page.
  await expect(cut).rejects.toThrow();
  const retried = await submit(apiKey, `${marker}-cut`);

  const outcomes = new Map<string, { status: string; evidenceId?: string }>();
  for (const id of [before, retried]) outcomes.set(id, await terminal(apiKey, id));
  expect([...outcomes.values()].map((o) => o.status)).toEqual(['succeeded', 'succeeded']);
  await expectBooksBalanced(tenantId, outcomes);
});
