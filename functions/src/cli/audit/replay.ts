/** `audit replay`: re-run an extraction's recorded post-processing and compare the hashes. */
import type { Command } from 'commander';
import { replayExtraction, type ReplayReport } from '../../extraction/replay';
import { CliError, requireId, withServices } from '../common';
import type { CliIo } from '../io';

export function registerAuditReplay(audit: Command, io: CliIo): void {
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
        else printReport(io, report);
        if (!report.reproducible) throw new CliError('replay drifted', 2);
      }),
    );
}

/** One line per step, then the output hash and the verdict. */
function printReport(io: CliIo, report: ReplayReport): void {
  const { name, version, sha256 } = report.schema;
  io.out(`schema ${name}@${String(version)} sha256:${sha256}`);
  for (const s of report.steps) {
    io.out(
      `${s.inputMatches && s.outputMatches ? 'OK   ' : 'DRIFT'} ${s.step}@${String(s.version)}`,
    );
  }
  io.out(`${report.outputMatches ? 'OK   ' : 'DRIFT'} output hash`);
  io.out(report.reproducible ? 'reproducible: byte for byte' : 'NOT reproducible');
}
