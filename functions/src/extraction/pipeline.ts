/**
 * The worker's unit of work. It may run twice for one message (redelivery, duplicates): the
 * result and its evidence record are committed in one transaction that first checks the
 * extraction is not yet terminal and creates the evidence under an id derived from the
 * extraction, so exactly one result and one record can ever exist.
 */
import { randomBytes } from 'node:crypto';
import {
  commitment,
  objectAad,
  sealBytes,
  type DataKey,
  type ObjectRef,
  type WrappedDataKey,
} from '../crypto/envelope';
import {
  ObjectErasedError,
  openStoredObject,
  sealAndPut,
  storeDataKey,
} from '../crypto/sealed-object';
import { ActorSchema } from '../evidence/actor';
import type { ExtractionEvidenceBody } from '../evidence/record';
import { recordExtraction } from '../ledger/evidence-writer';
import { log } from '../logging';
import type { ProviderResponse } from '../providers/provider';
import type { Services } from '../services';
import { StageTimer } from '../stage-timer';
import { allInOrder } from '../util/all-in-order';
import {
  COMMIT_TIME,
  documentWritesSoFar,
  isAlreadyExists,
  type DocData,
  type TenantDb,
} from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';
import { publishExtractionEvent } from '../webhooks/events';
import { confirmCustomerKey, customerKeyFailure } from './customer-key';
import { documentInput } from './documents';
import { extractionEvidenceBody } from './extraction-evidence';
import {
  callModels,
  TerminalExtractionError,
  type Completion,
  type ModelRequest,
} from './model-calls';
import { runSteps } from './postprocess/registry';
import { buildSystemPrompt, type BuiltPrompt } from './prompt';
import { keepModelInputs, modelInputRefs, modelInputs } from './prompt-store';
import { resolveSchema, resolveSchemaVersion } from './schemas/resolve';
import type { ExtractionSchema } from './schemas/types';
import type { ExtractionMessage } from './submit';

/** An extraction this delivery claimed (now `processing`), with its tenant's database. */
interface Job {
  tenant: TenantProfile;
  db: TenantDb;
  extraction: DocData;
  ids: { tenantId: string; extractionId: string };
}

export async function processExtraction(
  services: Services,
  message: ExtractionMessage,
): Promise<void> {
  const timer = new StageTimer();
  const writesBefore = documentWritesSoFar();
  const tenant = await activeTenant(services, message);
  if (!tenant) return;
  const ids = { tenantId: message.tenantId, extractionId: message.extractionId };
  const db = services.platform.tenantDb(tenant);
  // The claim and the reads the model call needs run at once: nothing is judged, and nothing
  // reaches a model, before the claim is known (a preparation for a delivery that lost the
  // claim is discarded).
  const claiming = markProcessing(db, ids.extractionId);
  const [claim, prepared] = await Promise.allSettled([
    claiming,
    prepare(services, { tenant, db, ids }, claiming),
  ]);
  if (claim.status === 'rejected') throw claim.reason;
  const job = await claimed(services, { tenant, db, ids }, claim.value);
  if (!job) return;
  timer.lap('claim+prepare');
  log('extraction_processing', job.ids);
  try {
    if (prepared.status === 'rejected') throw prepared.reason;
    const { schema, document, input, documentText, keyring, active } = prepared.value;
    // The profile was read when the delivery began; the tenant may have been offboarded since
    // (on another instance). Nothing is sent to a model for a tenant that is gone.
    if (!active) {
      dropInactiveTenant(services, job.ids);
      return;
    }
    const prompt = buildSystemPrompt(schema);
    timer.lap('parse');
    const completion = await callModels(
      services,
      job.tenant,
      modelRequest(
        schema,
        prompt,
        { text: documentText, commitment: String(document.meta.payloadSha256) },
        input.kind === 'image' ? input : undefined,
      ),
      (raw) => {
        timer.lap('model');
        const processed = runSteps(
          raw,
          { documentText, schema, settings: { dateOrder: job.tenant.dateOrder } },
          keyring.commit,
          schema.steps,
        );
        timer.lap('postprocess');
        return processed;
      },
      job.ids,
    );
    timer.lap('model');
    // Uploaded while the committing transaction reads: the evidence is built and written only
    // once the upload succeeded.
    const storing = storeRawResponse(services, job, completion.response, timer);
    // Awaited in the commit; handled here too, so a commit that fails before awaiting it
    // leaves no unhandled rejection behind.
    storing.catch(() => undefined);
    const evidenceOf = (stored: StoredResponse) => {
      const body = extractionEvidenceBody({
        ...job.ids,
        document,
        schema,
        prompt,
        completion,
        stored,
        commit: keyring.commit,
        // Parsed, not cast: the evidence tuple's content hash is computed over exactly this shape.
        actor: ActorSchema.parse(job.extraction.actor),
      });
      timer.lap('evidence');
      return body;
    };
    await commitResult(
      services,
      job,
      storing,
      evidenceOf,
      keyring,
      completion,
      { prompt, schema },
      timer,
    );
    log('stage_timings', {
      side: 'worker',
      ...job.ids,
      ...timer.fields(),
      firestoreWrites: documentWritesSoFar() - writesBefore,
    });
  } catch (err) {
    const terminal =
      err instanceof TerminalExtractionError
        ? err
        : customerKeyFailure(job.tenant, job.ids.extractionId, err);
    if (!terminal) throw err;
    await commitFailure(services, job, terminal);
  }
}

