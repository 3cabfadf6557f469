/**
 * A tenant's evidence log in the audit bucket in the C2SP shape, beside the seal exports:
 *
 *   {AUDIT_EXPORT_PREFIX}/{tenantId}/tlog/tile/<L>/<N>[.p/<W>]        Merkle tiles
 *   {AUDIT_EXPORT_PREFIX}/{tenantId}/tlog/tile/entries/<N>[.p/<W>]    entry bundles (the leaves)
 *   {AUDIT_EXPORT_PREFIX}/{tenantId}/tlog/checkpoints/{seq6}           signed checkpoint of seal seq
 *   {AUDIT_EXPORT_PREFIX}/{tenantId}/tlog/witnesses/{keyId}.vkey      a registered witness key
 *   {AUDIT_EXPORT_PREFIX}/{tenantId}/tlog/cosignatures/{keyId}/{seq6}  a checkpoint with a cosignature
 *
 * Every object is created once and retention-locked like the exports. tlog-tiles serves the
 * latest checkpoint at a mutable `<prefix>/checkpoint`; a Locked bucket cannot hold a mutable
 * object, so every checkpoint keeps its own name and the API lists them.
 *
 * The sealer publishes a seal here after exporting it: the tiles and bundles the seal's batch
 * adds (reading only the previous seal's partial tiles), then the checkpoint, signed with the
 * sealing key, last: a checkpoint is only ever written once its tiles exist and their root is
 * the seal's. A log sealed before tiles existed is caught up seal by seal from its exports.
 */
import { SealSchema, exportPaths, leafData, type Seal } from '../evidence/seal';
import { EvidenceRecordSchema, type EvidenceRecord } from '../evidence/record';
import { logOrigin, openCheckpoint, signCheckpoint } from '../evidence/note';
import { appendToTiles, TileReader } from '../evidence/tiles';
import { log } from '../logging';
import type { Services } from '../services';
import type { TenantDb } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';

const seq6 = (seq: number) => String(seq).padStart(6, '0');

/** Object name prefix of a tenant's tiled log (no trailing slash). */
export function tlogBase(exportPrefix: string, tenantId: string): string {
  const root = exportPrefix.replace(/^\/+|\/+$/g, '');
  return `${root === '' ? '' : `${root}/`}${tenantId}/tlog`;
}

export const checkpointName = (base: string, seq: number) => `${base}/checkpoints/${seq6(seq)}`;
export const witnessKeyName = (base: string, keyIdHex: string) =>
  `${base}/witnesses/${keyIdHex}.vkey`;
export const cosignatureName = (base: string, keyIdHex: string, seq: number) =>
  `${base}/cosignatures/${keyIdHex}/${seq6(seq)}`;

/** A reader of the tenant's tiles in the audit bucket for the tree of `size` leaves. */
export function bucketTileReader(services: Services, tenantId: string, size: number): TileReader {
  const base = tlogBase(services.config.AUDIT_EXPORT_PREFIX, tenantId);
  return new TileReader(
    (path) => services.objects.get(services.config.AUDIT_BUCKET, `${base}/${path}`),
    size,
  );
}

/**
 * Creates an object once, Locked. An object already there must hold the same bytes (a resumed
 * run), or the run fails loudly: a locked log object is never replaced.
 */
async function putLocked(
  services: Services,
  name: string,
  bytes: Buffer,
  contentType: string,
  retainUntil: Date,
): Promise<'created' | 'existed'> {
  const bucket = services.config.AUDIT_BUCKET;
  try {
    await services.objects.putNew(bucket, name, bytes, {
      contentType,
      retainUntil,
      retentionMode: 'Locked',
    });
    return 'created';
  } catch (err) {
    if ((err as { code?: unknown }).code !== 412) throw err;
    const existing = await services.objects.get(bucket, name);
    if (!existing.equals(bytes)) {
      throw new Error(`audit object ${name} exists with other content: refusing to continue`, {
        cause: err,
      });
    }
    return 'existed';
  }
}

export function sealingPublicKeyPem(services: Services): Promise<string> {
  return services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION);
}

