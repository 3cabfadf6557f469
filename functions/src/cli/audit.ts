/**
 * `npx provenant audit ...`: what an auditor runs against the exported evidence. The checks
 * are the same modules the functions use; this file only reads arguments and prints.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { consistencyProof, leafHash } from '../evidence/merkle';
import { buildReceipt, loadTenantLog, verifyReceipt } from '../evidence/receipts';
import { ExtractionEvidenceRecordSchema } from '../evidence/record';
import { leafData } from '../evidence/seal';
import { directorySource, type ExportSource } from '../evidence/export-source';
import { verifyExport } from '../evidence/verify-export';
import { replayExtraction } from '../extraction/replay';
import type { Services } from '../services';
import { bucketSource } from '../storage/bucket-source';
import { isValidId } from '../tenancy/firestore';
import { CliError, withServices } from './common';
import type { CliIo } from './io';

/** `gs://bucket/prefix` or a local folder; default: the configured audit bucket. */
function openSource(services: Services, location: string | undefined): ExportSource {
  const where =
    location ?? `gs://${services.config.AUDIT_BUCKET}/${services.config.AUDIT_EXPORT_PREFIX}`;
  const gs = /^gs:\/\/([^/]+)\/?(.*)$/.exec(where);
  if (gs?.[1]) return bucketSource(services.objects, gs[1], gs[2] ?? '');
  return directorySource(where);
}

/** Only the platform's sealing key verifies seals; a pinned PEM file overrides KMS. */
function keyResolver(services: Services, pinnedFile: string | undefined) {
  const pinned = pinnedFile ? readFileSync(pinnedFile, 'utf8') : undefined;
  const sealingKey = services.config.SEALING_KEY_VERSION.replace(/\/cryptoKeyVersions\/\d+$/, '/');
  return async (keyVersion: string) => {
    if (pinned) return pinned;
    return keyVersion.startsWith(sealingKey)
      ? services.keyManager.getPublicKeyPem(keyVersion)
      : undefined;
  };
}

function progress(io: CliIo, label: string) {
  let last = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (done === total || now - last > 200) {
      last = now;
      io.progress(`${label} ${String(done)}/${String(total)}`);
    }
  };
}

function requireId(value: string, what: string): string {
  if (!isValidId(value)) throw new CliError(`invalid ${what}: ${value}`);
  return value;
}

