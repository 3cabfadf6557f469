/**
 * Seals: signed tree heads over a tenant's append-only evidence log (Certificate-Transparency
 * style). Seal n covers ALL leaves so far (the tenant's records in `(createdAt, id)` order), names
 * the batch of records it added, and links to seal n-1 by hash, so deleting, reordering or
 * rewriting any record or any seal breaks either a root, a link or a signature. This module is
 * shared by the sealer (which signs) and the export verifier / auditor CLI (which check).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical';
import type { EvidenceRecord } from './record';
import { contextBytes, contextDigest } from './signing-context';

/** Version of the seal format; bumped only with a new schema. */
export const SEAL_VERSION = 1;

/** Coverage of seq 1 starts at the epoch: every record ever written is after it. */
export const EPOCH_ISO = '1970-01-01T00:00:00.000Z';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
// Millisecond UTC ('Z') timestamps only: coverage bounds are compared with createdAt as strings,
// which is only a correct time comparison when every value has the same fixed-width format.
const IsoMs = z.iso.datetime({ precision: 3 });
const Count = z.number().int().nonnegative();

/** A seal as stored in Firestore (`tenants/{t}/seals/{seq}`) and exported as `.seal.json`. */
export const SealSchema = z.strictObject({
  version: z.literal(SEAL_VERSION),
  tenantId: z.string(),
  /** 1, 2, 3, ... per tenant, without gaps. */
  seq: z.number().int().positive(),
  /** Leaves in the whole log after this seal. */
  treeSize: Count,
  /** MTH over leaves [0, treeSize), lowercase hex. */
  rootHash: Hex64,
  /** The records this seal added: leaves [firstIndex, firstIndex + count). */
  batch: z.strictObject({ firstIndex: Count, count: Count }),
  /** Records with from < createdAt <= to; from is the previous seal's to (epoch for seq 1). */
  coverage: z.strictObject({ from: IsoMs, to: IsoMs }),
  /** sealHash of the previous seal; null for seq 1. */
  prevSealHash: Hex64.nullable(),
  sealedAt: IsoMs,
  signature: z.strictObject({
    keyVersion: z.string(),
    algorithm: z.literal('EC_SIGN_P256_SHA256'),
    /** DER-encoded ECDSA signature, base64. */
    value: z.base64().min(1),
  }),
});

/** A signed seal. */
export type Seal = z.infer<typeof SealSchema>;
/** The seal fields that the signature covers. */
export type UnsignedSeal = Omit<Seal, 'signature'>;

/** Drops a `signature` a caller may have passed along, so it can never end up being signed. */
function unsignedPart(seal: UnsignedSeal): UnsignedSeal {
  const { signature: _signature, ...rest } = seal as UnsignedSeal & { signature?: unknown };
  return rest;
}

/** The seal context (signing-context.ts), then the RFC 8785 canonical JSON of the unsigned seal. */
function signedBytes(unsigned: UnsignedSeal): Buffer {
  return contextBytes('seal', canonicalJson(unsignedPart(unsigned)));
}

/**
 * SHA-256 of the seal's signed bytes (its context, then its canonical JSON): the digest handed
 * to KMS AsymmetricSign (`digest.sha256`) for an EC_SIGN_P256_SHA256 key. The context means a
 * signature made for a deletion certificate or a checkpoint never verifies as a seal.
 */
export function sealDigest(unsigned: UnsignedSeal): Buffer {
  return contextDigest('seal', canonicalJson(unsignedPart(unsigned)));
}

/**
 * Hex SHA-256 of the canonical JSON of the whole seal, signature included: the next seal's
 * `prevSealHash`. Including the signature means a re-signed seal also breaks the chain.
 */
export function sealHash(seal: Seal): string {
  return sha256Hex(canonicalJson(seal));
}

function p256Key(publicKeyPem: string): KeyObject | undefined {
  try {
    const key = createPublicKey(publicKeyPem);
    // The algorithm is fixed by the schema; a key of another type or curve cannot have signed it.
    if (key.asymmetricKeyType !== 'ec') return undefined;
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return undefined;
    return key;
  } catch {
    return undefined;
  }
}

/**
 * True when `seal` is well-formed and its DER ECDSA P-256 signature verifies under the PEM key
 * over SHA-256(canonical unsigned seal), which is exactly a KMS signature over `sealDigest`.
 * Never throws: malformed seals, keys or signatures are simply not valid.
 */
export function verifySealSignature(seal: Seal, publicKeyPem: string): boolean {
  const parsed = SealSchema.safeParse(seal);
  if (!parsed.success) return false;
  const key = p256Key(publicKeyPem);
  if (key === undefined) return false;
  const { signature, ...unsigned } = parsed.data;
  try {
    return verify(
      'sha256',
      signedBytes(unsigned),
      { key, dsaEncoding: 'der' },
      Buffer.from(signature.value, 'base64'),
    );
  } catch {
    return false;
  }
}

/** The Merkle leaf data of a record: the exact bytes of its export line. */
export function leafData(record: EvidenceRecord): Buffer {
  return Buffer.from(exportLine(record), 'utf8');
}

/** One `.jsonl` line (without the newline): the record's canonical JSON. */
export function exportLine(record: EvidenceRecord): string {
  return canonicalJson(record);
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * Object paths of a seal's export: `${prefix}/${tenantId}/${yyyy}/${mm}/${dd}/${seq6}.jsonl`
 * and `.seal.json`, dated by `coverage.to` in UTC. An empty prefix gives paths relative to the
 * export root (no leading slash); trailing slashes of the prefix are ignored so `a/` and `a`
 * produce the same paths.
 */
export function exportPaths(prefix: string, seal: Seal): { records: string; seal: string } {
  const to = new Date(seal.coverage.to);
  if (Number.isNaN(to.getTime())) throw new RangeError(`invalid coverage.to ${seal.coverage.to}`);
  const date = `${pad(to.getUTCFullYear(), 4)}/${pad(to.getUTCMonth() + 1, 2)}/${pad(to.getUTCDate(), 2)}`;
  const root = prefix.replace(/\/+$/, '');
  const base = `${root === '' ? '' : `${root}/`}${seal.tenantId}/${date}/${pad(seal.seq, 6)}`;
  return { records: `${base}.jsonl`, seal: `${base}.seal.json` };
}

/** The `.seal.json` file content; readers parse it and never rely on its bytes. */
export function sealFileContent(seal: Seal): string {
  return `${JSON.stringify(seal, null, 2)}\n`;
}

/**
 * Log order: `(createdAt, id)` ascending. createdAt values are compared as strings, which is
 * time order because all of them are UTC ISO timestamps with milliseconds ('...sssZ').
 */
export function compareRecords(
  a: Pick<EvidenceRecord, 'createdAt' | 'id'>,
  b: Pick<EvidenceRecord, 'createdAt' | 'id'>,
): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}