/** The tenant the message names, when it exists and is active; undefined (logged) otherwise. */
async function activeTenant(
  services: Services,
  message: ExtractionMessage,
): Promise<TenantProfile | undefined> {
  const { tenantId, extractionId } = message;
  const tenant = await services.platform.getTenant(tenantId);
  if (!tenant) {
    log('worker_error', { tenantId, extractionId, reason: 'unknown_tenant' });
    return undefined;
  }
  if (tenant.status !== 'active') {
    dropInactiveTenant(services, message);
    return undefined;
  }
  return tenant;
}

/** A delivery before its claim is known: the tenant, its database and the message's ids. */
type Delivery = Omit<Job, 'extraction'>;

/** Thrown into a preparation whose delivery lost the claim; never reported. */
class NotClaimedError extends Error {}

/** What a claimed extraction needs before its model call. */
interface Prepared {
  schema: ExtractionSchema;
  document: OpenedDocument;
  input: Awaited<ReturnType<typeof documentInput>>['input'];
  documentText: string;
  keyring: ResultKeyring;
  /** The tenant is still active, read again once the claim was committed. */
  active: boolean;
}

/**
 * The reads between the tenant's profile and the model call, as three independent chains run
 * at once (each a few Firestore, Cloud Storage or KMS round trips; in sequence they were most of
 * what the platform added to an extraction): once the claim is committed, the schema it pinned
 * and the tenant's status read again; the document (a customer-managed key confirmed first,
 * then its metadata, then its data key and ciphertext); the result's data key. Every chain is
 * awaited before anything is judged, and a failure is reported in that order, so two failing
 * chains give the same answer every time.
 */
async function prepare(
  services: Services,
  delivery: Delivery,
  claiming: Promise<Claim>,
): Promise<Prepared> {
  const [claimedReads, opened, keyring] = await allInOrder([
    claiming.then(async (claim) => {
      if (claim.outcome !== 'claimed') throw new NotClaimedError();
      return allInOrder([
        schemaOf(delivery.db, claim.extraction),
        services.platform.getTenant(delivery.ids.tenantId),
      ]);
    }),
    (async () => {
      // A customer's revoked key stops this extraction before any content is opened.
      await confirmCustomerKey(services.keyManager, delivery.tenant);
      const document = await openDocument(services, delivery);
      return { document, ...(await readDocument(services, document)) };
    })(),
    newResultKey(services, delivery),
  ]);
  const [schema, tenant] = claimedReads;
  return { schema, keyring, ...opened, active: tenant?.status === 'active' };
}

/**
 * An offboarded tenant's delivery: acknowledged and dropped, and this instance's cached key
 * material of the tenant zeroed, so a warm cache cannot outlive the offboarding (the instance
 * that offboarded evicts its own; every other instance does it here, on first contact).
 */
