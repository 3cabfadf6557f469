/**
 * A tenant that asks for encrypted results: the result is only ciphertext in Firestore, reads
 * through the API return it in clear to the tenant, and erasure leaves nothing readable.
 */
import { randomBytes } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { parseConfig } from '../../functions/src/config';
import { createServices, type Services } from '../../functions/src/services';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { callApi, stack, waitForTerminal, withCanary, type ExtractionBody } from '../support/api';

const VENDOR = `Cipher Vendor ${randomBytes(3).toString('hex')}`;
let services: Services;
let firestore: Firestore;
let tenantId: string;
let apiKey: string;
let extraction: ExtractionBody;

beforeAll(async () => {
  services = createServices(parseConfig());
  firestore = new Firestore({ projectId: stack().projectId });
  const onboarded = await onboardTenant(services, {
    tenantId: `encres-${randomBytes(4).toString('hex')}`,
    name: 'encrypted results',
    encryptResults: true,
  });
  tenantId = onboarded.tenant.id;
  apiKey = onboarded.apiKey.token;
  const created = await callApi('/v1/extractions', {
    method: 'POST',
    key: apiKey,
    body: {
      document: { contentType: 'text/plain', text: withCanary(`Vendor: ${VENDOR}\nTotal: 9.50`) },
      schema: 'invoice',
    },
  });
  expect(created.status).toBe(202);
  extraction = await waitForTerminal((created.body as ExtractionBody).id, apiKey);
}, 60_000);

afterAll(async () => {
  await firestore.terminate();
  await services.close();
});

it('stores the result only as ciphertext', async () => {
  const stored =
    (await firestore.doc(`tenants/${tenantId}/extractions/${extraction.id}`).get()).data() ?? {};
  expect(stored.status).toBe('succeeded');
  expect(stored.result).toBeUndefined();
  expect(typeof stored.resultCiphertext).toBe('string');
  const ciphertext = Buffer.from(String(stored.resultCiphertext), 'base64');
  expect(ciphertext.subarray(0, 4).toString()).toBe('PVN1');
  expect(ciphertext.includes(Buffer.from(VENDOR))).toBe(false);
});

it('returns the result in clear to the tenant, one by one and in lists', async () => {
  expect(extraction.result?.fields.vendorName?.value).toBe(VENDOR);
  expect(extraction.result?.fields.total?.value).toBe('9.50');
  const list = await callApi('/v1/extractions', { key: apiKey });
  const listed = (list.body as { data: ExtractionBody[] }).data.find((e) => e.id === extraction.id);
  expect(listed?.result?.fields.vendorName?.value).toBe(VENDOR);
});

it('leaves no readable result after erasure', async () => {
  expect(
    (await callApi(`/v1/extractions/${extraction.id}`, { method: 'DELETE', key: apiKey })).status,
  ).toBe(204);
  const after = await callApi(`/v1/extractions/${extraction.id}`, { key: apiKey });
  expect(after.status).toBe(200);
  expect((after.body as ExtractionBody).result).toBeUndefined();
  const stored =
    (await firestore.doc(`tenants/${tenantId}/extractions/${extraction.id}`).get()).data() ?? {};
  expect(stored.resultCiphertext).toBeUndefined();
});
