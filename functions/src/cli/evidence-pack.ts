/**
 * `npx provenant evidence-pack`: the auditor's pack for one tenant (or the platform's own log)
 * over a period. It reads what `audit verify` reads (the exported, locked audit bucket or a
 * local copy) with the same trust-root options, runs the same verifier, and writes a folder and
 * a zip: an HTML report, the machine-readable files and a manifest of their SHA-256. Nothing
 * secret is read, and no project configuration (`trust.ts`).
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { ZipFile } from 'yazl';
import type { ExportSource } from '../evidence/export-source';
import { assemblePack, packFiles } from '../evidence/pack/build';
import { readPackLog } from '../evidence/pack/log';
import { defaultSeed } from '../evidence/pack/sample';
import { verifyExport } from '../evidence/verify-export';
import { CliError, progress, requireId, requireIsoDate } from './common';
import type { CliIo } from './io';
import {
  addTrustOptions,
  describeLocation,
  openAuditLocation,
  resolveTrustedKey,
  type TrustOptions,
} from './trust';

/** The tenant id of the platform's own log (configuration changes). */
export const PLATFORM_LOG = 'platform';

interface PackOptions extends TrustOptions {
  tenant?: string;
  platform?: boolean;
  from?: string;
  to?: string;
  out?: string;
  source?: string;
  seed?: string;
  sampleSize?: string;
}

/** Only the files of these logs. */
function onlyLogs(source: ExportSource, tenantIds: readonly string[]): ExportSource {
  return {
    list: async () =>
      (await source.list()).filter((p) => tenantIds.some((t) => p.startsWith(`${t}/`))),
    read: (path) => source.read(path),
  };
}

function parseOptions(options: PackOptions) {
  if ((options.tenant === undefined) === (options.platform !== true))
    throw new CliError('give one scope: --tenant ID or --platform');
  const tenantId =
    options.platform === true ? PLATFORM_LOG : requireId(options.tenant ?? '', 'tenant');
  const from = requireIsoDate(options.from, '--from');
  const to = requireIsoDate(options.to, '--to');
  if (from === undefined || to === undefined)
    throw new CliError('give the period: --from DATE --to DATE (--to is exclusive)');
  if (from >= to) throw new CliError(`--from (${from}) must be before --to (${to})`);
  if (options.out === undefined) throw new CliError('give the output folder: --out DIR');
  const sampleSize = Number(options.sampleSize ?? '25');
  if (!/^\d+$/.test(options.sampleSize ?? '25') || sampleSize > 10_000)
    throw new CliError(`invalid --sample-size ${JSON.stringify(options.sampleSize)}: 0..10000`);
  if (options.seed !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(options.seed))
    throw new CliError(
      `invalid --seed ${JSON.stringify(options.seed)}: 1 to 64 letters, digits, '.', '_' or '-'`,
    );
  const period = { from, to };
  return {
    tenantId,
    period,
    out: resolve(options.out),
    sampleSize,
    seed: options.seed ?? defaultSeed(tenantId, period),
  };
}

/** Writes the zip of the pack's files under `<folder name>/`, dated by the pack's generation. */
async function writeZip(zipPath: string, folder: string, files: Map<string, Buffer>, at: Date) {
  const zip = new ZipFile();
  const done = finished(zip.outputStream.pipe(createWriteStream(zipPath)));
  for (const [path, data] of files) zip.addBuffer(data, `${folder}/${path}`, { mtime: at });
  zip.end();
  await done;
}

export function registerEvidencePackCommand(program: Command, io: CliIo): void {
  addTrustOptions(
    program
      .command('evidence-pack')
      .description(
        'an auditor pack for a period: seal verification, continuity, control changes, a proven sample, access, notices and key events (HTML + JSON + zip)',
      )
      .option('--tenant <id>', 'the tenant whose log to pack')
      .option('--platform', "the platform's own log (configuration changes)")
      .option('--from <date>', 'start of the period (inclusive), ISO 8601')
      .option('--to <date>', 'end of the period (exclusive), ISO 8601')
      .option('--out <dir>', 'the folder to write; the zip is written beside it as DIR.zip')
      .option(
        '--source <location>',
        'an exported folder, or gs://bucket[/prefix] (default: the configured audit bucket)',
      )
      .option('--seed <seed>', 'selects the sample (default: derived from the scope and period)')
      .option('--sample-size <n>', 'extractions in the sample (default 25)'),
  ).action(async (options: PackOptions) => {
    const { tenantId, period, out, sampleSize, seed } = parseOptions(options);
    if (existsSync(out) && readdirSync(out).length > 0)
      throw new CliError(`${out} exists and is not empty: give a new folder`);
    const key = await resolveTrustedKey(options);
    const opened = openAuditLocation(options.source);
    const files = await opened.source.list();
    const logs = [tenantId];
    // A tenant's controls include the platform's configuration: its log is packed beside.
    if (tenantId !== PLATFORM_LOG && files.some((f) => f.startsWith(`${PLATFORM_LOG}/`)))
      logs.push(PLATFORM_LOG);
    const source = onlyLogs(opened.source, logs);

    // The same verifier as `audit verify`, under the pinned key only.
    const verification = await verifyExport(
      source,
      () => Promise.resolve(key.pem),
      progress(io, 'verified records'),
    );
    if (!verification.tenants.some((t) => t.tenantId === tenantId && t.seals > 0))
      throw new CliError(
        `nothing to pack at ${opened.label}: no seals of ${tenantId}; ${await describeLocation(opened)}`,
        2,
      );
    const step = progress(io, 'evidence pack');
    const total = logs.length + 2;
    const packLogs = [];
    for (const [i, id] of logs.entries()) {
      packLogs.push(await readPackLog(source, id));
      step(i + 1, total);
    }
    const generatedAt = new Date();
    const pack = assemblePack({
      tenantId,
      logs: packLogs,
      verification,
      period,
      seed,
      sampleSize,
      key,
      location: opened.label,
      generatedAt: generatedAt.toISOString(),
    });
    const content = packFiles(pack);
    for (const [path, data] of content) {
      const file = join(out, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, data);
    }
    step(logs.length + 1, total);
    const zipPath = `${out}.zip`;
    await writeZip(zipPath, basename(out), content, generatedAt);
    step(total, total);

    const s = pack.summary;
    io.out(
      `${s.verification.ok ? 'OK  ' : 'FAIL'} ${tenantId} ${period.from} .. ${period.to}: ${String(s.counts.records)} records, ${String(s.continuity.sealsInPeriod)} seals, ${String(s.continuity.daysWithoutSeals.length)} days without seals, ${String(s.continuity.seqGaps.length)} seq gaps`,
    );
    io.out(
      `${String(s.counts.changes)} control changes, sample ${String(s.counts.sampleVerified)}/${String(s.counts.sample)} verified (seed ${seed}), ${String(s.counts.access)} break-glass accesses, ${String(s.counts.notices)} sub-processor notices, ${String(s.counts.keyEvents)} key events`,
    );
    io.out(`pack written to ${out} and ${zipPath}`);
    if (!s.verification.ok) throw new CliError('verification failed: see the report', 2);
    if (s.counts.sampleVerified !== s.counts.sample)
      throw new CliError('a sampled record did not verify: see the report', 2);
  });
}
