/**
 * Which checkpoints of an export are witnessed: every cosigned checkpoint stored beside a
 * tenant's tiled log (`{tenantId}/tlog/cosignatures/{keyId}/{seq6}`) is checked offline —
 * the witness's Ed25519 cosignature under the witness key stored with it
 * (`{tenantId}/tlog/witnesses/{keyId}.vkey`), the log's own signature under the trusted log key,
 * and that the checkpoint names exactly the tree (size and root) of the exported seal of the
 * same seq. A cosignature that fails any of these is a problem, never silently skipped.
 */
import { checkCosignature, parseWitnessVerifierKey } from './cosignature';
import type { ExportSource } from './export-source';
import { logOrigin, openCheckpoint, parseSignedNote, signatureLine } from './note';
import { SealSchema } from './seal';

export interface WitnessedCheckpoint {
  tenantId: string;
  seq: number;
  treeSize: number;
  /** The witness vkey the cosignature verified under. */
  witness: string;
  /** When the witness cosigned (its timestamp), ISO 8601. */
  cosignedAt: string;
}

export interface WitnessProblem {
  tenantId: string;
  path: string;
  message: string;
}

export interface WitnessReport {
  witnessed: WitnessedCheckpoint[];
  problems: WitnessProblem[];
}

const COSIGNATURE_RE = /^([^/]+)\/tlog\/cosignatures\/([0-9a-f]{8})\/(\d{6,})$/;
const VKEY_RE = /^([^/]+)\/tlog\/witnesses\/([0-9a-f]{8})\.vkey$/;
const SEAL_RE = /^([^/]+)\/\d{4}\/\d{2}\/\d{2}\/(\d{6,})\.seal\.json$/;

export async function witnessReport(
  source: ExportSource,
  resolveKey: (keyVersion: string) => Promise<string | undefined>,
): Promise<WitnessReport> {
  const paths = await source.list();
  const vkeys = new Map<string, string>();
  const seals = new Map<string, string>();
  for (const p of paths) {
    const v = VKEY_RE.exec(p);
    if (v) vkeys.set(`${v[1] ?? ''}/${v[2] ?? ''}`, p);
    const s = SEAL_RE.exec(p);
    if (s) seals.set(`${s[1] ?? ''}/${String(Number(s[2]))}`, p);
  }
  const witnessed: WitnessedCheckpoint[] = [];
  const problems: WitnessProblem[] = [];
  for (const path of paths) {
    const m = COSIGNATURE_RE.exec(path);
    if (!m) continue;
    const [, tenantId = '', keyId = '', seq6 = ''] = m;
    const seq = Number(seq6);
    const problem = (message: string) => problems.push({ tenantId, path, message });

    const vkeyPath = vkeys.get(`${tenantId}/${keyId}`);
    const key = vkeyPath
      ? parseWitnessVerifierKey((await source.read(vkeyPath)).toString('utf8'))
      : undefined;
    if (!key || key.keyId.toString('hex') !== keyId) {
      problem(`no valid witness key ${keyId} beside the cosignature`);
      continue;
    }
    const note = (await source.read(path)).toString('utf8');
    const parsed = parseSignedNote(note);
    const mine = parsed?.signatures.find((s) => s.name === key.name && s.keyId.equals(key.keyId));
    const check =
      parsed && mine ? checkCosignature(parsed.text, signatureLine(mine), key) : undefined;
    if (!parsed || !check?.ok) {
      problem('the witness cosignature does not verify');
      continue;
    }
    const sealPath = seals.get(`${tenantId}/${String(seq)}`);
    if (!sealPath) {
      problem(`no exported seal ${String(seq)} for the cosigned checkpoint`);
      continue;
    }
    const seal = SealSchema.safeParse(JSON.parse((await source.read(sealPath)).toString('utf8')));
    const pem = seal.success ? await resolveKey(seal.data.signature.keyVersion) : undefined;
    const body = pem ? openCheckpoint(note, pem) : undefined;
    if (!seal.success || !body) {
      problem('the checkpoint is not signed by the trusted log key');
      continue;
    }
    if (
      body.origin !== logOrigin(tenantId) ||
      body.size !== seal.data.treeSize ||
      body.rootHash.toString('hex') !== seal.data.rootHash
    ) {
      problem(`the cosigned checkpoint is not the tree of seal ${String(seq)}`);
      continue;
    }
    witnessed.push({
      tenantId,
      seq,
      treeSize: body.size,
      witness: `${key.name}+${keyId}`,
      cosignedAt: new Date(Number(check.timestamp) * 1000).toISOString(),
    });
  }
  witnessed.sort((a, b) => a.tenantId.localeCompare(b.tenantId) || a.seq - b.seq);
  return { witnessed, problems };
}
