/**
 * The soak: many extractions from many concurrent clients against a running local stack, then
 * the books balanced. Every accepted extraction must reach a terminal state (none lost), each
 * succeeded one must have exactly one evidence record (none duplicated), and after
 * `provenant seal` every evidence record of the tenant must be in the exported log, which
 * `provenant audit verify` accepts against the sealing key. `npm run soak` runs the full size;
 * test/resilience runs a short one. Also the checks the resilience tests share.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Firestore } from '@google-cloud/firestore';
import type { StackFile } from '../local/stack-file';

export interface SoakOptions {
  stack: StackFile;
  /** The project root (where scripts/provenant.js is). */
  root: string;
  /** The environment under which the CLI reaches the stack. */
  env: NodeJS.ProcessEnv;
  apiKey: string;
  tenantId: string;
  extractions: number;
  clients: number;
  /** Put in every document (the test runner's log canary). */
  marker?: string;
  /** How long an accepted extraction may take to end before it counts as lost. */
  terminalTimeoutMs?: number;
  progress?: (line: string) => void;
}

export interface SoakFigures {
  submitted: number;
  accepted: number;
  /** Submissions the API refused, by status and code (each a typed error, never a loss). */
  refused: Record<string, number>;
  succeeded: number;
  failed: Record<string, number>;
  lost: number;
  /** Extractions with more than one evidence record. */
  duplicated: number;
  /** Succeeded extractions with no evidence record, or whose record another id names. */
  withoutEvidence: number;
  evidenceRecords: number;
  sealedRecords: number;
  verifyOk: boolean;
  durationMs: number;
}

interface Extraction {
  status: string;
  evidenceId?: string;
  error?: { code: string };
}

async function api(
  stack: StackFile,
  apiKey: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${stack.apiUrl}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      Authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: text };
  }
}

/** An invoice with a unique number, so no two documents of a run are alike. */
export function soakInvoice(n: number, marker = ''): string {
  return `Vendor: Soak Supplies ${String(n % 17)}\nInvoice No: SOAK-${String(n)}\nInvoice Date: 2026-03-12\nCurrency: EUR\nTotal: ${String(10 + (n % 90))}.00\n${marker}`;
}

/**
 * Polls one extraction until it is terminal, riding over a restarting API (a refused connection
 * or a 5xx while a function process is replaced); undefined when the deadline passes.
 */
export async function awaitTerminal(
  stack: StackFile,
  apiKey: string,
  id: string,
  timeoutMs: number,
): Promise<Extraction | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const reply = await api(stack, apiKey, `/v1/extractions/${id}`);
      const body = reply.body as Extraction;
      if (reply.status === 200 && (body.status === 'succeeded' || body.status === 'failed'))
        return body;
    } catch {
      // The API process is being restarted: ask again.
    }
    await sleep(250);
  }
  return undefined;
}

/** Every evidence record of a tenant, grouped by the extraction it records (if any). */
export async function evidenceByExtraction(
  stack: StackFile,
  tenantId: string,
): Promise<{ total: number; byExtraction: Map<string, string[]> }> {
  // Read-only counting from outside, as an auditor of the emulator's data would.
  const firestore = new Firestore({ projectId: stack.projectId });
  try {
    const snapshot = await firestore.collection(`tenants/${tenantId}/evidence`).get();
    const byExtraction = new Map<string, string[]>();
    for (const doc of snapshot.docs) {
      const extractionId: unknown = doc.get('extractionId');
      if (typeof extractionId !== 'string') continue;
      byExtraction.set(extractionId, [...(byExtraction.get(extractionId) ?? []), doc.id]);
    }
    return { total: snapshot.size, byExtraction };
  } finally {
    await firestore.terminate();
  }
}

