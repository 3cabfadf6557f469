/**
 * Customer witnesses: a tenant registers an Ed25519 cosigner key (C2SP tlog-cosignature vkey);
 * the witness fetches our checkpoints, checks each is consistent with the last one it saw, and
 * hands back its cosignature. We accept it only when it verifies over our checkpoint and our
 * own tiles prove the checkpoint extends the last one this witness cosigned; it is stored
 * create-only and Locked in the audit bucket beside the log, so it is exported with it and
 * `audit verify` reports the checkpoint as witnessed. A log that showed the witness one history
 * and an auditor another would need a cosignature the witness never made.
 */
import { badRequest, conflict, forbidden, notFound, unprocessable } from '../errors';
import {
  decideCosignature,
  parseWitnessVerifierKey,
  type CosignatureDecision,
  type WitnessHead,
} from '../evidence/cosignature';
import { verifyConsistency } from '../evidence/merkle';
import { parseCheckpointText, parseSignatureLine, parseSignedNote } from '../evidence/note';
import { SealSchema } from '../evidence/seal';
import { log } from '../logging';
import type { Services } from '../services';
import { COMMIT_TIME } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';
import { retentionDays } from './sealer';
import {
  bucketTileReader,
  cosignatureName,
  readCheckpointNote,
  tlogBase,
  witnessKeyName,
} from './tile-log';

export interface WitnessView {
  keyId: string;
  name: string;
  vkey: string;
  lastCosigned: { seq: number; treeSize: number } | null;
}

interface StoredHead {
  seq: number;
  size: number;
  rootHash: string;
}

function toView(keyId: string, data: Record<string, unknown>): WitnessView {
  const last = data.last as StoredHead | null;
  return {
    keyId,
    name: String(data.name),
    vkey: String(data.vkey),
    lastCosigned: last ? { seq: last.seq, treeSize: last.size } : null,
  };
}

function retainUntil(services: Services, tenant: TenantProfile): Date {
  return new Date(Date.now() + retentionDays(services, tenant) * 86_400_000);
}

type CosignatureRefusal = Exclude<CosignatureDecision, { ok: true }>['code'];

/** The API error of each refusal (codes spelled out: docs/api.md is checked against them). */
function refusalError(code: CosignatureRefusal, message: string): Error {
  switch (code) {
    case 'unknown_witness':
      return forbidden('unknown_witness', message);
    case 'invalid_cosignature':
      return unprocessable('invalid_cosignature', message);
    case 'cosignature_not_newer':
      return conflict('cosignature_not_newer', message);
    case 'witness_inconsistent':
      return conflict('witness_inconsistent', message);
  }
}

/** Registers a witness key; the same key twice is `409 witness_exists`. */
export async function registerWitness(
  services: Services,
  tenant: TenantProfile,
  vkey: string,
  createdBy: string,
): Promise<WitnessView> {
  const key = parseWitnessVerifierKey(vkey);
  if (!key) {
    throw badRequest(
      'invalid_witness_key',
      'vkey must be <name>+<hex key ID>+base64(0x04 || 32-byte Ed25519 key), the key ID matching (c2sp.org/tlog-cosignature)',
    );
  }
  const keyId = key.keyId.toString('hex');
  const db = services.platform.tenantDb(tenant);
  const normalized = vkey.trim();
  if (
    !(await db.createIfAbsent('witnesses', keyId, {
      name: key.name,
      vkey: normalized,
      createdBy,
      createdAt: COMMIT_TIME,
      last: null,
    }))
  ) {
    throw conflict('witness_exists', 'this witness key is already registered');
  }
  // The key beside the log in the audit bucket, so an export can be checked offline.
  const bucket = services.config.AUDIT_BUCKET;
  const name = witnessKeyName(tlogBase(services.config.AUDIT_EXPORT_PREFIX, tenant.id), keyId);
  try {
    await services.objects.putNew(bucket, name, Buffer.from(`${normalized}\n`), {
      contentType: 'text/plain; charset=utf-8',
      retainUntil: retainUntil(services, tenant),
      retentionMode: 'Locked',
    });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 412) throw err;
  }
  log('witness_registered', { tenantId: tenant.id, keyId });
  return { keyId, name: key.name, vkey: normalized, lastCosigned: null };
}

