/**
 * Issue 16: the services an extraction depends on fail for a while. The LLM answers 429, 500,
 * 529 (overloaded) or garbage, or too slowly; Cloud Storage answers 503 and Cloud KMS
 * UNAVAILABLE for a while. Each ends as a clean retry (succeeded) or a typed failure, never a
 * silent loss, and the evidence balances afterwards.
 */
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../../functions/src/config';
import {
  evidenceAttempts,
  expectBooksBalanced,
  kmsFault,
  kmsFaultsCleared,
  kmsFaultsQueued,
  llmFault,
  resilienceTenant,
  storageFault,
  submit,
  terminal,
} from '../support/resilience';

jest.setTimeout(300_000);

// A KMS outage a test queued and the stack did not spend ends with that test.
afterEach(() => kmsFaultsCleared());

/** [fault, times, expected status, expected error code]. */
const LLM_CASES: [string, number, 'succeeded' | 'failed', string | undefined][] = [
  ['rate_limit:1', 1, 'succeeded', undefined],
  ['server_error', 1, 'succeeded', undefined],
  ['overloaded', 1, 'succeeded', undefined],
  ['malformed_json', 1, 'succeeded', undefined],
  // Every attempt fails: the outcome is a typed failure, with no evidence record.
  ['server_error', 20, 'failed', 'provider_unavailable'],
  ['malformed_json', 20, 'failed', 'invalid_model_output'],
  ['schema_violation', 20, 'failed', 'invalid_model_output'],
];

it('LLM 429/500/overloaded/garbage and Storage 503s: clean retries or typed failures, never a silent loss', async () => {
  const { tenantId, apiKey } = await resilienceTenant('dependency');
  const run = randomBytes(6).toString('hex');
  const expected = new Map<string, { status: string; code: string | undefined }>();
  const ids: string[] = [];
  for (const [i, [fault, times, status, code]] of LLM_CASES.entries()) {
    const marker = `pvn-llm-${run}-${String(i)}`;
    await llmFault(fault, times, marker);
    const id = await submit(apiKey, marker);
    ids.push(id);
    expected.set(id, { status, code });
  }
  // Storage unavailable for the next 3 writes of this tenant's objects (the official client
  // retries 503 on precondition-guarded uploads: cloud.google.com/storage/docs/retry-strategy).
  await storageFault('unavailable', 3, `tenants/${tenantId}/`);
  const marker = `pvn-gcs-${run}`;
  const accepted = await submit(apiKey, marker);
  ids.push(accepted);
  expected.set(accepted, { status: 'succeeded', code: undefined });

  const outcomes = new Map<string, { status: string; evidenceId?: string }>();
  for (const id of ids) {
    const end = await terminal(apiKey, id, 180_000);
    outcomes.set(id, end);
    expect({ id, status: end.status, code: end.error?.code }).toEqual({
      id,
      ...expected.get(id),
    });
  }
  await expectBooksBalanced(tenantId, outcomes);
});

it('KMS unavailable for a while (tenant key unwrap and evidence signing): every extraction ends once, the export verifies', async () => {
  // A fresh tenant: no function process has its wrapping key cached yet, so the API (on
  // submit) and the worker (on extract) must both Decrypt it with KMS (crypto/envelope.ts).
  const { tenantId, apiKey } = await resilienceTenant('kms');
  const kek = `cryptoKeys/tenant-${tenantId}`;
  const run = randomBytes(6).toString('hex');
  // The official client retries UNAVAILABLE on Decrypt and AsymmetricSign by itself
  // (`idempotent` in @google-cloud/kms key_management_service_client_config.json), so an
  // outage of this length should be ridden out without the product seeing it.
  await kmsFault('unavailable', 8, { method: 'Decrypt', match: kek });
  await kmsFault('unavailable', 8, { method: 'AsymmetricSign', match: 'evidence-sealing' });
  const ids = [await submit(apiKey, `pvn-kms-${run}-0`)];
  // The API's unwrap met the outage (the submit could not be accepted without the key).
  expect((await kmsFaultsQueued()).filter((f) => f.method === 'Decrypt')).toEqual([]);
  // Another outage for the worker's own unwrap, queued while the extraction waits for delivery.
  await kmsFault('unavailable', 8, { method: 'Decrypt', match: kek });
  for (const i of [1, 2]) ids.push(await submit(apiKey, `pvn-kms-${run}-${String(i)}`));

  const outcomes = new Map<string, { status: string; evidenceId?: string }>();
  for (const id of ids) {
    const end = await terminal(apiKey, id, 180_000);
    outcomes.set(id, end);
    expect({ id, status: end.status, code: end.error?.code }).toEqual({
      id,
      status: 'succeeded',
      code: undefined,
    });
  }
  await expectBooksBalanced(tenantId, outcomes);
  // Sealing this tenant's records signed after the signing outage began, so it met all of it.
  // (Whether the worker's unwrap met the second Decrypt outage depends on how soon Pub/Sub
  // delivered; either way each extraction ended once, which is what is asserted above.)
  expect((await kmsFaultsQueued()).filter((f) => f.method === 'AsymmetricSign')).toEqual([]);
});

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