function cli(
  root: string,
  env: NodeJS.ProcessEnv,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'scripts', 'provenant.js'), ...args],
      { cwd: root, env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

export interface SealVerdict {
  sealExit: number;
  verifyExit: number;
  ok: boolean;
  /** Records of the tenant in the verified export. */
  records: number;
  problems: unknown[];
}

const MAX_SEAL_PASSES = 20;

/**
 * `provenant seal`, then `provenant audit verify` of the whole export with the sealing key as
 * the trust root, both as processes. Seals only cover records older than the safety window, so
 * it waits that out first. The stack's scheduler seals too: a pass that finds the tenant's next
 * seal held by it (`contendedSeq`), or that finished a seal with the scheduler's older cutoff
 * (`resumed`), leaves newer records for another pass, so passes repeat until one finds nothing
 * left for the tenant.
 */
export async function sealAndVerify(
  root: string,
  env: NodeJS.ProcessEnv,
  stack: StackFile,
  tenantId: string,
): Promise<SealVerdict> {
  await sleep((Number(env.SEAL_SAFETY_SECONDS ?? '2') + 1) * 1000);
  let sealed = await cli(root, env, ['seal', '--json']);
  for (let pass = 1; pass < MAX_SEAL_PASSES && sealed.code === 0; pass++) {
    // The pass prints one JSON outcome per tenant; log lines (with a severity) share stdout.
    const outcome = sealed.stdout
      .split('\n')
      .flatMap((line) => {
        try {
          return line.startsWith('{') ? [JSON.parse(line) as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      })
      .find((o) => o.severity === undefined && o.tenantId === tenantId);
    if (outcome === undefined || (outcome.seq === null && outcome.contendedSeq === undefined))
      break;
    if (outcome.contendedSeq !== undefined) await sleep(500);
    sealed = await cli(root, env, ['seal', '--json']);
  }
  const prefix = env.AUDIT_EXPORT_PREFIX ?? '';
  const source = `gs://${stack.resources.auditBucket}/${prefix}`.replace(/\/$/, '');
  const verified = await cli(root, env, [
    'audit',
    'verify',
    source,
    '--json',
    '--kms-key',
    stack.resources.sealingKeyVersion,
  ]);
  let report: { ok?: boolean; tenants?: { tenantId: string; records: number; problems: [] }[] };
  try {
    report = JSON.parse(verified.stdout.trim().split('\n').at(-1) ?? '{}') as typeof report;
  } catch {
    report = {};
  }
  const mine = report.tenants?.find((t) => t.tenantId === tenantId);
  return {
    sealExit: sealed.code,
    verifyExit: verified.code,
    ok: verified.code === 0 && report.ok === true,
    records: mine?.records ?? 0,
    problems: mine?.problems ?? [],
  };
}

/** Runs the soak and returns its figures; the caller decides what is a failure. */
export async function runSoak(options: SoakOptions): Promise<SoakFigures> {
  const started = Date.now();
  const say = options.progress ?? (() => undefined);
  const terminalTimeoutMs = options.terminalTimeoutMs ?? 180_000;
  const run = randomBytes(4).toString('hex');
  const accepted: string[] = [];
  const refused: Record<string, number> = {};
  const failed: Record<string, number> = {};
  let succeeded = 0;
  let lost = 0;
  const evidenceNamed = new Map<string, string>();
  let next = 0;
  let done = 0;

  const client = async () => {
    for (;;) {
      const n = next++;
      if (n >= options.extractions) return;
      const reply = await api(options.stack, options.apiKey, '/v1/extractions', {
        document: {
          contentType: 'text/plain',
          text: soakInvoice(n, `Run: ${run}\n${options.marker ?? ''}`),
        },
        schema: 'invoice',
      }).catch((err: unknown) => ({ status: 0, body: { error: { code: String(err) } } }));
      if (reply.status !== 202) {
        const code = (reply.body as { error?: { code?: string } }).error?.code ?? 'unknown';
        const key = `${String(reply.status)} ${code}`;
        refused[key] = (refused[key] ?? 0) + 1;
        continue;
      }
      const id = (reply.body as { id: string }).id;
      accepted.push(id);
      const end = await awaitTerminal(options.stack, options.apiKey, id, terminalTimeoutMs);
      if (end === undefined) lost += 1;
      else if (end.status === 'succeeded') {
        succeeded += 1;
        if (end.evidenceId !== undefined) evidenceNamed.set(id, end.evidenceId);
      } else {
        const code = end.error?.code ?? 'unknown';
        failed[code] = (failed[code] ?? 0) + 1;
      }
      done += 1;
      if (done % 100 === 0) say(`${String(done)}/${String(options.extractions)} extractions ended`);
    }
  };
  await Promise.all(Array.from({ length: options.clients }, () => client()));

  const evidence = await evidenceByExtraction(options.stack, options.tenantId);
  let duplicated = 0;
  let withoutEvidence = 0;
  for (const id of accepted) {
    const records = evidence.byExtraction.get(id) ?? [];
    if (records.length > 1) duplicated += 1;
    const named = evidenceNamed.get(id);
    if (named !== undefined && !(records.length === 1 && records[0] === named))
      withoutEvidence += 1;
  }
  say('sealing (provenant seal) and verifying the export (provenant audit verify)');
  const verdict = await sealAndVerify(options.root, options.env, options.stack, options.tenantId);
  return {
    submitted: options.extractions,
    accepted: accepted.length,
    refused,
    succeeded,
    failed,
    lost,
    duplicated,
    withoutEvidence,
    evidenceRecords: evidence.total,
    sealedRecords: verdict.records,
    verifyOk: verdict.ok && verdict.problems.length === 0,
    durationMs: Date.now() - started,
  };
}

/** The figures as the lines `npm run soak` prints. */
export function formatSoak(figures: SoakFigures, clients: number): string[] {
  const counts = (record: Record<string, number>) =>
    Object.keys(record).length === 0
      ? '0'
      : Object.entries(record)
          .map(([k, v]) => `${k}: ${String(v)}`)
          .join(', ');
  return [
    `submitted ${String(figures.submitted)} from ${String(clients)} clients, accepted ${String(figures.accepted)}, refused ${counts(figures.refused)}`,
    `succeeded ${String(figures.succeeded)}, failed ${counts(figures.failed)}`,
    `lost ${String(figures.lost)}, duplicated ${String(figures.duplicated)}, succeeded without their evidence record ${String(figures.withoutEvidence)}`,
    `evidence records ${String(figures.evidenceRecords)}, sealed and exported ${String(figures.sealedRecords)}, audit verify ${figures.verifyOk ? 'OK' : 'FAILED'}`,
    `duration ${(figures.durationMs / 1000).toFixed(1)} s (${((figures.submitted * 1000) / figures.durationMs).toFixed(1)} extractions/s, seal and verify included)`,
  ];
}

/** True when the books balance: nothing lost, nothing doubled, everything sealed and verified. */
export function soakBalanced(figures: SoakFigures): boolean {
  return (
    figures.lost === 0 &&
    figures.duplicated === 0 &&
    figures.withoutEvidence === 0 &&
    figures.accepted === figures.submitted &&
    figures.sealedRecords === figures.evidenceRecords &&
    figures.verifyOk
  );
}
