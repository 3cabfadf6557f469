/**
 * Issue 16: kill -9 of the API mid-request (a function process dying, as in the worker case of
 * worker-restart.test.ts). The local stack restarts it on its port, as the platform replaces a
 * crashed instance; the request it cut was never accepted, what was accepted before completes
 * exactly once, and the client's retry is accepted. In CI's short run.
 */
import { randomBytes } from 'node:crypto';
import { callApi } from '../support/api';
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

it('kill -9 of the API mid-request: the cut request was never accepted, the accepted ones complete once, and a retry is accepted', async () => {
  const { tenantId, apiKey } = await resilienceTenant('kill-api');
  const marker = `pvn-kill-api-${randomBytes(6).toString('hex')}`;
  const before = await submit(apiKey, `${marker}-before`);
  // The next document upload of this tenant stalls: the API is mid-request when it is killed.
  // The stall outlasts any delay between seeing it hit and the kill on a loaded machine (with a
  // few seconds, the upload could finish first and the "cut" request be accepted). The match
  // names the upload (the client's multipart POST carries the object name in its query), not
  // the object: the worker's read of the `before` document, at any moment from here on, is a
  // GET of the same name and would spend the fault instead, leaving the "cut" upload unstalled.
  const match = `?uploadType=multipart&name=tenants/${tenantId}/documents/`;
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
