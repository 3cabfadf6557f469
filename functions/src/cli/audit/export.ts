/** `audit export`: copy the sealed export (all of it, or one tenant's) to a local folder. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { CliError, openSource, progress, requireId, withServices } from '../common';
import type { CliIo } from '../io';

interface ExportOptions {
  out: string;
  tenant?: string;
  source?: string;
  json?: boolean;
}

export function registerAuditExport(audit: Command, io: CliIo): void {
  audit
    .command('export')
    .description('copy the sealed export from the audit bucket to a folder')
    .requiredOption('--out <dir>', 'destination folder')
    .option('--tenant <id>', 'only this tenant')
    .option('--source <gs://bucket/prefix>', 'export location (default: the audit bucket)')
    .option('--json', 'machine-readable summary')
    .action((options: ExportOptions) =>
      withServices(io, async (services) => {
        const tenant =
          options.tenant === undefined ? undefined : requireId(options.tenant, 'tenant');
        const source = openSource(services, options.source);
        const all = await source.list();
        const files = all.filter((f) => !tenant || f.startsWith(`${tenant}/`));
        // Copying nothing is never a successful export: say what the location holds instead.
        if (files.length === 0) {
          throw new CliError(
            all.length === 0
              ? `nothing exported at ${options.source ?? 'the audit bucket'}: no sealed files there`
              : `no sealed files of tenant ${String(tenant)} at ${options.source ?? 'the audit bucket'} (it holds ${String(all.length)} files of other tenants)`,
          );
        }
        const report = progress(io, 'downloaded');
        for (const [i, file] of files.entries()) {
          const target = path.join(options.out, file);
          mkdirSync(path.dirname(target), { recursive: true });
          writeFileSync(target, await source.read(file));
          report(i + 1, files.length);
        }
        if (options.json) io.out(JSON.stringify({ out: options.out, files: files.length }));
        else io.out(`exported ${String(files.length)} files to ${options.out}`);
      }),
    );
}
