/**
 * Issue 10, finding 7, from the side of someone who reads the database and the buckets after an
 * erasure (a backup, a curious operator) and holds a guess of the erased document: nothing left
 * may confirm the guess. Before the fix, the idempotency record kept an unkeyed SHA-256 over the
 * document's hash, and the extraction kept the customer's metadata.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { parseConfig } from '../../functions/src/config';
import { canonicalJson } from '../../functions/src/evidence/canonical';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, type Services } from '../../functions/src/services';
import { TENANT_COLLECTIONS } from '../../functions/src/tenancy/firestore';
import { callApi, stack, waitForTerminal, withCanary, type ExtractionBody } from '../support/api';

const run = randomBytes(4).toString('hex');
let services: Services;
let firestore: Firestore;

beforeAll(() => {
  services = createServices(parseConfig(process.env));
  firestore = new Firestore({ projectId: stack().projectId });
});

afterAll(async () => {
  await services.close();
  await firestore.terminate();
});

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Every document of the tenant, as JSON text, by path. */
async function tenantDocuments(tenantId: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const collection of TENANT_COLLECTIONS) {
    const snap = await firestore.collection(`tenants/${tenantId}/${collection}`).get();
    for (const doc of snap.docs) out.set(doc.ref.path, JSON.stringify(doc.data()));
  }
  return out;
}

/** Every object of the tenant in both buckets, as text (ciphertext stays opaque bytes). */
async function tenantObjects(tenantId: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const bucket of [stack().resources.documentsBucket, stack().resources.auditBucket]) {
    for (const name of await services.objects.list(bucket, '')) {
      if (!name.includes(tenantId)) continue;
      out.set(`${bucket}/${name}`, (await services.objects.get(bucket, name)).toString('latin1'));
    }
  }
  return out;
}

describe('finding 7: after erasure no document or object confirms a guessed document', () => {
  it('leaves no plain hash of the document, of the request, nor the metadata', async () => {
    const { tenant, apiKey } = await onboardTenant(services, {
      tenantId: `erase-hash-${run}`,
      name: 'Erase hash',
    });
    const text = withCanary(`Vendor: Guessable ${run}\nTotal: 12.00`);
    const metadata = { ref: `customer-ref-${run}` };
    const created = await callApi('/v1/extractions', {
      method: 'POST',
      key: apiKey.token,
      headers: { 'Idempotency-Key': `erase-${run}` },
      body: { document: { contentType: 'text/plain', text }, schema: 'invoice', metadata },
    });
    expect(created.status).toBe(202);
    const id = (created.body as ExtractionBody).id;
    expect((await waitForTerminal(id, apiKey.token)).status).toBe('succeeded');

    // What an attacker with a guess computes: the document's hash, and the request hash as an
    // unkeyed function of it (the form the idempotency record used).
    const stored = await firestore.doc(`tenants/${tenant.id}/documents/${id}`).get();
    const contentType = String(stored.get('contentType'));
    const documentSha256 = sha256(Buffer.from(text, 'utf8'));
    const requestSha256 = sha256(
      canonicalJson({ contentType, documentSha256, schema: 'invoice', webhookUrl: null, metadata }),
    );
    const guesses = [documentSha256, requestSha256, metadata.ref];

    const erased = await callApi(`/v1/extractions/${id}`, { method: 'DELETE', key: apiKey.token });
    expect(erased.status).toBe(204);

    const leftovers: string[] = [];
    for (const [where, content] of [
      ...(await tenantDocuments(tenant.id)),
      ...(await tenantObjects(tenant.id)),
    ]) {
      for (const guess of guesses) if (content.includes(guess)) leftovers.push(where);
    }
    expect(leftovers).toEqual([]);

    // The record of the erasure itself stays, and the extraction says it was erased (issue
    // 18: it answered 200 `succeeded` with no result and no word of the erasure).
    const extraction = await callApi(`/v1/extractions/${id}`, { key: apiKey.token });
    expect(extraction.status).toBe(200);
    expect(extraction.body).toMatchObject({ id, erasedAt: expect.any(String) as string });
    expect(extraction.body).not.toHaveProperty('result');
    expect(extraction.body).not.toHaveProperty('metadata');
  }, 60_000);

  it('keeps idempotent retries working before erasure (the keyed hash is stable)', async () => {
    const { apiKey } = await onboardTenant(services, {
      tenantId: `erase-idem-${run}`,
      name: 'Erase idem',
    });
    const body = {
      document: { contentType: 'text/plain', text: withCanary('Vendor: Idem\nTotal: 1.00') },
      schema: 'invoice',
    };
    const headers = { 'Idempotency-Key': `idem-${run}` };
    const first = await callApi('/v1/extractions', {
      method: 'POST',
      key: apiKey.token,
      headers,
      body,
    });
    const again = await callApi('/v1/extractions', {
      method: 'POST',
      key: apiKey.token,
      headers,
      body,
    });
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect((again.body as ExtractionBody).id).toBe((first.body as ExtractionBody).id);
  }, 60_000);
});
