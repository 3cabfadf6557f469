/**
 * Issue 16: the LLM answers more slowly than LLM_TIMEOUT_MS. The attempt is recorded as a
 * timeout, then retried at the same provider, failed over to the fallback, or, with every
 * attempt slow, ended as a typed failure. Only in the full suite (`npm run test:resilience`),
 * not in CI's short run: it waits out several timeouts of the stack's LLM_TIMEOUT_MS.
 */
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../../functions/src/config';
import {
  evidenceAttempts,
  expectBooksBalanced,
  llmFault,
  resilienceTenant,
  submit,
  terminal,
} from '../support/resilience';

jest.setTimeout(300_000);

it('LLM calls slower than LLM_TIMEOUT_MS: recorded as timeout, then retried or failed over, or a typed failure', async () => {
  // The stack's own timeout, as its functions read it (npm run test:resilience sets
  // LLM_TIMEOUT_MS low, so a test need not wait out the production minute).
  const timeoutMs = parseConfig().LLM_TIMEOUT_MS;
  const attemptsPerProvider = parseConfig().LLM_MAX_RETRIES + 1;
  const slow = `latency:${String(timeoutMs + 5_000)}`;
  const run = randomBytes(6).toString('hex');
  const single = await resilienceTenant('timeout');
  const failover = await resilienceTenant('timeout-fo', 'anthropic');

  // One slow answer: the second attempt at the same provider succeeds.
  await llmFault(slow, 1, `pvn-to-${run}-retry`);
  const retried = await submit(single.apiKey, `pvn-to-${run}-retry`);
  // Every OpenAI attempt is slow: the fallback provider answers.
  await llmFault(slow, attemptsPerProvider, `pvn-to-${run}-failover`);
  const failedOver = await submit(failover.apiKey, `pvn-to-${run}-failover`);
  // Every attempt of a tenant without a fallback is slow: a typed failure, no evidence.
  await llmFault(slow, attemptsPerProvider, `pvn-to-${run}-exhausted`);
  const exhausted = await submit(single.apiKey, `pvn-to-${run}-exhausted`);

  const retriedEnd = await terminal(single.apiKey, retried, 240_000);
  expect(retriedEnd.status).toBe('succeeded');
  expect(await evidenceAttempts(single.apiKey, retriedEnd.evidenceId ?? '')).toEqual([
    { provider: 'openai', outcome: 'timeout' },
    { provider: 'openai', outcome: 'ok' },
  ]);

  const failedOverEnd = await terminal(failover.apiKey, failedOver, 240_000);
  expect(failedOverEnd.status).toBe('succeeded');
  expect(await evidenceAttempts(failover.apiKey, failedOverEnd.evidenceId ?? '')).toEqual([
    ...Array.from({ length: attemptsPerProvider }, () => ({
      provider: 'openai',
      outcome: 'timeout',
    })),
    { provider: 'anthropic', outcome: 'ok' },
  ]);

  const exhaustedEnd = await terminal(single.apiKey, exhausted, 240_000);
  expect({ status: exhaustedEnd.status, code: exhaustedEnd.error?.code }).toEqual({
    status: 'failed',
    code: 'provider_unavailable',
  });

  await expectBooksBalanced(
    single.tenantId,
    new Map([
      [retried, retriedEnd],
      [exhausted, exhaustedEnd],
    ]),
  );
  await expectBooksBalanced(failover.tenantId, new Map([[failedOver, failedOverEnd]]));
});
