/** `audit verify`: check a whole export (leaves, roots, seal chain, signatures, coverage). */
import type { Command } from 'commander';
import { verifyExport, type VerifyReport } from '../../evidence/verify-export';
import { witnessReport, type WitnessReport } from '../../evidence/witness-report';
import { CliError, progress, withAuditSource } from '../common';
import type { CliIo } from '../io';

interface VerifyOptions {
  publicKey?: string;
  json?: boolean;
}

export function registerAuditVerify(audit: Command, io: CliIo): void {
  audit
    .command('verify')
    .description('verify every leaf, root, seal chain link, signature, sequence and time coverage')
    .argument('[location]', 'a folder or gs://bucket/prefix (default: the audit bucket)')
    .option('--public-key <file>', 'verify seals with this PEM instead of fetching it from KMS')
    .option('--json', 'machine-readable output')
    .action((location: string | undefined, options: VerifyOptions) =>
      withAuditSource(io, location, options.publicKey, async ({ source, resolver }) => {
        const report = await verifyExport(source, resolver, progress(io, 'verified records'));
        const witnesses = await witnessReport(source, resolver);
        if (options.json) io.out(JSON.stringify({ ...report, witnesses }));
        else {
          printReport(io, report);
          printWitnesses(io, witnesses);
        }
        if (!report.ok) throw new CliError('verification failed', 2);
        if (witnesses.problems.length > 0) throw new CliError('a witness cosignature failed', 2);
        // Nothing verified is not a pass: a wrong folder or prefix must not look like one.
        if (report.tenants.length === 0)
          throw new CliError(`nothing to verify at ${location ?? 'the audit bucket'}: no seals`, 2);
      }),
    );
}

/** One line per tenant, then the first problem found, if any. */
function printReport(io: CliIo, report: VerifyReport): void {
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

/** Which checkpoints customer witnesses cosigned, and any cosignature that failed. */
function printWitnesses(io: CliIo, report: WitnessReport): void {
  for (const w of report.witnessed) {
    io.out(
      `WITNESSED ${w.tenantId}: seal ${String(w.seq)} (tree ${String(w.treeSize)}) by ${w.witness} at ${w.cosignedAt}`,
    );
  }
  for (const p of report.problems) io.out(`FAIL witness ${p.tenantId}: ${p.path}: ${p.message}`);
}
