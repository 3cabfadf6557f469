/**
 * KEK rotation: a new KEK version becomes primary, the tenant wrapping key is re-wrapped under
 * it (same wrapping key, so no data key and no ciphertext changes), and only once the re-wrap
 * is stored are the old versions disabled. Progress lives on the tenant profile
 * (`keyRotation`), keyed by a rotation id: a crash at any step leaves everything decryptable
 * (the old version stays enabled until nothing needs it) and re-running the same id finishes
 * the job; a completed id is a no-op.
 */
import { conflict, notFound } from '../errors';
import { CLI_ACTOR, type Actor } from '../evidence/actor';
import { eventEvidenceId, recordEventOnce, type EventEvidence } from '../ledger/evidence-writer';
import { errorFields, log } from '../logging';
import type { Services } from '../services';
import { isValidId } from '../tenancy/firestore';
import type { TenantKeyRotation, TenantProfile } from '../tenancy/platform';
import { keyVersionManager, type KeyVersionInfo } from '../crypto/kms';

/** The AAD the key hierarchy wraps a tenant's wrapping key with (see envelope.ts). */
export function wrappingKeyAad(tenantId: string): Buffer {
  return Buffer.from(`provenant/v1/${tenantId}/wrapping-key`);
}

/** Crash-injection points for tests; production passes none. */
export interface RotationHooks {
  afterVersionCreated?: () => Promise<void>;
  afterRewrap?: () => Promise<void>;
  afterDisable?: () => Promise<void>;
}

export interface RotationOptions {
  /** Names this rotation; the same id again is a no-op once it completed. */
  rotationId: string;
  actor?: Actor;
  now?: Date;
  hooks?: RotationHooks;
}

export interface RotationOutcome {
  tenantId: string;
  rotationId: string;
  status: 'rotated' | 'resumed' | 'noop' | 'skipped' | 'failed';
  reason?: string;
  newVersion?: string;
  disabledVersions: string[];
}

