/**
 * `npx provenant`: the one entry point for operators and auditors. Each command group lives in
 * its own module; this one builds the program, wires the groups and maps failures to exit codes.
 */
import { Command } from 'commander';
import { registerAccessReviewCommand } from './access-review';
import { registerAuditCommands } from './audit';
import { CliError } from './common';
import { registerConfigCommands } from './config';
import { registerEvidenceCommands } from './evidence';
import { registerEvidencePackCommand } from './evidence-pack';
import { defaultIo, type CliIo } from './io';
import { registerKeyCommands } from './keys';
import { registerRetentionCommand } from './retention';
import { registerSealCommand } from './seal';
import { registerSubprocessorCommands } from './subprocessors';
import { registerTenantCommands } from './tenant';

export function buildProgram(io: CliIo = defaultIo): Command {
  const program = new Command('provenant')
    .description('Provenant operations and audit')
    .showHelpAfterError()
    .exitOverride();
  registerTenantCommands(program, io);
  registerEvidenceCommands(program, io);
  registerSealCommand(program, io);
  registerRetentionCommand(program, io);
  registerAuditCommands(program, io);
  registerKeyCommands(program, io);
  registerAccessReviewCommand(program, io);
  registerEvidencePackCommand(program, io);
  registerSubprocessorCommands(program, io);
  registerConfigCommands(program, io);
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
