/**
 * Issue 16's finding: a function process that died took the whole local stack down with it
 * (kill -9 of extractWorker under load stopped every part; in-flight clients got plain-text
 * 500s). The platform replaces a crashed instance; the local stack now restarts the function on
 * its port, and whatever was accepted before the kill completes exactly once.
 */
import { randomBytes } from 'node:crypto';
import { callApi } from '../support/api';
import {
  expectBooksBalanced,
  killAndAwaitRestart,
  llmFault,
  resilienceTenant,
  submit,
  terminal,
} from '../support/resilience';

jest.setTimeout(240_000);

it('kill -9 of extractWorker mid-extraction: the stack restarts it and every accepted extraction completes exactly once', async () => {
  const { tenantId, apiKey } = await resilienceTenant('kill-worker');
  const marker = `pvn-kill-worker-${randomBytes(6).toString('hex')}`;
  // Every model call for these documents takes 3 s: the worker is mid-extraction on all of them.
  await llmFault('latency:3000', 6, marker);
  const ids = await Promise.all(
    Array.from({ length: 6 }, (_, i) => submit(apiKey, `${marker}-${String(i)}`)),
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const { before, after } = await killAndAwaitRestart('extractWorker');
  expect(after).not.toBe(before);
  // The rest of the stack stayed up: the API still answers, in JSON.
  const health = await callApi(`/v1/extractions/${ids[0] ?? ''}`, { key: apiKey });
  expect(health.status).toBe(200);

  const outcomes = new Map<string, { status: string; evidenceId?: string }>();
  for (const id of ids) outcomes.set(id, await terminal(apiKey, id));
  expect([...outcomes.values()].map((o) => o.status)).toEqual(Array(6).fill('succeeded'));
  await expectBooksBalanced(tenantId, outcomes);
});