function dropInactiveTenant(services: Services, ids: ExtractionMessage): void {
  services.keys.evict(ids.tenantId);
  log('worker_error', { ...ids, reason: 'tenant_offboarded' });
}

/** `succeeded` or `failed`: nothing left to do for this extraction. */
function finishedStatus(extraction: DocData): 'succeeded' | 'failed' | undefined {
  const { status } = extraction;
  return status === 'succeeded' || status === 'failed' ? status : undefined;
}

/**
 * The job when this delivery claimed the extraction; undefined when there is nothing (left) to
 * do: an unknown extraction, or one already finished (announced again, see below).
 */
async function claimed(
  services: Services,
  delivery: Delivery,
  claim: Claim,
): Promise<Job | undefined> {
  const { ids } = delivery;
  if (claim.outcome === 'unknown') {
    log('worker_error', { ...ids, reason: 'unknown_extraction' });
    return undefined;
  }
  if (claim.outcome === 'finished') {
    log('extraction_redelivered', { ...ids, status: claim.status });
    // The delivery that finished it may have crashed before announcing it: announce again
    // (webhook events carry a stable id, so receivers see at-least-once, never a new event).
    await publishExtractionEvent(services, {
      ...ids,
      event: claim.status === 'succeeded' ? 'extraction.succeeded' : 'extraction.failed',
    });
    return undefined;
  }
  return { ...delivery, extraction: claim.extraction };
}

type Claim =
  | { outcome: 'claimed'; extraction: DocData }
  | { outcome: 'finished'; status: 'succeeded' | 'failed' }
  | { outcome: 'unknown' };

/**
 * Marks the extraction `processing`, in one transaction with the read that decides it: a
 * concurrent delivery may finish it at any moment, and a plain update would turn its
 * `succeeded` back into `processing` for good. (A read before the transaction would only repeat
 * the transaction's own read.)
 */
function markProcessing(db: TenantDb, extractionId: string): Promise<Claim> {
  return db.runTransaction(async (tx): Promise<Claim> => {
    const current = await tx.get('extractions', extractionId);
    if (!current) return { outcome: 'unknown' };
    const status = finishedStatus(current);
    if (status) return { outcome: 'finished', status };
    tx.update('extractions', extractionId, { status: 'processing', updatedAt: COMMIT_TIME });
    return { outcome: 'claimed', extraction: current };
  });
}

/**
 * The schema version pinned when the extraction was accepted, never "the current one": a
 * change made while the extraction waited is a later version and does not reach it.
 * Extractions accepted before versions were pinned name none and run the latest.
 */
async function schemaOf(db: TenantDb, extraction: DocData): Promise<ExtractionSchema> {
  const name = String(extraction.schema);
  const pinned =
    typeof extraction.schemaVersion === 'number' ? extraction.schemaVersion : undefined;
  const schema =
    pinned === undefined
      ? await resolveSchema(db, name)
      : await resolveSchemaVersion(db, name, pinned);
  if (
    !schema ||
    (typeof extraction.schemaSha256 === 'string' && schema.sha256 !== extraction.schemaSha256)
  )
    throw new TerminalExtractionError('unknown_schema', 'the schema is no longer available');
  return schema;
}

/** The document's metadata record and its decrypted bytes. */
interface OpenedDocument {
  meta: DocData;
  ciphertextRef: string;
  bytes: Buffer;
}

async function openDocument(
  services: Services,
  { tenant, db, ids }: Delivery,
): Promise<OpenedDocument> {
  const documentMeta = await db.get('documents', ids.extractionId);
  if (!documentMeta)
    throw new TerminalExtractionError('document_erased', 'the document no longer exists');
  const ciphertextRef = String(documentMeta.ciphertextRef);
  const { plaintext: documentBytes } = await openStoredObject(
    services,
    tenant,
    db,
    { kind: 'document', id: ids.extractionId },
    ciphertextRef,
  ).catch((err: unknown) => {
    if (err instanceof ObjectErasedError) {
      throw new TerminalExtractionError('document_erased', 'the document was erased');
    }
    throw err;
  });
  return { meta: documentMeta, ciphertextRef, bytes: documentBytes };
}

