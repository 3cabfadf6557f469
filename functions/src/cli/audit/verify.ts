/** `audit verify`: check a whole export (leaves, roots, seal chain, signatures, coverage). */
import type { Command } from 'commander';
import type { ExportSource } from '../../evidence/export-source';
import { verifyExport, type VerifyReport } from '../../evidence/verify-export';
import { witnessReport, type WitnessReport } from '../../evidence/witness-report';
import { CliError, progress, requireId } from '../common';
import type { CliIo } from '../io';
import {
  addTrustOptions,
  describeLocation,
  openAuditLocation,
  resolveTrustedKey,
  type TrustOptions,
} from '../trust';

interface VerifyOptions extends TrustOptions {
  tenant?: string;
  json?: boolean;
}

/** Only one tenant's files of an export. */
function onlyTenant(source: ExportSource, tenantId: string): ExportSource {
  return {
    list: async () => (await source.list()).filter((p) => p.startsWith(`${tenantId}/`)),
    read: (path) => source.read(path),
  };
}

export function registerAuditVerify(audit: Command, io: CliIo): void {
  addTrustOptions(
    audit
      .command('verify')
      .description(
        'verify every leaf, root, seal chain link, signature, sequence and time coverage',
      )
      .argument(
        '[location]',
        'an exported folder, or gs://bucket (the export under its evidence/ prefix) or gs://bucket/prefix',
      )
      .option('--tenant <id>', 'only this tenant')
      .option('--json', 'machine-readable output'),
  ).action(async (location: string | undefined, options: VerifyOptions) => {
    const key = await resolveTrustedKey(options);
    const opened = openAuditLocation(location);
    const tenant = options.tenant === undefined ? undefined : requireId(options.tenant, 'tenant');
    const source = tenant === undefined ? opened.source : onlyTenant(opened.source, tenant);
    // Only the pinned key verifies: a seal naming another key version fails as unknown.
    const resolver = () => Promise.resolve(key.pem);
    const report = await verifyExport(source, resolver, progress(io, 'verified records'));
    const witnesses = await witnessReport(source, resolver);
    // Nothing verified is not a pass: a wrong folder, prefix or tenant must not look like one.
    if (!report.tenants.some((t) => t.seals > 0)) {
      const what = tenant === undefined ? 'no seals' : `no seals of tenant ${tenant}`;
      throw new CliError(
        `nothing to verify at ${opened.label}: ${what}; ${await describeLocation(opened)}`,
        2,
      );
    }
    if (options.json) io.out(JSON.stringify({ ...report, witnesses }));
    else {
      printReport(io, report);
      printWitnesses(io, witnesses);
    }
    if (!report.ok) throw new CliError('verification failed', 2);
    if (witnesses.problems.length > 0) throw new CliError('a witness cosignature failed', 2);
  });
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
