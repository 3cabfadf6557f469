/** `audit export`: copy the sealed export (all of it, or one tenant's) to a local folder. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { openSource, progress, requireId, withServices } from '../common';
import type { CliIo } from '../io';

interface ExportOptions {
  out: string;
  tenant?: string;
  source?: string;
}

export function registerAuditExport(audit: Command, io: CliIo): void {
  audit
    .command('export')
    .description('copy the sealed export from the audit bucket to a folder')
    .requiredOption('--out <dir>', 'destination folder')
    .option('--tenant <id>', 'only this tenant')
    .option('--source <gs://bucket/prefix>', 'export location (default: the audit bucket)')
    .action((options: ExportOptions) =>
      withServices(io, async (services) => {
        const source = openSource(services, options.source);
        const files = (await source.list()).filter(
          (f) => !options.tenant || f.startsWith(`${requireId(options.tenant, 'tenant')}/`),
        );
        const report = progress(io, 'downloaded');
        for (const [i, file] of files.entries()) {
          const target = path.join(options.out, file);
          mkdirSync(path.dirname(target), { recursive: true });
          writeFileSync(target, await source.read(file));
          report(i + 1, files.length);
        }
        io.out(`exported ${String(files.length)} files to ${options.out}`);
      }),
    );
}
