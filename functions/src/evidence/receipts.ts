/**
 * Evidence receipts: everything a customer needs to check one record offline — the record's
 * metadata and hashes, its inclusion proof in the tenant's log, the signed seal and the public
 * key — and the loader that reads a tenant's sealed log back from an export.
 */
import { z } from 'zod';
import { inclusionProof, leafHash, verifyConsistency, verifyInclusion } from './merkle';
import { EvidenceRecordSchema, verifyContentHash, type EvidenceRecord } from './record';
import { exportPaths, leafData, SealSchema, verifySealSignature, type Seal } from './seal';
import type { ExportSource } from './export-source';
import { matchesTrustRoot, type TrustRoot } from './trust-root';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const ReceiptSchema = z.strictObject({
  version: z.literal(1),
  record: EvidenceRecordSchema,
  leafIndex: z.number().int().nonnegative(),
  inclusionProof: z.array(Hex64),
  seal: SealSchema,
  publicKeyPem: z.string(),
});
export type Receipt = z.infer<typeof ReceiptSchema>;

export interface TenantLog {
  tenantId: string;
  seals: Seal[];
  /** Every sealed record in log order; index = leaf index. */
  records: EvidenceRecord[];
}

/** Reads one tenant's seals and records from an export, in seq and log order. */
export async function loadTenantLog(source: ExportSource, tenantId: string): Promise<TenantLog> {
  const paths = await source.list();
  const seals: Seal[] = [];
  for (const path of paths.filter(
    (p) => p.startsWith(`${tenantId}/`) && p.endsWith('.seal.json'),
  )) {
    seals.push(SealSchema.parse(JSON.parse((await source.read(path)).toString('utf8'))));
  }
  seals.sort((a, b) => a.seq - b.seq);
  const records: EvidenceRecord[] = [];
  for (const seal of seals) {
    const lines = (await source.read(exportPaths('', seal).records))
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    for (const line of lines) records.push(EvidenceRecordSchema.parse(JSON.parse(line)));
  }
  return { tenantId, seals, records };
}

/** The receipt for one record, from the first seal whose tree contains it. */
export function buildReceipt(
  log: TenantLog,
  evidenceId: string,
  publicKeyPem: string,
): Receipt | undefined {
  const leafIndex = log.records.findIndex((r) => r.id === evidenceId);
  if (leafIndex === -1) return undefined;
  const seal = log.seals.find((s) => s.treeSize > leafIndex);
  const record = log.records[leafIndex];
  if (!seal || !record) return undefined;
  const leaves = log.records.slice(0, seal.treeSize).map((r) => leafHash(leafData(r)));
  return {
    version: 1,
    record,
    leafIndex,
    inclusionProof: inclusionProof(leafIndex, leaves).map((h) => h.toString('hex')),
    seal,
    publicKeyPem,
  };
}

export interface ReceiptCheck {
  check: string;
  ok: boolean;
}

/**
 * Verifies a receipt offline against the auditor's trust root, never against the key the
 * receipt carries alone: anyone can sign a one-leaf tree with a key of their own. With a pinned
 * key the seal must verify under it; with a pinned fingerprint the receipt's key must hash to
 * it (SPKI DER) and the seal must verify under that key.
 */
export function verifyReceipt(
  input: unknown,
  trust: TrustRoot,
): { ok: boolean; checks: ReceiptCheck[] } {
  const parsed = ReceiptSchema.safeParse(input);
  if (!parsed.success)
    return { ok: false, checks: [{ check: 'receipt is well-formed', ok: false }] };
  const { record, seal, leafIndex, publicKeyPem } = parsed.data;
  const proof = parsed.data.inclusionProof.map((h) => Buffer.from(h, 'hex'));
  const keyIsTrusted = matchesTrustRoot(trust, publicKeyPem);
  const verifyingKey = 'key' in trust ? trust.key.pem : keyIsTrusted ? publicKeyPem : undefined;
  const checks: ReceiptCheck[] = [
    { check: 'record content hash', ok: verifyContentHash(record) },
    { check: 'record belongs to the seal tenant', ok: record.tenantId === seal.tenantId },
    {
      check: 'record included in the sealed tree',
      ok: verifyInclusion(
        leafIndex,
        seal.treeSize,
        leafHash(leafData(record)),
        proof,
        Buffer.from(seal.rootHash, 'hex'),
      ),
    },
    {
      check: 'the receipt carries the trusted public key',
      ok: keyIsTrusted,
    },
    {
      check: 'seal signature under the trusted key',
      ok: verifyingKey !== undefined && verifySealSignature(seal, verifyingKey),
    },
  ];
  return { ok: checks.every((c) => c.ok), checks };
}

/**
 * What `audit consistency` hands out: two signed seals of one tenant and the RFC 6962 proof
 * that the later tree only extends the earlier one. Anyone holding the earlier seal (a
 * witness, an auditor's last visit) checks it with `verifyConsistencyDocument`.
 */
export const ConsistencyDocumentSchema = z.strictObject({
  version: z.literal(1),
  tenantId: z.string(),
  old: SealSchema,
  new: SealSchema,
  proof: z.array(Hex64),
});
export type ConsistencyDocument = z.infer<typeof ConsistencyDocumentSchema>;

/**
 * Verifies a consistency document offline against a public key the verifier already trusts
 * (both seal signatures, under that key), and the proof between the two signed roots.
 */
export function verifyConsistencyDocument(
  input: unknown,
  trustedKeyPem: string,
): { ok: boolean; checks: ReceiptCheck[] } {
  const parsed = ConsistencyDocumentSchema.safeParse(input);
  if (!parsed.success)
    return { ok: false, checks: [{ check: 'document is well-formed', ok: false }] };
  const { tenantId, old: a, new: b, proof } = parsed.data;
  const checks: ReceiptCheck[] = [
    {
      check: 'both seals belong to the tenant',
      ok: a.tenantId === tenantId && b.tenantId === tenantId,
    },
    { check: 'the old seal precedes the new one', ok: a.seq <= b.seq && a.treeSize <= b.treeSize },
    { check: 'old seal signature', ok: verifySealSignature(a, trustedKeyPem) },
    { check: 'new seal signature', ok: verifySealSignature(b, trustedKeyPem) },
    {
      check: 'the new tree extends the old one',
      ok: verifyConsistency(
        a.treeSize,
        b.treeSize,
        Buffer.from(a.rootHash, 'hex'),
        Buffer.from(b.rootHash, 'hex'),
        proof.map((h) => Buffer.from(h, 'hex')),
      ),
    },
  ];
  return { ok: checks.every((c) => c.ok), checks };
}
