/**
 * What the resilience tests share: killing a function process of the running stack by the PID
 * the stack file names, waiting for its supervised restart, injecting emulator faults through
 * their admin routes, and balancing the books of a tenant (each accepted extraction ended once,
 * one evidence record per success, the export sealed and verified).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseConfig } from '../../functions/src/config';
import { ExtractionEvidenceRecordSchema } from '../../functions/src/evidence/record';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices } from '../../functions/src/services';
import { awaitTerminal, evidenceByExtraction, sealAndVerify } from '../../scripts/bench/soak-run';
import { callApi, eventually, stack, withCanary, type ExtractionBody } from './api';

export const ROOT = path.resolve(__dirname, '..', '..');

export type FunctionName =
  'api' | 'ops' | 'extractWorker' | 'sealer' | 'deadLetterWorker' | 'notifier';

export function functionProcess(name: FunctionName): {
  port: number;
  pid: number;
  restarts: number;
} {
  const entry = stack().functions[name];
  if (!entry) throw new Error(`the stack file names no process for function ${name}`);
  return entry;
}

/** `kill -9` of a function process; resolves once the stack file names its replacement. */
export async function killAndAwaitRestart(
  name: FunctionName,
): Promise<{ before: number; after: number }> {
  const before = functionProcess(name);
  process.kill(before.pid, 'SIGKILL');
  const after = await eventually(() => {
    const now = functionProcess(name);
    return Promise.resolve(
      now.restarts > before.restarts && now.pid !== before.pid ? now : undefined,
    );
  }, 30_000);
  return { before: before.pid, after: after.pid };
}

/** Queues an LLM emulator fault for the next `times` model calls whose body contains `match`. */
export async function llmFault(fault: string, times: number, match: string): Promise<void> {
  const response = await fetch(`http://${stack().emulators.llm}/admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fault, times, match }),
  });
  if (!response.ok)
    throw new Error(`LLM emulator refused fault ${fault}: ${String(response.status)}`);
}

/** A fresh tenant (OpenAI primary, no fallback) whose quota is not what a test measures. */
export async function resilienceTenant(prefix: string, fallback: 'anthropic' | null = null) {
  const services = createServices(parseConfig());
  try {
    const onboarded = await onboardTenant(services, {
      tenantId: `${prefix}-${randomBytes(4).toString('hex')}`,
      name: `Resilience ${prefix}`,
      providers: { primary: 'openai', fallback },
      quota: { perMinute: 100_000, burst: 10_000 },
    });
    return { tenantId: onboarded.tenant.id, apiKey: onboarded.apiKey.token };
  } finally {
    await services.close();
  }
}

/** An invoice carrying `marker` (so faults can target it) and the log canary. */
export function markedInvoice(marker: string): string {
  return withCanary(
    `Vendor: Resilient Supplies\nInvoice No: ${marker}\nCurrency: EUR\nTotal: 42.00`,
  );
}

/** Submits an invoice; the extraction id once the API accepted it (202). */
export async function submit(apiKey: string, marker: string): Promise<string> {
  const created = await callApi('/v1/extractions', {
    method: 'POST',
    key: apiKey,
    body: {
      document: { contentType: 'text/plain', text: markedInvoice(marker) },
      schema: 'invoice',
    },
  });
  expect(created.status).toBe(202);
  return (created.body as ExtractionBody).id;
}

export async function terminal(apiKey: string, id: string, timeoutMs = 120_000) {
  const end = await awaitTerminal(stack(), apiKey, id, timeoutMs);
  if (end === undefined)
    throw new Error(`extraction ${id} was lost: not terminal after ${String(timeoutMs)} ms`);
  return end;
}

/**
 * The books of one tenant: each accepted extraction is terminal; a succeeded one has exactly
 * one evidence record (the one it names), a failed one none; after `provenant seal` every
 * evidence record of the tenant is in an export `provenant audit verify` accepts.
 */
export async function expectBooksBalanced(
  tenantId: string,
  outcomes: Map<string, { status: string; evidenceId?: string }>,
): Promise<void> {
  const evidence = await evidenceByExtraction(stack(), tenantId);
  for (const [id, outcome] of outcomes) {
    const records = evidence.byExtraction.get(id) ?? [];
    if (outcome.status === 'succeeded')
      expect({ id, records }).toEqual({ id, records: [outcome.evidenceId] });
    else expect({ id, records }).toEqual({ id, records: [] });
  }
  const verdict = await sealAndVerify(ROOT, process.env, stack(), tenantId);
  expect(verdict).toEqual({
    sealExit: 0,
    verifyExit: 0,
    ok: true,
    records: evidence.total,
    problems: [],
  });
}

/** Queues a Cloud Storage emulator fault (`unavailable`, `server_error`, `latency:MS`). */
export async function storageFault(fault: string, times: number, match: string): Promise<void> {
  const response = await fetch(`http://${stack().emulators.storage}/admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fault, times, match }),
  });
  if (!response.ok)
    throw new Error(`Storage emulator refused fault ${fault}: ${String(response.status)}`);
}

