/**
 * `provenant access-review --from --to [--out DIR]`: the break-glass access review of a period
 * (access/review.ts), written as `access-review-{from}-{to}.html` and `.csv` in DIR (the
 * current folder by default). stdout is one JSON document: the files, the counts and the
 * flagged requests, so a scheduled job can page on anomalies.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadAccessReview, reviewCsv, reviewHtml } from '../access/review';
import { CliError, requireIsoDate, withServices } from './common';
import type { CliIo } from './io';

interface ReviewOptions {
  from: string;
  to: string;
  out?: string;
}

const fileStamp = (iso: string) => iso.replace(/[:.]/g, '').replace(/T000000000Z$/, '');

export function registerAccessReviewCommand(program: Command, io: CliIo): void {
  program
    .command('access-review')
    .description('report every break-glass request, approval, grant and access in a period')
    .requiredOption('--from <iso>', 'requests made at or after (ISO date or date-time)')
    .requiredOption('--to <iso>', 'requests made before (ISO date or date-time)')
    .option('--out <dir>', 'where the HTML and CSV reports go', '.')
    .action((options: ReviewOptions) =>
      withServices(io, async (services) => {
        const from = requireIsoDate(options.from, '--from') ?? '';
        const to = requireIsoDate(options.to, '--to') ?? '';
        if (from >= to) throw new CliError('--from must be before --to');
        const review = await loadAccessReview(services, from, to);
        const dir = path.resolve(options.out ?? '.');
        mkdirSync(dir, { recursive: true });
        const base = path.join(dir, `access-review-${fileStamp(from)}-${fileStamp(to)}`);
        writeFileSync(`${base}.html`, reviewHtml(review));
        writeFileSync(`${base}.csv`, reviewCsv(review));
        const flagged = review.requests.filter((r) => r.anomalies.length > 0);
        io.progress(
          `${String(review.requests.length)} request(s), ${String(flagged.length)} flagged`,
        );
        io.out(
          JSON.stringify({
            html: `${base}.html`,
            csv: `${base}.csv`,
            requests: review.requests.length,
            flagged: flagged.map((r) => ({
              requestId: r.request.id,
              tenantId: r.request.tenantId,
              ticket: r.request.ticket,
              anomalies: r.anomalies,
            })),
          }),
        );
      }),
    );
}
