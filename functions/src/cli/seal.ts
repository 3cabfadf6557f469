/** `provenant seal`: one sealing pass now, the same one the scheduler runs (ledger/sealer.ts). */
import type { Command } from 'commander';
import { sealAllTenants, type SealOutcome } from '../ledger/sealer';
import { withServices } from './common';
import type { CliIo } from './io';

export function registerSealCommand(program: Command, io: CliIo): void {
  program
    .command('seal')
    .description('run one sealing pass over every tenant now (the scheduler does it periodically)')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) =>
      withServices(io, async (services) => {
        const outcomes = await sealAllTenants(services);
        for (const o of outcomes) io.out(options.json ? JSON.stringify(o) : outcomeLine(o));
      }),
    );
}

function outcomeLine(o: SealOutcome): string {
  return `${o.tenantId}: ${o.seq === null ? 'nothing new to seal' : `seal ${String(o.seq)} with ${String(o.records)} record(s)${o.resumed ? ' (resumed)' : ''}`}`;
}
