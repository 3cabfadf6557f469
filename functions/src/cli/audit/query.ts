/**
 * `audit query` (which model, prompt and post-processing produced an output) and `audit sample`
 * (a reproducible random sample of sealed records, each with its inclusion proof).
 */
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { buildReceipt } from '../../evidence/receipts';
import {
  ExtractionEvidenceRecordSchema,
  type EvidenceRecord,
  type ExtractionEvidenceRecord,
} from '../../evidence/record';
import type { Services } from '../../services';
import { CliError, requireId, requireIsoDate, withServices } from '../common';
import type { CliIo } from '../io';
import { addTrustOptions, openAuditLocation, resolveTrustedKey, type TrustOptions } from '../trust';
import { requireTenantLog } from './proofs';

interface QueryOptions {
  tenant: string;
  extraction?: string;
  modelVersion?: string;
  promptSha?: string;
  from?: string;
  to?: string;
  json?: boolean;
}

export function registerAuditQuery(audit: Command, io: CliIo): void {
  audit
    .command('query')
    .description(
      'which model, prompt and post-processing produced an output; or list by model/prompt/date',
    )
    .requiredOption('--tenant <id>')
    .option('--extraction <id>', 'one extraction')
    .option('--model-version <v>', 'records produced by this model snapshot')
    .option('--prompt-sha <sha256>', 'records produced with this system prompt')
    .option('--from <iso>', 'created at or after')
    .option('--to <iso>', 'created before')
    .option('--json', 'machine-readable output')
    .action((options: QueryOptions) =>
      withServices(io, async (services) => {
        const lines = (await queryRecords(services, options)).map(provenanceLine);
        if (options.json) io.out(JSON.stringify(lines));
        for (const line of options.json ? [] : lines) {
          io.out(
            `${line.createdAt} ${line.extractionId}: ${line.provider} ${line.model} → ${line.modelVersion}, prompt ${line.promptTemplateVersion} sha256 ${line.systemPromptSha256.slice(0, 12)}…, steps ${line.postProcessing.join(' → ')}, schema ${line.schema}`,
          );
        }
        io.progress(`${String(lines.length)} record(s)`);
      }),
    );
}

/** The tenant's extraction evidence matching the filters, oldest first. */
async function queryRecords(
  services: Services,
  options: QueryOptions,
): Promise<ExtractionEvidenceRecord[]> {
  const from = requireIsoDate(options.from, '--from');
  const to = requireIsoDate(options.to, '--to');
  if (options.promptSha !== undefined && !/^[0-9a-f]{64}$/.test(options.promptSha))
    throw new CliError(`invalid --prompt-sha ${JSON.stringify(options.promptSha)}: 64 hex digits`);
  const tenant = await services.platform.getTenant(requireId(options.tenant, 'tenant'));
  if (!tenant) throw new CliError(`tenant ${options.tenant} not found`);
  const db = services.platform.tenantDb(tenant);
  const where: [string, '==' | '>=' | '<', unknown][] = [['kind', '==', 'extraction']];
  if (options.extraction)
    where.push(['extractionId', '==', requireId(options.extraction, 'extraction id')]);
  if (options.modelVersion) where.push(['model.modelVersion', '==', options.modelVersion]);
  if (options.promptSha) where.push(['model.systemPromptSha256', '==', options.promptSha]);
  const docs = await db.list('evidence', { where });
  return docs
    .map((d) => ExtractionEvidenceRecordSchema.parse(d.data))
    .filter((r) => (!from || r.createdAt >= from) && (!to || r.createdAt < to))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** What `audit query --json` prints per record. */
function provenanceLine(r: ExtractionEvidenceRecord) {
  return {
    extractionId: r.extractionId,
    evidenceId: r.id,
    createdAt: r.createdAt,
    provider: r.model.provider,
    model: r.model.model,
    modelVersion: r.model.modelVersion,
    systemPromptSha256: r.model.systemPromptSha256,
    promptTemplateVersion: r.model.promptTemplateVersion,
    postProcessing: r.postProcessing.map((s) => `${s.step}@${String(s.version)}`),
    schema: `${r.output.schema}@${String(r.output.schemaVersion)}`,
  };
}

interface SampleOptions extends TrustOptions {
  tenant: string;
  from: string;
  to: string;
  n: string;
  seed: string;
  source?: string;
  json?: boolean;
}

export function registerAuditSample(audit: Command, io: CliIo): void {
  addTrustOptions(
    audit
      .command('sample')
      .description('a reproducible random sample of sealed records with inclusion proofs')
      .requiredOption('--tenant <id>')
      .requiredOption('--from <iso>')
      .requiredOption('--to <iso>')
      .requiredOption('--n <count>')
      .option('--seed <seed>', 'the same seed gives the same sample', 'provenant')
      .option('--source <location>', 'folder or gs://bucket[/prefix]')
      .option('--json', 'machine-readable output: one JSON array of receipts'),
  ).action(async (options: SampleOptions) => {
    const n = Number(options.n);
    if (!/^\d+$/.test(options.n) || !Number.isSafeInteger(n) || n < 1)
      throw new CliError(`invalid --n ${JSON.stringify(options.n)}: a positive whole number`);
    const from = requireIsoDate(options.from, '--from') ?? '';
    const to = requireIsoDate(options.to, '--to') ?? '';
    const key = await resolveTrustedKey(options);
    const log = await requireTenantLog(openAuditLocation(options.source), options.tenant);
    const population = log.records.filter((r) => r.createdAt >= from && r.createdAt < to);
    const sample = pickSample(population, options.seed, n);
    const receipts = sample.map((r) => buildReceipt(log, r.id, key.pem));
    if (options.json) io.out(JSON.stringify(receipts));
    for (const r of options.json ? [] : receipts) {
      if (r) io.out(`${r.record.id} leaf ${String(r.leafIndex)} of seal ${String(r.seal.seq)}`);
    }
    io.progress(
      `sampled ${String(sample.length)} of ${String(population.length)} records (seed ${options.seed})`,
    );
  });
}

/** Rank by SHA-256(seed | id): a deterministic shuffle anyone can recompute; the first `n`. */
function pickSample(records: EvidenceRecord[], seed: string, n: number): EvidenceRecord[] {
  return records
    .map((r) => ({ r, rank: createHash('sha256').update(`${seed}|${r.id}`).digest('hex') }))
    .sort((a, b) => a.rank.localeCompare(b.rank))
    .slice(0, n)
    .map(({ r }) => r);
}