export function registerAuditCommands(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('verify and query the evidence trail');

  audit
    .command('export')
    .description('copy the sealed export from the audit bucket to a folder')
    .requiredOption('--out <dir>', 'destination folder')
    .option('--tenant <id>', 'only this tenant')
    .option('--source <gs://bucket/prefix>', 'export location (default: the audit bucket)')
    .action((options: { out: string; tenant?: string; source?: string }) =>
      withServices(io, async (services) => {
        const source = openSource(services, options.source);
        const files = (await source.list()).filter(
          (f) => !options.tenant || f.startsWith(`${requireId(options.tenant, 'tenant')}/`),
        );
        const report = progress(io, 'downloaded');
        for (const [i, file] of files.entries()) {
          const target = path.join(options.out, file);
          mkdirSync(path.dirname(target), { recursive: true });
          writeFileSync(target, await source.read(file));
          report(i + 1, files.length);
        }
        io.out(`exported ${String(files.length)} files to ${options.out}`);
      }),
    );

  audit
    .command('verify')
    .description('verify every leaf, root, seal chain link, signature, sequence and time coverage')
    .argument('[location]', 'a folder or gs://bucket/prefix (default: the audit bucket)')
    .option('--public-key <file>', 'verify seals with this PEM instead of fetching it from KMS')
    .option('--json', 'machine-readable output')
    .action((location: string | undefined, options: { publicKey?: string; json?: boolean }) =>
      withServices(io, async (services) => {
        const report = await verifyExport(
          openSource(services, location),
          keyResolver(services, options.publicKey),
          progress(io, 'verified records'),
        );
        if (options.json) io.out(JSON.stringify(report));
        else {
          for (const t of report.tenants) {
            io.out(
              `${t.problems.length === 0 ? 'OK  ' : 'FAIL'} ${t.tenantId}: ${String(t.seals)} seals, ${String(t.records)} records, tree ${String(t.treeSize)} root ${t.rootHash ?? '-'}${t.coverage ? `, ${t.coverage.from} .. ${t.coverage.to}` : ''}`,
            );
          }
          if (report.firstProblem) {
            const p = report.firstProblem;
            io.out(
              `first problem: [${p.kind}] tenant ${p.tenantId}${p.seq === undefined ? '' : ` seal ${String(p.seq)}`}${p.recordId ? ` record ${p.recordId}` : ''}: ${p.message}`,
            );
          }
        }
        if (!report.ok) throw new CliError('verification failed', 2);
      }),
    );

  audit
    .command('prove')
    .description('inclusion proof of one record and the seal it belongs to')
    .argument('<tenantId>')
    .argument('<evidenceId>')
    .option('--source <location>', 'folder or gs://bucket/prefix')
    .option('--out <file>', 'write the receipt (verify it with `audit verify-receipt`)')
    .action((tenantId: string, evidenceId: string, options: { source?: string; out?: string }) =>
      withServices(io, async (services) => {
        const log = await loadTenantLog(
          openSource(services, options.source),
          requireId(tenantId, 'tenant'),
        );
        const receipt = buildReceipt(
          log,
          evidenceId,
          await services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION),
        );
        if (!receipt) throw new CliError(`record ${evidenceId} is not in any seal of ${tenantId}`);
        const text = JSON.stringify(receipt, null, 2);
        if (options.out) writeFileSync(options.out, text + '\n');
        io.out(
          options.out
            ? `receipt written to ${options.out} (leaf ${String(receipt.leafIndex)} of seal ${String(receipt.seal.seq)})`
            : text,
        );
      }),
    );

  audit
    .command('consistency')
    .description('prove that the log at seal B only extends the log at seal A')
    .argument('<tenantId>')
    .argument('<seqA>')
    .argument('<seqB>')
    .option('--source <location>', 'folder or gs://bucket/prefix')
    .action((tenantId: string, seqA: string, seqB: string, options: { source?: string }) =>
      withServices(io, async (services) => {
        const log = await loadTenantLog(
          openSource(services, options.source),
          requireId(tenantId, 'tenant'),
        );
        const a = log.seals.find((s) => s.seq === Number(seqA));
        const b = log.seals.find((s) => s.seq === Number(seqB));
        if (!a || !b || a.seq > b.seq)
          throw new CliError('need two existing seals with seqA <= seqB');
        const leaves = log.records.slice(0, b.treeSize).map((r) => leafHash(leafData(r)));
        io.out(
          JSON.stringify({
            tenantId,
            old: { seq: a.seq, treeSize: a.treeSize, rootHash: a.rootHash },
            new: { seq: b.seq, treeSize: b.treeSize, rootHash: b.rootHash },
            proof: consistencyProof(a.treeSize, leaves).map((h) => h.toString('hex')),
          }),
        );
      }),
    );

  audit
    .command('verify-receipt')
    .description('check an evidence receipt offline: content hash, inclusion, seal signature')
    .argument('<file>')
    .option('--public-key <file>', 'require the receipt to carry this pinned key')
    .option('--json', 'machine-readable output')
    .action((file: string, options: { publicKey?: string; json?: boolean }) => {
      const result = verifyReceipt(
        JSON.parse(readFileSync(file, 'utf8')) as unknown,
        options.publicKey ? readFileSync(options.publicKey, 'utf8') : undefined,
      );
      if (options.json) io.out(JSON.stringify(result));
      else for (const c of result.checks) io.out(`${c.ok ? 'OK  ' : 'FAIL'} ${c.check}`);
      if (!result.ok) throw new CliError('receipt verification failed', 2);
      return Promise.resolve();
    });

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
    .action(
      (options: {
        tenant: string;
        extraction?: string;
        modelVersion?: string;
        promptSha?: string;
        from?: string;
        to?: string;
        json?: boolean;
      }) =>
        withServices(io, async (services) => {
          const tenant = await services.platform.getTenant(requireId(options.tenant, 'tenant'));
          if (!tenant) throw new CliError(`tenant ${options.tenant} not found`);
          const db = services.platform.tenantDb(tenant);
          const where: [string, '==' | '>=' | '<', unknown][] = [['kind', '==', 'extraction']];
          if (options.extraction)
            where.push(['extractionId', '==', requireId(options.extraction, 'extraction id')]);
          if (options.modelVersion) where.push(['model.modelVersion', '==', options.modelVersion]);
          if (options.promptSha) where.push(['model.systemPromptSha256', '==', options.promptSha]);
          const docs = await db.list('evidence', { where });
          const records = docs
            .map((d) => ExtractionEvidenceRecordSchema.parse(d.data))
            .filter(
              (r) =>
                (!options.from || r.createdAt >= options.from) &&
                (!options.to || r.createdAt < options.to),
            )
            .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
          for (const r of records) {
            const line = {
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
            io.out(
              options.json
                ? JSON.stringify(line)
                : `${line.createdAt} ${line.extractionId}: ${line.provider} ${line.model} → ${line.modelVersion}, prompt ${line.promptTemplateVersion} sha256 ${line.systemPromptSha256.slice(0, 12)}…, steps ${line.postProcessing.join(' → ')}, schema ${line.schema}`,
            );
          }
          if (!options.json) io.progress(`${String(records.length)} record(s)`);
        }),
    );

  audit
    .command('replay')
    .description(
      're-run the recorded post-processing on the stored raw response and compare hashes',
    )
    .argument('<tenantId>')
    .argument('<extractionId>')
    .option('--json', 'machine-readable output')
    .action((tenantId: string, extractionId: string, options: { json?: boolean }) =>
      withServices(io, async (services) => {
        const tenant = await services.platform.getTenant(requireId(tenantId, 'tenant'));
        if (!tenant) throw new CliError(`tenant ${tenantId} not found`);
        const report = await replayExtraction(
          services,
          tenant,
          requireId(extractionId, 'extraction id'),
        );
        if (options.json) io.out(JSON.stringify(report));
        else {
          for (const s of report.steps) {
            io.out(
              `${s.inputMatches && s.outputMatches ? 'OK   ' : 'DRIFT'} ${s.step}@${String(s.version)}`,
            );
          }
          io.out(`${report.outputMatches ? 'OK   ' : 'DRIFT'} output hash`);
          io.out(report.reproducible ? 'reproducible: byte for byte' : 'NOT reproducible');
        }
        if (!report.reproducible) throw new CliError('replay drifted', 2);
      }),
    );

  audit
    .command('sample')
    .description('a reproducible random sample of sealed records with inclusion proofs')
    .requiredOption('--tenant <id>')
    .requiredOption('--from <iso>')
    .requiredOption('--to <iso>')
    .requiredOption('--n <count>')
    .option('--seed <seed>', 'the same seed gives the same sample', 'provenant')
    .option('--source <location>', 'folder or gs://bucket/prefix')
    .action(
      (options: {
        tenant: string;
        from: string;
        to: string;
        n: string;
        seed: string;
        source?: string;
      }) =>
        withServices(io, async (services) => {
          const n = Number(options.n);
          if (!Number.isInteger(n) || n < 1)
            throw new CliError('--n must be a positive whole number');
          const log = await loadTenantLog(
            openSource(services, options.source),
            requireId(options.tenant, 'tenant'),
          );
          const pem = await services.keyManager.getPublicKeyPem(
            services.config.SEALING_KEY_VERSION,
          );
          const population = log.records.filter(
            (r) => r.createdAt >= options.from && r.createdAt < options.to,
          );
          // Rank by SHA-256(seed | id): a deterministic shuffle anyone can recompute.
          const ranked = population
            .map((r) => ({
              r,
              rank: createHash('sha256').update(`${options.seed}|${r.id}`).digest('hex'),
            }))
            .sort((a, b) => a.rank.localeCompare(b.rank))
            .slice(0, n);
          for (const { r } of ranked) io.out(JSON.stringify(buildReceipt(log, r.id, pem)));
          io.progress(
            `sampled ${String(ranked.length)} of ${String(population.length)} records (seed ${options.seed})`,
          );
        }),
    );
}