/** Text as is, a PDF's text layer, or an image sent as image input (nothing to ground in). */
function readDocument(
  services: Services,
  document: OpenedDocument,
): ReturnType<typeof documentInput> {
  return documentInput(document.bytes, String(document.meta.contentType), services.config).catch(
    (err: unknown) => {
      throw new TerminalExtractionError(
        'document_unreadable',
        err instanceof Error ? err.message : 'the document cannot be read',
      );
    },
  );
}

function modelRequest(
  schema: ExtractionSchema,
  prompt: BuiltPrompt,
  document: { text: string; commitment: string },
  image: ModelRequest['image'],
): ModelRequest {
  return {
    system: prompt.system,
    documentText: document.text,
    documentCommitment: document.commitment,
    image,
    schemaName: schema.name,
    jsonSchema: schema.jsonSchema,
  };
}

/** What the model saw, kept by hash beside the evidence that names it. */
interface ModelInputs {
  prompt: BuiltPrompt;
  schema: ExtractionSchema;
}

/** The result's data key, made before the models are called. */
interface ResultKeyring {
  resultRef: ObjectRef;
  resultKey: { dataKey: DataKey; wrapped: WrappedDataKey };
  /** Commitment under the result's data key: every post-processing hash and the output's. */
  commit: (bytes: string) => string;
}

async function newResultKey(services: Services, { tenant, ids }: Delivery): Promise<ResultKeyring> {
  const resultRef: ObjectRef = { kind: 'result', id: ids.extractionId };
  const resultKey = await services.keys.newDataKey(tenant, resultRef);
  const commit = (bytes: string) => commitment(resultKey.dataKey.commitmentSecret, bytes);
  return { resultRef, resultKey, commit };
}

interface StoredResponse {
  responseRef: ObjectRef;
  responseKey: { dataKey: DataKey; wrapped: WrappedDataKey };
  /** The object's name in the documents bucket, and its reference for the evidence record. */
  responseObject: string;
  responseCiphertextRef: string;
}

/**
 * The raw response is stored under its own data key and a fresh object name per attempt,
 * so a crashed earlier attempt's upload never collides with this one.
 */
async function storeRawResponse(
  services: Services,
  { tenant, ids }: Job,
  response: ProviderResponse,
  timer: StageTimer,
): Promise<StoredResponse> {
  const { tenantId, extractionId } = ids;
  const responseRef: ObjectRef = { kind: 'response', id: extractionId };
  const responseObject = `tenants/${tenantId}/responses/${extractionId}/${randomBytes(6).toString('hex')}`;
  const { uri, ...responseKey } = await sealAndPut(
    services,
    tenant,
    responseRef,
    { bucket: services.config.DOCUMENTS_BUCKET, name: responseObject },
    Buffer.from(response.raw),
    'single',
    timer,
  );
  return { responseRef, responseKey, responseObject, responseCiphertextRef: uri };
}

/**
 * Commits the result with its evidence record, then announces it; when another delivery won
 * the race, this attempt's response object is an unreferenced orphan and is deleted instead.
 */
async function commitResult(
  services: Services,
  job: Job,
  storing: Promise<StoredResponse>,
  evidenceOf: (stored: StoredResponse) => ExtractionEvidenceBody,
  keyring: ResultKeyring,
  completion: Completion,
  inputs: ModelInputs,
  timer: StageTimer,
): Promise<void> {
  const { ids } = job;
  const committed = await writeResult(job, storing, evidenceOf, keyring, completion, inputs);
  timer.lap('commit');
  timer.mark('committedAt');
  if (!committed.won) {
    await services.objects.delete(
      services.config.DOCUMENTS_BUCKET,
      committed.stored.responseObject,
      { ignoreNotFound: true },
    );
    log('extraction_redelivered', { ...ids, status: 'raced' });
    return;
  }
  const { response, result } = completion;
  log('evidence_written', { ...ids, evidenceId: committed.evidenceId });
  log('extraction_succeeded', {
    ...ids,
    provider: response.provider,
    modelVersion: response.modelVersion,
    attempts: completion.attempts.length,
    issues: result.result.issues.length,
  });
  await publishExtractionEvent(services, { ...ids, event: 'extraction.succeeded' });
  timer.lap('notify');
}