export async function listWitnesses(
  services: Services,
  tenant: TenantProfile,
): Promise<WitnessView[]> {
  const docs = await services.platform.tenantDb(tenant).list('witnesses');
  return docs.map((d) => toView(d.id, d.data)).sort((a, b) => a.keyId.localeCompare(b.keyId));
}

/**
 * Accepts a witness's cosignature line over checkpoint `seq`. Refused: an unregistered key
 * (`403 unknown_witness`), a signature that does not verify over our checkpoint
 * (`422 invalid_cosignature`), a checkpoint not newer than the witness's last one
 * (`409 cosignature_not_newer`, a replay included), or one our tiles cannot prove consistent
 * with it (`409 witness_inconsistent`).
 */
export async function acceptCosignature(
  services: Services,
  tenant: TenantProfile,
  seq: number,
  line: string,
  now: Date = new Date(),
): Promise<{ seq: number; witness: string; note: string }> {
  const signature = parseSignatureLine(line);
  if (!signature) throw unprocessable('invalid_cosignature', 'the cosignature line is malformed');
  const keyId = signature.keyId.toString('hex');
  const db = services.platform.tenantDb(tenant);
  const doc = await db.get('witnesses', keyId);
  const key = doc ? parseWitnessVerifierKey(String(doc.vkey)) : undefined;
  const refuse = <E extends Error>(code: CosignatureRefusal, error: E): E => {
    log('cosignature_refused', { tenantId: tenant.id, keyId, seq, code });
    return error;
  };
  if (!doc || !key) {
    throw refuse(
      'unknown_witness',
      forbidden('unknown_witness', 'no witness with this key is registered'),
    );
  }

  const note = await readCheckpointNote(services, tenant.id, seq);
  const sealDoc = await db.get('seals', String(seq).padStart(6, '0'));
  if (note === undefined || !sealDoc) throw notFound('checkpoint');
  const seal = SealSchema.parse(sealDoc.seal);
  const text = parseSignedNote(note)?.text ?? '';
  const body = parseCheckpointText(text);
  if (!body) throw new Error(`checkpoint ${String(seq)} of ${tenant.id} is malformed`);

  const stored = doc.last as StoredHead | null;
  const last: WitnessHead | null = stored
    ? { seq: stored.seq, size: stored.size, rootHash: Buffer.from(stored.rootHash, 'hex') }
    : null;
  const proof =
    last && last.seq < seq && last.size <= body.size
      ? await bucketTileReader(services, tenant.id, seal.treeSize).consistencyProof(last.size)
      : [];
  const decision = decideCosignature({
    seq,
    text,
    size: body.size,
    rootHash: body.rootHash,
    line,
    witness: key,
    last,
    proof,
    verifyConsistency,
    now,
  });
  if (!decision.ok) throw refuse(decision.code, refusalError(decision.code, decision.message));

  // The cosigned checkpoint: our signed note with the witness's line appended.
  const cosigned = `${note}${line.endsWith('\n') ? line : `${line}\n`}`;
  const bucket = services.config.AUDIT_BUCKET;
  const name = cosignatureName(
    tlogBase(services.config.AUDIT_EXPORT_PREFIX, tenant.id),
    keyId,
    seq,
  );
  try {
    await services.objects.putNew(bucket, name, Buffer.from(cosigned), {
      contentType: 'text/plain; charset=utf-8',
      retainUntil: retainUntil(services, tenant),
      retentionMode: 'Locked',
    });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 412) throw err;
    throw refuse(
      'cosignature_not_newer',
      conflict(
        'cosignature_not_newer',
        `checkpoint ${String(seq)} is already cosigned by this witness`,
      ),
    );
  }
  // Move the witness's head forward only from the head this decision was made against.
  await db.runTransaction(async (tx) => {
    const current = await tx.get('witnesses', keyId);
    const head = (current?.last as StoredHead | null) ?? null;
    if ((head?.seq ?? 0) !== (stored?.seq ?? 0)) {
      throw conflict(
        'cosignature_not_newer',
        'another cosignature of this witness was accepted meanwhile',
      );
    }
    tx.update('witnesses', keyId, {
      last: { seq, size: body.size, rootHash: body.rootHash.toString('hex') },
    });
  });
  log('cosignature_accepted', { tenantId: tenant.id, keyId, seq, treeSize: body.size });
  return { seq, witness: keyId, note: cosigned };
}
