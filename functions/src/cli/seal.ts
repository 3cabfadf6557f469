/** `provenant seal`: one sealing pass now, the same one the scheduler runs (ledger/sealer.ts). */
import type { Command } from 'commander';
import { sealAllTenants, type SealOutcome } from '../ledger/sealer';
import { CliError, withServices } from './common';
import type { CliIo } from './io';

export function registerSealCommand(program: Command, io: CliIo): void {
  program
    .command('seal')
    .description('run one sealing pass over every tenant now (the scheduler does it periodically)')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) =>
      withServices(io, async (services) => {
        const outcomes = await sealAllTenants(services);
        for (const o of outcomes) io.out(options.json ? JSON.stringify(o) : sealOutcomeLine(o));
        // Every tenant is attempted; any failure makes the pass a failure, naming each tenant.
        const failed = outcomes.filter((o) => o.error !== undefined);
        if (failed.length > 0) {
          throw new CliError(
            `sealing failed for ${String(failed.length)} tenant(s): ${failed.map((o) => `${o.tenantId} (${o.error ?? ''})`).join('; ')}`,
          );
        }
      }),
    );
}

/** One tenant's outcome of a pass, as `provenant seal` prints it. */
export function sealOutcomeLine(o: SealOutcome): string {
  if (o.error !== undefined) return `${o.tenantId}: FAILED: ${o.error}`;
  if (o.contendedSeq !== undefined) {
    return `${o.tenantId}: seal ${String(o.contendedSeq)} is being made by another sealer; run again to seal what it leaves`;
  }
  return `${o.tenantId}: ${o.seq === null ? 'nothing new to seal' : `seal ${String(o.seq)} with ${String(o.records)} record(s)${o.resumed ? ' (resumed)' : ''}`}`;
}