async function exportedRecords(services: Services, seal: Seal): Promise<EvidenceRecord[]> {
  const bytes = await services.objects.get(
    services.config.AUDIT_BUCKET,
    exportPaths(services.config.AUDIT_EXPORT_PREFIX, seal).records,
  );
  return bytes
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => EvidenceRecordSchema.parse(JSON.parse(l)));
}

/**
 * Publishes `seal` to the tiled log: its tiles, entry bundles and signed checkpoint. Idempotent:
 * a seal whose checkpoint exists is done. `records` are the seal's batch in log order when the
 * caller has them; otherwise they are read from the seal's export.
 */
export async function publishSealToTiles(
  services: Services,
  db: TenantDb,
  tenant: TenantProfile,
  seal: Seal,
  retainUntil: Date,
  records?: EvidenceRecord[],
): Promise<void> {
  const bucket = services.config.AUDIT_BUCKET;
  const base = tlogBase(services.config.AUDIT_EXPORT_PREFIX, tenant.id);
  if (await services.objects.exists(bucket, checkpointName(base, seal.seq))) return;
  if (
    seal.seq > 1 &&
    !(await services.objects.exists(bucket, checkpointName(base, seal.seq - 1)))
  ) {
    // The tiles of this seal start from the previous seal's partial tiles: publish it first.
    const previous = await db.get('seals', seq6(seal.seq - 1));
    if (!previous) throw new Error(`seal ${String(seal.seq - 1)} of ${tenant.id} is missing`);
    await publishSealToTiles(services, db, tenant, SealSchema.parse(previous.seal), retainUntil);
  }
  const batch = records ?? (await exportedRecords(services, seal));
  if (batch.length !== seal.batch.count) {
    throw new Error(
      `seal ${String(seal.seq)} of ${tenant.id}: ${String(batch.length)} records, the seal counts ${String(seal.batch.count)}`,
    );
  }
  const writes = await appendToTiles(
    (path) => services.objects.get(bucket, `${base}/${path}`),
    seal.batch.firstIndex,
    batch.map(leafData),
  );
  for (const { path, bytes } of writes) {
    await putLocked(services, `${base}/${path}`, bytes, 'application/octet-stream', retainUntil);
  }
  // Never sign a checkpoint the tiles disagree with: the root read back must be the seal's.
  const root = await bucketTileReader(services, tenant.id, seal.treeSize).root();
  if (root.toString('hex') !== seal.rootHash) {
    throw new Error(
      `tiles of ${tenant.id} at size ${String(seal.treeSize)} disagree with seal ${String(seal.seq)}`,
    );
  }
  const origin = logOrigin(tenant.id);
  const publicKeyPem = await sealingPublicKeyPem(services);
  const note = await signCheckpoint(
    { origin, size: seal.treeSize, rootHash: root },
    publicKeyPem,
    (d) => services.keyManager.asymmetricSign(services.config.SEALING_KEY_VERSION, d),
  );
  const name = checkpointName(base, seal.seq);
  try {
    await services.objects.putNew(bucket, name, Buffer.from(note), {
      contentType: 'text/plain; charset=utf-8',
      retainUntil,
      retentionMode: 'Locked',
    });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 412) throw err;
    // Another run signed this checkpoint first (ECDSA signatures differ run to run): it stands
    // if it is a checkpoint of the same tree under our key.
    const existing = openCheckpoint(
      (await services.objects.get(bucket, name)).toString('utf8'),
      publicKeyPem,
    );
    if (existing?.size !== seal.treeSize || !existing.rootHash.equals(root)) {
      throw new Error(`audit object ${name} exists with other content: refusing to continue`, {
        cause: err,
      });
    }
  }
  log('checkpoint_published', {
    tenantId: tenant.id,
    seq: seal.seq,
    treeSize: seal.treeSize,
    objects: writes.length,
  });
}

/** The signed checkpoint note of seal `seq`, or undefined while it is not published. */
export async function readCheckpointNote(
  services: Services,
  tenantId: string,
  seq: number,
): Promise<string | undefined> {
  const bucket = services.config.AUDIT_BUCKET;
  const name = checkpointName(tlogBase(services.config.AUDIT_EXPORT_PREFIX, tenantId), seq);
  if (!(await services.objects.exists(bucket, name))) return undefined;
  return (await services.objects.get(bucket, name)).toString('utf8');
}