/**
 * A Pub/Sub push of `{tenantId, extractionId}` straight to the extractWorker's endpoint, as the
 * emulator and the real service send it (a duplicate, or one delivered out of order).
 */
export async function pushToWorker(message: { tenantId: string; extractionId: string }) {
  const { projectId, resources } = stack();
  const response = await fetch(
    `http://127.0.0.1:${String(functionProcess('extractWorker').port)}/projects/${projectId}/topics/${resources.extractionTopic}`,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        message: {
          data: Buffer.from(JSON.stringify(message)).toString('base64'),
          messageId: `dup-${randomBytes(6).toString('hex')}`,
          attributes: {},
        },
        subscription: `projects/${projectId}/subscriptions/${resources.extractionTopic}-worker`,
      }),
    },
  );
  await response.text();
  return response.status;
}

/** Waits until the storage emulator has started serving a queued fault (its count went down). */
export async function awaitStorageFaultHit(match: string, queuedTimes: number): Promise<void> {
  await eventually(async () => {
    const response = await fetch(`http://${stack().emulators.storage}/admin/faults`);
    const { faults } = (await response.json()) as {
      faults: { match?: string; remaining: number }[];
    };
    const mine = faults.find((f) => f.match === match);
    return mine === undefined || mine.remaining < queuedTimes ? true : undefined;
  }, 60_000);
}

function kmsAdmin(): string {
  const host = stack().emulators.kmsAdmin;
  if (host === undefined) throw new Error('the stack file names no KMS admin listener');
  return `http://${host}`;
}

/**
 * Queues `times` Cloud KMS `unavailable` faults (gRPC UNAVAILABLE) for calls of `method` whose
 * resource name contains `match` (scripts/local/emulators/kms/faults.ts).
 */
export async function kmsFault(
  fault: 'unavailable',
  times: number,
  target: { method?: string; match?: string },
): Promise<void> {
  const response = await fetch(`${kmsAdmin()}/admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fault, times, ...target }),
  });
  if (!response.ok)
    throw new Error(`KMS emulator refused fault ${fault}: ${String(response.status)}`);
}

/** The KMS faults still queued (a spent one is gone). */
export async function kmsFaultsQueued(): Promise<
  { method?: string; match?: string; remaining: number }[]
> {
  const response = await fetch(`${kmsAdmin()}/admin/faults`);
  return ((await response.json()) as { faults: { remaining: number }[] }).faults;
}

/** Clears every queued KMS fault: the outage is over. */
export async function kmsFaultsCleared(): Promise<void> {
  const response = await fetch(`${kmsAdmin()}/admin/reset`, { method: 'POST' });
  await response.text();
}

/**
 * The model-call attempts of a succeeded extraction, as its evidence record lists them
 * (`GET /v1/evidence/:id`).
 */
export async function evidenceAttempts(
  apiKey: string,
  evidenceId: string,
): Promise<{ provider: string; outcome: string }[]> {
  const reply = await callApi(`/v1/evidence/${evidenceId}`, { key: apiKey });
  expect(reply.status).toBe(200);
  return ExtractionEvidenceRecordSchema.parse(reply.body).response.attempts.map((a) => ({
    provider: a.provider,
    outcome: a.outcome,
  }));
}
