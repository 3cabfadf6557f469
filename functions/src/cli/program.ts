/**
 * `npx provenant`: the one entry point for operators and auditors. Commands are thin: they
 * parse arguments and call the same modules the functions run.
 */
import { Command } from 'commander';
import { EvidenceRecordSchema, verifyContentHash } from '../evidence/record';
import { isValidId } from '../tenancy/firestore';
import { onboardTenant } from '../lifecycle/onboarding';
import { sealAllTenants } from '../ledger/sealer';
import { registerAuditCommands } from './audit';
import { CliError, withServices } from './common';
import { defaultIo, type CliIo } from './io';
import { registerKeyCommands } from './keys';

export function buildProgram(io: CliIo = defaultIo): Command {
  const program = new Command('provenant')
    .description('Provenant operations and audit')
    .showHelpAfterError()
    .exitOverride();

  const tenant = program.command('tenant').description('tenant lifecycle');
  tenant
    .command('onboard')
    .description('create a tenant with its own KMS key and a first API key (shown once)')
    .argument('<tenantId>', 'letters, digits, - or _')
    .requiredOption('--name <name>', 'display name')
    .option('--json', 'machine-readable output')
    .action((tenantId: string, options: { name: string; json?: boolean }) =>
      withServices(io, async (services) => {
        const result = await onboardTenant(services, { tenantId, name: options.name });
        if (options.json) {
          io.out(
            JSON.stringify({ tenantId, kekName: result.tenant.kekName, apiKey: result.apiKey }),
          );
        } else {
          io.out(`tenant ${tenantId} onboarded; KEK ${result.tenant.kekName}`);
          io.out(`API key (shown once, store it now): ${result.apiKey.token}`);
        }
      }),
    );

  const evidence = program.command('evidence').description('evidence records');
  evidence
    .command('show')
    .description('print an evidence record and check its content hash')
    .argument('<tenantId>')
    .argument('<evidenceId>')
    .option('--json', 'machine-readable output')
    .action((tenantId: string, evidenceId: string, options: { json?: boolean }) =>
      withServices(io, async (services) => {
        if (!isValidId(tenantId) || !isValidId(evidenceId)) {
          throw new CliError('invalid tenant or evidence id');
        }
        const profile = await services.platform.getTenant(tenantId);
        if (!profile) throw new CliError(`tenant ${tenantId} not found`);
        const data = await services.platform.tenantDb(profile).get('evidence', evidenceId);
        if (!data) throw new CliError(`evidence ${evidenceId} not found`);
        const record = EvidenceRecordSchema.parse(data);
        const intact = verifyContentHash(record);
        if (options.json) io.out(JSON.stringify({ record, contentHashValid: intact }));
        else if (record.kind === 'extraction') {
          io.out(
            `evidence ${record.id} (extraction ${record.extractionId}) created ${record.createdAt}`,
          );
          io.out(
            `model: ${record.model.provider} ${record.model.model} → ${record.model.modelVersion}`,
          );
          io.out(
            `system prompt sha256 ${record.model.systemPromptSha256} (${record.model.promptTemplateVersion})`,
          );
          io.out(
            `post-processing: ${record.postProcessing.map((s) => `${s.step}@${String(s.version)}`).join(' → ')}`,
          );
          io.out(`content hash ${record.contentSha256}: ${intact ? 'valid' : 'MISMATCH'}`);
        } else {
          io.out(
            `evidence ${record.id} (${record.kind} of ${record.subject.type} ${record.subject.id}) created ${record.createdAt}`,
          );
          io.out(`content hash ${record.contentSha256}: ${intact ? 'valid' : 'MISMATCH'}`);
        }
        if (!intact) throw new CliError('the content hash does not match the record', 2);
      }),
    );

  program
    .command('seal')
    .description('run one sealing pass over every tenant now (the scheduler does it periodically)')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) =>
      withServices(io, async (services) => {
        const outcomes = await sealAllTenants(services);
        for (const o of outcomes) {
          io.out(
            options.json
              ? JSON.stringify(o)
              : `${o.tenantId}: ${o.seq === null ? 'nothing new to seal' : `seal ${String(o.seq)} with ${String(o.records)} record(s)${o.resumed ? ' (resumed)' : ''}`}`,
          );
        }
      }),
    );

  registerAuditCommands(program, io);
  registerKeyCommands(program, io);
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const program = buildProgram(io);
  program.configureOutput({
    writeOut: (s) => {
      io.out(s.trimEnd());
    },
    writeErr: (s) => {
      io.err(s.trimEnd());
    },
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`error: ${err.message}`);
      return err.exitCode;
    }
    const code = (err as { exitCode?: unknown }).exitCode;
    if (typeof code === 'number') return code;
    io.err(`error: ${(err as Error).message}`);
    return 1;
  }
}
