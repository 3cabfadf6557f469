/**
 * A tenant's sealed log as the evidence pack reads it: every seal, and every record line with
 * its exact bytes, leaf index and the seal that added it. Records are read by their common
 * fields only, so an event kind this build does not know yet (a newer platform's
 * `configuration` or `subprocessor_notice`) still shows in the pack by its kind; whether the
 * export is intact is `verifyExport`'s verdict, which the pack reports beside it.
 */
import type { ExportSource } from '../export-source';
import { leafHash } from '../merkle';
import { exportPaths, SealSchema, type Seal } from '../seal';

/** One record line of the log. */
export interface PackRecord {
  id: string;
  tenantId: string;
  kind: string;
  createdAt: string;
  /** Position in the tenant's Merkle tree (0-based). */
  leafIndex: number;
  /** The seal that added it, and when that seal was signed. */
  seq: number;
  sealedAt: string;
  /** The line exactly as exported: its leaf hash is what the seal signs. */
  line: Buffer;
  /** The parsed line. */
  body: Record<string, unknown>;
}

export interface PackLog {
  tenantId: string;
  seals: Seal[];
  records: PackRecord[];
  /** The leaf hash of every line, parsed or not, in log order: index = leaf index. */
  leaves: Buffer[];
  /** Lines that are not a JSON object with an id, kind and createdAt (verification names them). */
  unreadable: number;
}

function splitLines(data: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, start)) {
    lines.push(data.subarray(start, i));
    start = i + 1;
  }
  if (start < data.length) lines.push(data.subarray(start));
  return lines;
}

function parseLine(line: Buffer): Record<string, unknown> | undefined {
  try {
    const json = JSON.parse(line.toString('utf8')) as unknown;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
    const o = json as Record<string, unknown>;
    return typeof o.id === 'string' && typeof o.kind === 'string' && typeof o.createdAt === 'string'
      ? o
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads one tenant's seals (those that parse) in seq order and the records of each, in log
 * order. Missing or unreadable files are skipped: the verification summary reports them.
 */
export async function readPackLog(source: ExportSource, tenantId: string): Promise<PackLog> {
  const paths = (await source.list()).filter((p) => p.startsWith(`${tenantId}/`));
  const present = new Set(paths);
  const seals: Seal[] = [];
  for (const path of paths.filter((p) => p.endsWith('.seal.json'))) {
    try {
      const parsed = SealSchema.safeParse(JSON.parse((await source.read(path)).toString('utf8')));
      if (parsed.success) seals.push(parsed.data);
    } catch {
      // reported by verifyExport as unreadable or misshapen
    }
  }
  seals.sort((a, b) => a.seq - b.seq);
  const records: PackRecord[] = [];
  let unreadable = 0;
  const leaves: Buffer[] = [];
  for (const seal of seals) {
    const path = exportPaths('', seal).records;
    if (!present.has(path)) continue;
    for (const line of splitLines(await source.read(path))) {
      const leafIndex = leaves.length;
      leaves.push(leafHash(line));
      const body = parseLine(line);
      if (body === undefined) unreadable += 1;
      else
        records.push({
          id: body.id as string,
          tenantId: typeof body.tenantId === 'string' ? body.tenantId : tenantId,
          kind: body.kind as string,
          createdAt: body.createdAt as string,
          leafIndex,
          seq: seal.seq,
          sealedAt: seal.sealedAt,
          line,
          body,
        });
    }
  }
  return { tenantId, seals, records, leaves, unreadable };
}

/** The audit period, `from` inclusive, `to` exclusive, as millisecond ISO strings. */
export interface Period {
  from: string;
  to: string;
}

export const inPeriod = (period: Period, at: string): boolean =>
  at >= period.from && at < period.to;
