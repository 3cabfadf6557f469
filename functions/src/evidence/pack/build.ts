/**
 * Assembles the evidence pack from what the auditor's CLI read and verified: the verification
 * report (`verifyExport`, unchanged), the tenant's log (and the platform's, for configuration
 * changes), the period, the sample seed and the trust root. Pure: the CLI does the reading,
 * the writing and the zip; every file of the pack is made here, with the manifest last.
 */
import { createHash } from 'node:crypto';
import type { VerifyReport } from '../verify-export';
import type { TrustedKey } from '../trust-root';
import { controlChanges } from './changes';
import { recordsPerDayChart, sealLagChart } from './charts';
import { continuity } from './continuity';
import { eventsIn } from './events';
import { inPeriod, type PackLog, type Period } from './log';
import { renderReport } from './report';
import { PACK_VERSION, type EvidencePack } from './types';
import { sampleExtractions } from './sample';

export { PACK_VERSION, type EvidencePack, type PackSummary } from './types';

export interface PackInput {
  tenantId: string;
  /** The scope's own log first; the platform's log after it, when the export holds one. */
  logs: PackLog[];
  verification: VerifyReport;
  period: Period;
  seed: string;
  sampleSize: number;
  key: TrustedKey;
  location: string;
  generatedAt: string;
}

export interface ManifestEntry {
  path: string;
  sha256: string;
  bytes: number;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2) + '\n', 'utf8');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export function assemblePack(input: PackInput): EvidencePack {
  const [own] = input.logs;
  if (own === undefined) throw new Error('assemblePack needs the scope log');
  const { period } = input;
  // The platform log contributes its configuration changes only; everything else is the scope's.
  const changeRecords = [
    ...own.records,
    ...input.logs.slice(1).flatMap((l) => l.records.filter((r) => r.kind === 'configuration')),
  ];
  const changes = controlChanges(changeRecords, period);
  const sample = sampleExtractions(own, period, input.seed, input.sampleSize, input.key);
  const access = eventsIn(own.records, 'access', period);
  const notices = eventsIn(own.records, 'notices', period);
  const keys = eventsIn(own.records, 'keys', period);
  const other = eventsIn(own.records, 'other', period);
  const cont = continuity(own.seals, own.records, period);
  const scoped = new Set(input.logs.map((l) => l.tenantId));
  return {
    summary: {
      version: PACK_VERSION,
      tenantId: input.tenantId,
      period,
      generatedAt: input.generatedAt,
      location: input.location,
      trustRoot: { fingerprint: input.key.fingerprint },
      seed: input.seed,
      verification: {
        ok:
          input.verification.ok &&
          input.logs.every((l) =>
            input.verification.tenants.some((t) => t.tenantId === l.tenantId),
          ),
        logs: input.verification.tenants
          .filter((t) => scoped.has(t.tenantId))
          .map((t) => ({
            tenantId: t.tenantId,
            seals: t.seals,
            records: t.records,
            treeSize: t.treeSize,
            rootHash: t.rootHash,
            coverage: t.coverage,
            problemCount: t.problems.length,
            problems: t.problems.slice(0, 50),
          })),
      },
      continuity: cont,
      counts: {
        records: own.records.filter((r) => inPeriod(period, r.createdAt)).length,
        extractions: own.records.filter(
          (r) => r.kind === 'extraction' && inPeriod(period, r.createdAt),
        ).length,
        changes: changes.length,
        sample: sample.length,
        sampleVerified: sample.filter((s) => s.verified).length,
        access: access.length,
        notices: notices.length,
        keyEvents: keys.length,
        otherEvents: other.length,
      },
    },
    changes,
    sample,
    access,
    notices,
    keys,
    other,
  };
}

/**
 * Every file of the pack, by its path in the folder (and the zip): the machine-readable files,
 * the charts, the report and, last, `manifest.json` with the SHA-256 of each of the others.
 */
export function packFiles(pack: EvidencePack): Map<string, Buffer> {
  const records = Buffer.from(recordsPerDayChart(pack.summary.continuity.days), 'utf8');
  const lag = Buffer.from(sealLagChart(pack.summary.continuity.days), 'utf8');
  const files = new Map<string, Buffer>([
    ['summary.json', json(pack.summary)],
    ['changes.json', json(pack.changes)],
    [
      'sample.jsonl',
      Buffer.from(pack.sample.map((s) => JSON.stringify(s) + '\n').join(''), 'utf8'),
    ],
    ['access.json', json(pack.access)],
    ['notices.json', json(pack.notices)],
    ['keys.json', json(pack.keys)],
    ['other-events.json', json(pack.other)],
    ['charts/records-per-day.svg', records],
    ['charts/seal-lag.svg', lag],
    [
      'report.html',
      Buffer.from(
        renderReport(pack, {
          recordsPerDay: records.toString('utf8'),
          sealLag: lag.toString('utf8'),
        }),
        'utf8',
      ),
    ],
  ]);
  const manifest: { version: number; files: ManifestEntry[] } = {
    version: PACK_VERSION,
    files: [...files].map(([path, data]) => ({ path, sha256: sha256(data), bytes: data.length })),
  };
  files.set('manifest.json', json(manifest));
  return files;
}
