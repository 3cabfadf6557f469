/**
 * `provenant subprocessors check | diff | build | announce`: the sub-processor registry's gate
 * (run by CI), its machine-readable change set between two git refs, its public trust page, and
 * the notice of a change (run at deploy). All but `announce` need none of the platform's
 * services: they read the registry files and git.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../errors';
import { diffRegistries } from '../subprocessors/diff';
import { checkRegistry } from '../subprocessors/gate';
import { registryAt, registryChangelog, resolveRef } from '../subprocessors/git';
import { buildNotice } from '../subprocessors/notices';
import {
  dayOf,
  DEFAULT_NOTICE_DAYS,
  defaultRegistryDir,
  loadRegistry,
} from '../subprocessors/registry';
import { buildTrustPage } from '../subprocessors/trust-page';
import { announceNotice } from '../webhooks/subprocessor-notices';
import { CliError, withServices } from './common';
import type { CliIo } from './io';
import { codeHosts } from './subprocessors-hosts';

interface RegistryOptions {
  registry?: string;
  repo?: string;
  noticeDays?: string;
  json?: boolean;
}

function registryDir(options: RegistryOptions): string {
  return path.resolve(options.registry ?? defaultRegistryDir());
}

/** The repository the registry lives in: `--repo`, else the registry folder's parent. */
function repoDir(options: RegistryOptions): string {
  return path.resolve(options.repo ?? path.dirname(registryDir(options)));
}

function noticeDays(options: RegistryOptions): number {
  const value = options.noticeDays ?? String(DEFAULT_NOTICE_DAYS);
  if (!/^\d{1,4}$/.test(value)) {
    throw new CliError(`invalid --notice-days ${JSON.stringify(value)}: a whole number of days`);
  }
  return Number(value);
}

/** A registry or git problem is the user's input: one line naming it, exit 1. */
async function reported(fn: () => void | Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof AppError) throw new CliError(err.message);
    throw err;
  }
}

export function registerSubprocessorCommands(program: Command, io: CliIo): void {
  const group = program
    .command('subprocessors')
    .description('the sub-processor registry: check it, diff it between git refs, publish it');

  group
    .command('check')
    .description(
      'notice periods, DPA and purpose of every entry, and that the hosts the code calls are listed and in force; exits 2 on a finding',
    )
    .option('--registry <dir>', 'the registry folder (default: subprocessors/ of this checkout)')
    .option('--notice-days <n>', 'days between announcement and effect', '30')
    .option('--json', 'machine-readable output')
    .action((options: RegistryOptions) =>
      reported(() => {
        const registry = loadRegistry(registryDir(options));
        const today = dayOf(new Date());
        const findings = checkRegistry({
          registry,
          codeHosts: codeHosts(),
          today,
          noticeDays: noticeDays(options),
        });
        if (options.json) {
          io.out(JSON.stringify({ ok: findings.length === 0, today, findings }));
        } else {
          for (const f of findings) io.out(`${f.rule}: ${f.message}`);
          if (findings.length === 0) {
            io.out(`sub-processor registry ok: ${String(registry.entries.length)} entries`);
          }
        }
        if (findings.length > 0) {
          throw new CliError(`${String(findings.length)} sub-processor finding(s)`, 2);
        }
      }),
    );

  group
    .command('diff <refA> <refB>')
    .description('the change set from the registry at refA to the registry at refB, as JSON')
    .option('--repo <dir>', 'the git repository (default: this checkout)')
    .action((refA: string, refB: string, options: RegistryOptions) =>
      reported(() => {
        const repo = repoDir(options);
        io.out(JSON.stringify(diffRegistries(registryAt(repo, refA), registryAt(repo, refB))));
      }),
    );

  group
    .command('build')
    .description('the trust page: index.html, style.css, subprocessors.json, feed.xml (Atom)')
    .requiredOption('--out <dir>', 'where to write the page')
    .option('--registry <dir>', 'the registry folder (default: subprocessors/ of this checkout)')
    .option('--repo <dir>', 'the git repository whose history is the changelog')
    .option('--notice-days <n>', 'days between announcement and effect', '30')
    .option('--base-url <url>', 'where the page is published, for absolute links in the feed')
    .option('--json', 'machine-readable output')
    .action((options: RegistryOptions & { out: string; baseUrl?: string }) =>
      reported(() => {
        if (options.baseUrl !== undefined && !/^https?:\/\/[^/]+\/(.*\/)?$/.test(options.baseUrl)) {
          throw new CliError(`invalid --base-url ${options.baseUrl}: an http(s) URL ending in /`);
        }
        const files = buildTrustPage({
          registry: loadRegistry(registryDir(options)),
          changelog: registryChangelog(repoDir(options)),
          today: dayOf(new Date()),
          noticeDays: noticeDays(options),
          baseUrl: options.baseUrl,
        });
        const out = path.resolve(options.out);
        mkdirSync(out, { recursive: true });
        for (const [name, text] of Object.entries(files)) {
          writeFileSync(path.join(out, name), text);
        }
        const names = Object.keys(files);
        io.out(
          options.json
            ? JSON.stringify({ out, files: names })
            : `wrote ${names.join(', ')} to ${out}`,
        );
      }),
    );

  group
    .command('announce <refA> <refB>')
    .description(
      'the notice of the registry change from refA to refB (run at deploy once it lands): stored once under the hash of its change set and published for the notifier to mail every confirmed subscriber; an empty change set announces nothing',
    )
    .option('--repo <dir>', 'the git repository (default: this checkout)')
    .option('--json', 'machine-readable output')
    .action((refA: string, refB: string, options: RegistryOptions) =>
      reported(async () => {
        const repo = repoDir(options);
        const changeSet = diffRegistries(registryAt(repo, refA), registryAt(repo, refB));
        const notice = buildNotice({
          changeSet,
          fromCommit: resolveRef(repo, refA),
          toCommit: resolveRef(repo, refB),
          announcedOn: dayOf(new Date()),
        });
        if (!notice) {
          io.out(
            options.json
              ? JSON.stringify({ announced: false, reason: 'no_change' })
              : `no sub-processor change between ${refA} and ${refB}: nothing announced`,
          );
          return;
        }
        const { created, stored } = await withServices(io, async (services) => {
          const result = await announceNotice(services, notice);
          return {
            ...result,
            stored: (await services.platform.getSubprocessorNotice(notice.id)) ?? notice,
          };
        });
        io.out(
          options.json
            ? JSON.stringify({ announced: true, created, notice: stored })
            : `${created ? 'announced' : 'already announced (published again for any address not yet served)'} ${stored.id}: ${stored.vendorIds.join(', ')}, objections until ${stored.objectionWindowClosesOn}`,
        );
      }),
    );
}
