/**
 * `provenant config record`: the configuration fingerprint (lifecycle/configuration.ts), written
 * to the `platform` evidence log when it differs from the last one recorded. Every deploy
 * (docs/deploy.md) and every local stack start run it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  CONFIGURATION_TRIGGERS,
  describeConfigurationOutcome,
  recordConfiguration,
  type ConfigurationTrigger,
} from '../lifecycle/configuration';
import { defaultRegistryDir } from '../subprocessors/registry';
import { CliError, withServices } from './common';
import type { CliIo } from './io';

interface ConfigOptions {
  root?: string;
  json?: boolean;
}

/** The checkout to fingerprint: `--root`, else the one this CLI was built from. */
function checkoutRoot(options: ConfigOptions): string {
  const root = path.resolve(options.root ?? path.dirname(defaultRegistryDir()));
  // The installed package has no rules or Terraform: only a checkout has a configuration.
  for (const part of ['firestore.rules', 'terraform', 'subprocessors']) {
    if (!existsSync(path.join(root, part)))
      throw new CliError(
        `${root} is not a Provenant checkout (no ${part}); run it from the repository or give --root`,
      );
  }
  return root;
}

function parseTrigger(value: string): ConfigurationTrigger {
  const trigger = CONFIGURATION_TRIGGERS.find((t) => t === value);
  if (!trigger)
    throw new CliError(
      `invalid --trigger ${JSON.stringify(value)}: one of ${CONFIGURATION_TRIGGERS.join(', ')}`,
    );
  return trigger;
}

export function registerConfigCommands(program: Command, io: CliIo): void {
  const config = program
    .command('config')
    .description('the configuration fingerprint, recorded as evidence in the platform log');
  config
    .command('record')
    .description(
      'record the fingerprint of rules, prompts, schemas, steps, sub-processors, Terraform and models in the platform log, unless the last record holds the same one',
    )
    .option('--root <dir>', 'the checkout to fingerprint (default: the one this CLI runs from)')
    .option('--trigger <trigger>', `what ran it: ${CONFIGURATION_TRIGGERS.join(', ')}`, 'cli')
    .option('--json', 'machine-readable output')
    .action((options: ConfigOptions & { trigger: string }) => {
      const root = checkoutRoot(options);
      const trigger = parseTrigger(options.trigger);
      return withServices(io, async (services) => {
        const outcome = await recordConfiguration(services, { root, trigger });
        if (options.json)
          io.out(
            JSON.stringify({
              recorded: outcome.recorded,
              evidenceId: outcome.evidenceId,
              seq: outcome.seq,
              sha256: outcome.fingerprint.sha256,
              changed: outcome.changed,
            }),
          );
        else io.out(describeConfigurationOutcome(outcome));
      });
    });
}