type WriteOutcome =
  | { won: true; evidenceId: string }
  /** The extraction was finished already (or its evidence record existed). */
  | { won: false; stored: StoredResponse };

/**
 * One transaction: the evidence record, what the model saw (prompt, schema: kept by hash), both data
 * keys and the extraction's result, unless the extraction is finished already. Its reads run
 * while the raw response is still uploading; nothing is written before the upload succeeded
 * (a failed upload fails the transaction, which writes nothing).
 */
async function writeResult(
  job: Job,
  storing: Promise<StoredResponse>,
  evidenceOf: (stored: StoredResponse) => ExtractionEvidenceBody,
  keyring: ResultKeyring,
  completion: Completion,
  { prompt, schema }: ModelInputs,
): Promise<WriteOutcome> {
  const { extractionId } = job.ids;
  const { resultRef, resultKey } = keyring;
  const inputs = modelInputs(prompt, schema);
  try {
    return await job.db.runTransaction(async (tx): Promise<WriteOutcome> => {
      // The extraction and the content records in one read: one round trip, not two.
      const [[current, ...known], stored] = await allInOrder([
        tx.getAll([['extractions', extractionId], ...modelInputRefs(inputs)]),
        storing,
      ]);
      if (!current || finishedStatus(current)) return { won: false, stored };
      const body = evidenceOf(stored);
      keepModelInputs(tx, inputs, known);
      recordExtraction(tx, body);
      storeDataKey(
        tx,
        stored.responseRef,
        stored.responseKey.wrapped,
        stored.responseCiphertextRef,
      );
      storeDataKey(tx, resultRef, resultKey.wrapped);
      tx.update('extractions', extractionId, succeededFields(job, body.id, keyring, completion));
      return { won: true, evidenceId: body.id };
    });
  } catch (err) {
    if (isAlreadyExists(err)) return { won: false, stored: await storing };
    throw err;
  }
}

/** The extraction's fields once it succeeded. */
function succeededFields(
  { tenant, ids }: Job,
  evidenceId: string,
  { resultRef, resultKey }: ResultKeyring,
  { response, result }: Completion,
): DocData {
  const { tenantId } = ids;
  return {
    status: 'succeeded',
    // Where the tenant asks, the result too is only ciphertext at rest.
    ...(tenant.encryptResults
      ? {
          resultCiphertext: sealBytes(
            resultKey.dataKey.key,
            objectAad(tenantId, resultRef),
            Buffer.from(JSON.stringify(result.result)),
          ).toString('base64'),
        }
      : { result: result.result }),
    evidenceId,
    model: {
      provider: response.provider,
      model: response.model,
      modelVersion: response.modelVersion,
    },
    updatedAt: COMMIT_TIME,
    completedAt: COMMIT_TIME,
  };
}

/** A terminal failure: the extraction ends `failed`, keeping the provider attempts made. */
async function commitFailure(
  services: Services,
  { db, ids }: Job,
  err: TerminalExtractionError,
): Promise<void> {
  const { extractionId } = ids;
  const failed = await db.runTransaction(async (tx) => {
    const current = await tx.get('extractions', extractionId);
    if (!current || finishedStatus(current)) return false;
    tx.update('extractions', extractionId, {
      status: 'failed',
      error: { code: err.code, message: err.message },
      // No evidence record exists for a failure: the provider attempts are kept here.
      ...(err.attempts.length > 0 ? { attempts: err.attempts.map((a) => ({ ...a })) } : {}),
      updatedAt: COMMIT_TIME,
      completedAt: COMMIT_TIME,
    });
    return true;
  });
  if (!failed) {
    log('extraction_redelivered', { ...ids, status: 'raced' });
    return;
  }
  log('extraction_failed', { ...ids, code: err.code, attempts: err.attempts.length });
  await publishExtractionEvent(services, { ...ids, event: 'extraction.failed' });
}
