/**
 * Issue 16: Cloud KMS answers UNAVAILABLE for a while, on the tenant key unwrap (API and worker)
 * and on evidence signing (the sealer). Every extraction ends once, and the export verifies.
 * Only in the full suite (`npm run test:resilience`), not in CI's short run, for time: the LLM
 * and Storage faults of dependency-faults.test.ts stand for the dependency faults there.
 */
import { randomBytes } from 'node:crypto';
import {
  expectBooksBalanced,
  kmsFault,
  kmsFaultsCleared,
  kmsFaultsQueued,
  resilienceTenant,
  submit,
  terminal,
} from '../support/resilience';

jest.setTimeout(300_000);

// A KMS outage a test queued and the stack did not spend ends with that test.
afterEach(() => kmsFaultsCleared());

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
