/**
 * The reproducible sample: extraction records of the period chosen by a seed, each with its
 * tuple (the record itself), its inclusion proof in the seal that added it and that seal, as a
 * receipt (`receipts.ts`) checked with `verifyReceipt` against the auditor's trust root. Anyone
 * with the same export, period and seed selects the same records: each record's rank is the
 * SHA-256 of the seed and its id, which no one writing records can aim at without the seed.
 */
import { createHash } from 'node:crypto';
import { inclusionProof } from '../merkle';
import { EvidenceRecordSchema } from '../record';
import { verifyReceipt, type Receipt, type ReceiptCheck } from '../receipts';
import type { TrustedKey } from '../trust-root';
import { inPeriod, type PackLog, type Period } from './log';

export interface SampleEntry {
  evidenceId: string;
  extractionId: string;
  createdAt: string;
  receipt: Receipt;
  /** verifyReceipt's checks under the trust root. */
  verified: boolean;
  checks: ReceiptCheck[];
}

/** The seed when none is given: derived from the scope and the period, so a rerun agrees. */
export function defaultSeed(tenantId: string, period: Period): string {
  return createHash('sha256')
    .update(`provenant-evidence-pack|${tenantId}|${period.from}|${period.to}`)
    .digest('hex')
    .slice(0, 16);
}

const rank = (seed: string, id: string) =>
  createHash('sha256').update(`${seed}\n${id}`).digest('hex');

/** The ids of up to `size` items, the lowest ranks under the seed. */
export function selectSample(ids: readonly string[], seed: string, size: number): string[] {
  return ids
    .map((id) => ({ id, r: rank(seed, id) }))
    .sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0))
    .slice(0, size)
    .map((x) => x.id);
}

/** Samples the period's extraction records of the log and proves each under the trust root. */
export function sampleExtractions(
  log: PackLog,
  period: Period,
  seed: string,
  size: number,
  key: TrustedKey,
): SampleEntry[] {
  const candidates = log.records.filter(
    (r) => r.kind === 'extraction' && inPeriod(period, r.createdAt),
  );
  const chosen = new Set(
    selectSample(
      candidates.map((r) => r.id),
      seed,
      size,
    ),
  );
  // Each proof is over the log as far as the record's own seal, as the seal signs it.
  const out: SampleEntry[] = [];
  for (const r of candidates.filter((c) => chosen.has(c.id))) {
    const seal = log.seals.find((s) => s.seq === r.seq);
    const record = EvidenceRecordSchema.safeParse(r.body);
    if (seal === undefined || !record.success || seal.treeSize > log.leaves.length) continue;
    const receipt: Receipt = {
      version: 1,
      record: record.data,
      leafIndex: r.leafIndex,
      inclusionProof: inclusionProof(r.leafIndex, log.leaves.slice(0, seal.treeSize)).map((h) =>
        h.toString('hex'),
      ),
      seal,
      publicKeyPem: key.pem,
    };
    const result = verifyReceipt(receipt, { key });
    out.push({
      evidenceId: r.id,
      extractionId: record.data.kind === 'extraction' ? record.data.extractionId : '',
      createdAt: r.createdAt,
      receipt,
      verified: result.ok,
      checks: result.checks,
    });
  }
  return out;
}
