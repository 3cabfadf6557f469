/**
 * Message delivery on the local stack: duplicated deliveries of one extraction message end in
 * exactly one result and one evidence record, and a poison message (one the worker throws on
 * at every delivery) reaches the dead-letter topic and ends as `failed` instead of vanishing.
 */
import { randomBytes } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { parseConfig } from '../../functions/src/config';
import { dataKeyId, type ObjectRef } from '../../functions/src/crypto/envelope';
import { createServices, type Services } from '../../functions/src/services';
import { COMMIT_TIME } from '../../functions/src/tenancy/firestore';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import {
  callApi,
  eventually,
  functionLog,
  loggedLines,
  stack,
  waitForTerminal,
  withCanary,
  type ExtractionBody,
} from '../support/api';

let services: Services;
let firestore: Firestore;
let pubsub: PubSub;

beforeAll(() => {
  services = createServices(parseConfig());
  firestore = new Firestore({ projectId: stack().projectId });
  pubsub = new PubSub({ projectId: stack().projectId });
});

afterAll(async () => {
  await Promise.all([firestore.terminate(), pubsub.close(), services.close()]);
});

async function newTenant() {
  const onboarded = await onboardTenant(services, {
    tenantId: `deliv-${randomBytes(5).toString('hex')}`,
    name: 'Pipeline delivery',
    providers: { primary: 'openai', fallback: null },
  });
  return { tenant: onboarded.tenant, apiKey: onboarded.apiKey.token };
}

const publish = (message: { tenantId: string; extractionId: string }) =>
  pubsub.topic(stack().resources.extractionTopic).publishMessage({ json: message });

it('turns the same message published 3 times at once into exactly one evidence record', async () => {
  const { tenant, apiKey } = await newTenant();
  const marker = `pvn-dup-${randomBytes(6).toString('hex')}`;
  // Every model call for this document takes 1.5 s, so all deliveries are in flight together.
  await fetch(`http://${stack().emulators.llm}/admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fault: 'latency:1500', times: 4, match: marker }),
  });
  const created = await callApi('/v1/extractions', {
    method: 'POST',
    key: apiKey,
    body: {
      document: {
        contentType: 'text/plain',
        text: withCanary(`Vendor: Dup Supplies\nInvoice No: ${marker}\nTotal: 10.00`),
      },
      schema: 'invoice',
    },
  });
  expect(created.status).toBe(202);
  const id = (created.body as ExtractionBody).id;
  const message = { tenantId: tenant.id, extractionId: id };
  await Promise.all([publish(message), publish(message), publish(message)]);

  const done = await waitForTerminal(id, apiKey, 60_000);
  expect(done.status).toBe('succeeded');
  // All four deliveries finish: three of them as redeliveries (found done, or lost the race).
  await eventually(async () => {
    const seen = functionLog('extractWorker').filter(
      (l) => l.event === 'extraction_redelivered' && l.extractionId === id,
    );
    return Promise.resolve(seen.length >= 3 ? seen : undefined);
  }, 60_000);

  const evidence = await firestore
    .collection(`tenants/${tenant.id}/evidence`)
    .where('extractionId', '==', id)
    .get();
  expect(evidence.size).toBe(1);
  expect(evidence.docs[0]?.id).toBe(done.evidenceId);
  // Losers of the race removed their raw-response objects: one stays, the one evidence names.
  const storage = new Storage({
    apiEndpoint: `http://${stack().emulators.storage}`,
    projectId: stack().projectId,
  });
  const [files] = await storage
    .bucket(stack().resources.documentsBucket)
    .getFiles({ prefix: `tenants/${tenant.id}/responses/${id}/` });
  expect(files).toHaveLength(1);
  expect(evidence.docs[0]?.get('response.ciphertextRef')).toBe(
    `gs://${stack().resources.documentsBucket}/${files[0]?.name ?? ''}`,
  );
}, 90_000);

it('dead-letters a poison message and marks its extraction failed with processing_failed', async () => {
  const { tenant, apiKey } = await newTenant();
  const extractionId = `ex_${randomBytes(12).toString('hex')}`;
  const db = services.platform.tenantDb(tenant);
  // What submission leaves behind, except that the stored original is corrupt (a truncated
  // ciphertext): every delivery fails to decrypt it, which no retry can fix. (A deleted
  // original is an erasure instead, and ends the extraction at once as document_erased.)
  const ref: ObjectRef = { kind: 'document', id: extractionId };
  const { wrapped } = await services.keys.newDataKey(tenant, ref);
  const bucket = services.config.DOCUMENTS_BUCKET;
  const objectName = `tenants/${tenant.id}/documents/${extractionId}`;
  const ciphertextRef = await services.objects.putNew(bucket, objectName, Buffer.from('PVN1x'));
  await db.runTransaction((tx) => {
    tx.create('dataKeys', dataKeyId(ref), {
      ...wrapped,
      objectRef: ciphertextRef,
      createdAt: COMMIT_TIME,
    })
      .create('documents', extractionId, {
        contentType: 'text/plain',
        bytes: 5,
        ciphertextRef,
        payloadSha256: '0'.repeat(64),
        createdAt: COMMIT_TIME,
      })
      .create('extractions', extractionId, {
        status: 'queued',
        schema: 'invoice',
        schemaVersion: 1,
        documentId: extractionId,
        actor: { kind: 'service', id: 'pipeline-delivery-test' },
        createdAt: COMMIT_TIME,
        updatedAt: COMMIT_TIME,
      });
    return Promise.resolve();
  });
  await publish({ tenantId: tenant.id, extractionId });

  const done = await waitForTerminal(extractionId, apiKey, 120_000);
  expect(done.status).toBe('failed');
  expect(done.error?.code).toBe('processing_failed');
  expect(done.evidenceId).toBeUndefined();
  // The worker really was retried (redelivery), and the dead-letter worker logged the end.
  // It logs after its transaction commits, so the line can trail the status the test saw.
  const transient = await loggedLines(
    'extractWorker',
    (l) =>
      l.event === 'worker_error' && l.extractionId === extractionId && l.reason === 'transient',
    5,
  );
  expect(transient.length).toBeGreaterThanOrEqual(5);
  const ended = await loggedLines(
    'deadLetterWorker',
    (l) => l.event === 'extraction_dead_lettered' && l.extractionId === extractionId,
  );
  // At-least-once: a second delivery of the dead letter would find it already_terminal.
  expect(ended).toContainEqual(expect.objectContaining({ outcome: 'marked_failed' }));
}, 150_000);