/** `YYYY-MM-DD` of `now` (UTC): the default id, so a retried or repeated run the same day converges. */
export function defaultRotationId(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** Versions to disable once the wrapping key is wrapped under `keep`: every other enabled one. */
export function versionsToDisable(versions: KeyVersionInfo[], keep: string): string[] {
  return versions.filter((v) => v.name !== keep && v.state === 'ENABLED').map((v) => v.name);
}

export function rotationEvidenceId(rotationId: string): string {
  return eventEvidenceId('key_rotation', rotationId);
}

function checkRotationId(rotationId: string): void {
  if (!isValidId(rotationId) || rotationId.length > 64) {
    throw conflict('invalid_rotation_id', 'rotation ids are 1-64 letters, digits, - or _');
  }
}

/**
 * Re-wraps the tenant's wrapping key under `version` (compare-and-set on the stored wrapped
 * key). The plaintext wrapping key exists only in this call.
 */
async function rewrap(
  services: Services,
  tenant: TenantProfile,
  version: string,
): Promise<TenantProfile> {
  const aad = wrappingKeyAad(tenant.id);
  const key = await services.keyManager.decrypt(
    tenant.kekName,
    Buffer.from(tenant.wrappingKey.wrapped, 'base64'),
    aad,
  );
  try {
    const { ciphertext, keyVersion } = await services.keyManager.encrypt(version, key, aad);
    const result = await services.platform.updateTenantKeys(tenant.id, tenant.wrappingKey.wrapped, {
      wrappingKey: { wrapped: ciphertext.toString('base64'), kekVersion: keyVersion },
    });
    if (!result) throw notFound('tenant');
    if (!result.applied) {
      throw conflict('key_changed_concurrently', 'the wrapping key changed meanwhile; run again');
    }
    services.keys.evict(tenant.id);
    return result.tenant;
  } finally {
    key.fill(0);
  }
}

/** Rotates one tenant's KEK; see the module comment for the order and why it is safe. */
export async function rotateTenantKek(
  services: Services,
  tenantId: string,
  options: RotationOptions,
): Promise<RotationOutcome> {
  const { rotationId, hooks = {} } = options;
  const actor = options.actor ?? CLI_ACTOR;
  const now = options.now ?? new Date();
  checkRotationId(rotationId);
  let tenant = await services.platform.getTenant(tenantId);
  if (!tenant) throw notFound('tenant');
  const base = { tenantId, rotationId, disabledVersions: [] as string[] };
  if (tenant.status !== 'active') return { ...base, status: 'skipped', reason: 'not_active' };
  if (tenant.kekManagedBy === 'customer') {
    // The customer rotates their own key; the platform neither creates nor disables versions.
    return { ...base, status: 'skipped', reason: 'customer_managed_key' };
  }
  const kms = keyVersionManager(services.keyManager);

  // An unfinished earlier rotation is finished first, so two never interleave.
  const earlier = tenant.keyRotation;
  if (earlier && earlier.phase !== 'completed' && earlier.id !== rotationId) {
    await rotateTenantKek(services, tenantId, { ...options, rotationId: earlier.id });
    tenant = (await services.platform.getTenant(tenantId)) ?? tenant;
  }
  let rotation: TenantKeyRotation | undefined = tenant.keyRotation;
  if (rotation?.id === rotationId && rotation.phase === 'completed') {
    return { ...base, status: 'noop', newVersion: rotation.newVersion };
  }
  const resumed = rotation?.id === rotationId;
  if (!rotation || !resumed) {
    // A crash before the next write leaves an extra enabled version, which the disable step of
    // the re-run (a new version is made then) turns off: nothing depends on it.
    const version = await kms.createCryptoKeyVersion(tenant.kekName);
    await hooks.afterVersionCreated?.();
    rotation = {
      id: rotationId,
      newVersion: version.name,
      phase: 'started',
      startedAt: now.toISOString(),
    };
    await services.platform.setKeyRotation(tenantId, rotation);
  }
  const newVersion = rotation.newVersion;

  const key = await kms.getCryptoKey(tenant.kekName);
  if (key.primary?.name !== newVersion) await kms.setPrimaryVersion(tenant.kekName, newVersion);
  if (tenant.wrappingKey.kekVersion !== newVersion) {
    tenant = await rewrap(services, tenant, newVersion);
  }
  await hooks.afterRewrap?.();

  // Only now: every stored wrapped key names the new version, so the old ones can go.
  const disabledVersions: string[] = [];
  for (const name of versionsToDisable(
    await kms.listCryptoKeyVersions(tenant.kekName),
    newVersion,
  )) {
    await kms.disableCryptoKeyVersion(name);
    disabledVersions.push(name);
  }
  await hooks.afterDisable?.();

  const oldVersions = (await kms.listCryptoKeyVersions(tenant.kekName))
    .filter((v) => v.name !== newVersion)
    .map((v) => `${v.name}:${v.state}`);
  const event: EventEvidence = {
    kind: 'key_rotation',
    key: rotationId,
    subject: { type: 'kek', id: tenant.kekName },
    details: {
      rotationId,
      kekName: tenant.kekName,
      newVersion,
      wrappingKeyVersion: tenant.wrappingKey.kekVersion,
      oldVersions,
      startedAt: rotation.startedAt,
    },
    actor,
  };
  // A resumed run may find the record its earlier attempt wrote before crashing.
  await recordEventOnce(services.platform.tenantDb(tenant), event);
  await services.platform.setKeyRotation(tenantId, {
    ...rotation,
    phase: 'completed',
    completedAt: new Date().toISOString(),
  });
  log('kek_rotated', {
    tenantId,
    rotationId,
    newVersion,
    disabled: disabledVersions.length,
    resumed,
  });
  return {
    ...base,
    status: resumed ? 'resumed' : 'rotated',
    newVersion,
    disabledVersions,
  };
}

/** Every active tenant (or one): a failing tenant is reported and does not stop the others. */
export async function rotateKeks(
  services: Services,
  options: RotationOptions & { tenantId?: string },
): Promise<RotationOutcome[]> {
  const ids =
    options.tenantId !== undefined
      ? [options.tenantId]
      : (await services.platform.listTenants())
          .filter((t) => t.status === 'active')
          .map((t) => t.id);
  const outcomes: RotationOutcome[] = [];
  for (const tenantId of ids) {
    try {
      outcomes.push(await rotateTenantKek(services, tenantId, options));
    } catch (err) {
      if (options.tenantId !== undefined) throw err;
      log('kek_rotation_failed', { tenantId, rotationId: options.rotationId, ...errorFields(err) });
      outcomes.push({
        tenantId,
        rotationId: options.rotationId,
        status: 'failed',
        reason:
          (err as { code?: unknown }).code === undefined
            ? 'error'
            : String((err as { code?: unknown }).code),
        disabledVersions: [],
      });
    }
  }
  return outcomes;
}
