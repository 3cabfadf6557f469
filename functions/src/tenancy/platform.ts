/**
 * The two global collections, each behind a narrow accessor: `tenants/{t}` profiles (the tenant
 * registry) and `apiKeys/{keyId}` (which resolves a key to its tenant). Nothing else in the
 * codebase reads or writes outside `tenants/{t}/...`.
 */
import {
  FieldPath,
  FieldValue,
  Timestamp,
  type Firestore,
  type Transaction,
} from '@google-cloud/firestore';
import { z } from 'zod';
import { PROVIDERS } from '../config';
import { SubprocessorNoticeSchema, type SubprocessorNotice } from '../subprocessors/notices';
import { COMMIT_TIME, isAlreadyExists, isValidId, TenantDb, type Databases } from './firestore';

/** In an update: removes the field (erasure removes an extraction's result this way). */
export const DELETE_FIELD = FieldValue.delete();

const ProviderModels = z.partialRecord(z.enum(PROVIDERS), z.string().min(1).max(100));

/**
 * The platform's own evidence log lives under this reserved tenant id: its profile, KEK and
 * sealed log are made exactly like a customer's (so the sealer, the export and `audit verify`
 * treat it alike), and it holds the `configuration` records. No customer may be onboarded
 * under it, in any letter case (`lifecycle/onboarding.ts`).
 */
export const PLATFORM_TENANT_ID = 'platform';

/** True for ids no customer tenant may take. */
export function isReservedTenantId(tenantId: string): boolean {
  return tenantId.toLowerCase() === PLATFORM_TENANT_ID;
}

/** Which provider serves a request first, which one (if any) it may fail over to. */
export const ProviderChoiceSchema = z.object({
  primary: z.enum(PROVIDERS),
  fallback: z.enum(PROVIDERS).nullable(),
  models: ProviderModels.optional(),
});
export type ProviderChoice = z.infer<typeof ProviderChoiceSchema>;

/** How a numeric date whose day and month could swap (`04/02/2026`) is read. */
export const DATE_ORDERS = ['DMY', 'MDY'] as const;
export type DateOrder = (typeof DATE_ORDERS)[number];

export const TenantProfileSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'offboarded']),
  /** The tenant's KEK in Cloud KMS (platform-made, or the customer's own key for CMEK). */
  kekName: z.string(),
  /** The tenant wrapping key, wrapped by the KEK; unwrapped copies live only in memory. */
  wrappingKey: z.object({ wrapped: z.string(), kekVersion: z.string() }),
  /** A named Firestore database for a dedicated tenant; absent = the shared default. */
  databaseId: z.string().optional(),
  /**
   * The Identity Platform tenant (multi-tenancy) whose users belong to this tenant. When set, an
   * ID token must carry the same `firebase.tenant`; when absent, it must carry none.
   */
  identityTenantId: z.string().optional(),
  providers: z.object({
    primary: z.enum(PROVIDERS),
    fallback: z.enum(PROVIDERS).nullable(),
    /** Model aliases per provider, instead of the platform's configured defaults. */
    models: ProviderModels.optional(),
    /** Per-schema overrides of the provider order (and models), keyed by schema name. */
    bySchema: z.record(z.string(), ProviderChoiceSchema).optional(),
  }),
  /**
   * How long this tenant's sealed evidence stays Locked in the audit bucket. Applied as
   * max(platform minimum EVIDENCE_RETENTION_DAYS, this): a tenant can ask for more, never less.
   */
  retentionDays: z.number().int().positive().max(36_500).optional(),
  /**
   * How long customer content (originals, raw responses, results) is kept before the retention
   * job (lifecycle/retention.ts) erases it: days from submission, per schema where it differs.
   * Absent: the platform default (DEFAULT_CONTENT_RETENTION_DAYS there).
   */
  contentRetention: z
    .strictObject({
      days: z.number().int().positive(),
      bySchema: z.record(z.string(), z.number().int().positive()).optional(),
    })
    .optional(),
  /**
   * How far the retention job got, per group (`*` = the default, else a schema name): the last
   * extraction it handled, in submission order. Cleared whenever the settings change.
   */
  retentionCursors: z.record(z.string(), z.string()).optional(),
  /** Store results encrypted under their own data key rather than as Firestore fields. */
  encryptResults: z.boolean().optional(),
  /**
   * The tenant's locale for numeric dates: `DMY` reads `04/02/2026` as 4 February, `MDY` as
   * April 2. Absent, such a date is reported as `ambiguous_date` rather than guessed.
   */
  dateOrder: z.enum(DATE_ORDERS).optional(),
  /** This tenant's request quota per function instance, where its plan differs from the default. */
  quota: z
    .strictObject({
      perMinute: z.number().int().positive().max(1_000_000),
      burst: z.number().int().positive().max(100_000),
    })
    .optional(),
  /** `customer` when `kekName` is the tenant's own key (CMEK), registered after a probe. */
  kekManagedBy: z.enum(['platform', 'customer']).optional(),
  /** The last KEK rotation (crypto/rotation.ts): resumable until `phase` is `completed`. */
  keyRotation: z
    .object({
      id: z.string(),
      newVersion: z.string(),
      phase: z.enum(['started', 'completed']),
      startedAt: z.string(),
      completedAt: z.string().optional(),
    })
    .optional(),
  /** When the tenant was offboarded (its KEK versions destroyed; see tenancy/offboarding.ts). */
  offboardedAt: z.string().optional(),
  createdAt: z.string().optional(),
});
export type TenantProfile = z.infer<typeof TenantProfileSchema>;
export type TenantKeyRotation = NonNullable<TenantProfile['keyRotation']>;

export const API_KEY_SCOPES = [
  'extractions:write',
  'extractions:read',
  'schemas:write',
  'keys:admin',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const ApiKeyRecordSchema = z.object({
  tenantId: z.string(),
  /** HMAC-SHA256(pepper, secret), hex. The secret itself is never stored. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  name: z.string(),
  createdAt: z.string().optional(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable().optional(),
  /** Who issued the key: `apiKey:<keyId>`, `user:<uid>` or `onboarding`. */
  createdBy: z.string().optional(),
  /** The key this one replaced through rotation. */
  rotatedFrom: z.string().optional(),
  /** The one key that replaced this one: a key is rotated once (rotate the successor next). */
  rotatedTo: z.string().optional(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecordSchema>;

function toIso(value: unknown): unknown {
  return value instanceof Timestamp ? value.toDate().toISOString() : value;
}

function plain(data: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!data) return undefined;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, toIso(v)]));
}

/** The platform's evidence retention when none is configured: 7 years (EVIDENCE_RETENTION_DAYS). */
export const PLATFORM_EVIDENCE_RETENTION_DAYS = 2557;

export class PlatformDb {
  private readonly db: Firestore;

  constructor(
    private readonly databases: Databases,
    /** The platform minimum (EVIDENCE_RETENTION_DAYS); a tenant may choose longer, never less. */
    readonly evidenceRetentionDays = PLATFORM_EVIDENCE_RETENTION_DAYS,
  ) {
    this.db = databases.get();
  }

  async getTenant(tenantId: string): Promise<TenantProfile | undefined> {
    if (!isValidId(tenantId)) return undefined;
    const snap = await this.db.doc(`tenants/${tenantId}`).get();
    const data = plain(snap.data());
    return data ? TenantProfileSchema.parse(data) : undefined;
  }

  /** Every tenant profile, for platform-wide jobs (the sealer's pass). */
  async listTenants(): Promise<TenantProfile[]> {
    const snap = await this.db.collection('tenants').get();
    return snap.docs.map((doc) => TenantProfileSchema.parse(plain(doc.data())));
  }

  /** Create-only: onboarding the same tenant twice fails instead of overwriting its keys. */
  async createTenant(profile: Omit<TenantProfile, 'createdAt'>): Promise<void> {
    await this.db.doc(`tenants/${profile.id}`).create({ ...profile, createdAt: COMMIT_TIME });
  }

  /** Replaces the tenant's provider settings (order, failover, models, per-schema overrides). */
  async setTenantProviders(tenantId: string, providers: TenantProfile['providers']): Promise<void> {
    const parsed = TenantProfileSchema.shape.providers.parse(providers);
    await this.db.doc(`tenants/${tenantId}`).update({ providers: parsed });
  }

  /** Sets the tenant's date order, or removes it (`null`): ambiguous dates are then reported. */
  async setTenantDateOrder(tenantId: string, dateOrder: DateOrder | null): Promise<void> {
    const parsed = z.enum(DATE_ORDERS).nullable().parse(dateOrder);
    await this.db
      .doc(`tenants/${tenantId}`)
      .update({ dateOrder: parsed === null ? FieldValue.delete() : parsed });
  }

  /**
   * Replaces the tenant's retention settings (already checked by lifecycle/retention.ts) and
   * clears the retention job's cursors, so its next pass starts over under the new settings.
   */
  async setTenantRetention(
    tenantId: string,
    settings: Pick<TenantProfile, 'contentRetention' | 'retentionDays'>,
  ): Promise<void> {
    const parsed = TenantProfileSchema.pick({
      contentRetention: true,
      retentionDays: true,
    }).parse(settings);
    await this.db.doc(`tenants/${tenantId}`).update({
      contentRetention: parsed.contentRetention ?? FieldValue.delete(),
      retentionDays: parsed.retentionDays ?? FieldValue.delete(),
      retentionCursors: FieldValue.delete(),
    });
  }

  /** Records how far the retention job got in one group (a field path, so any schema name fits). */
  async setRetentionCursor(tenantId: string, group: string, extractionId: string): Promise<void> {
    if (!isValidId(tenantId) || !isValidId(extractionId)) return;
    await this.db
      .doc(`tenants/${tenantId}`)
      .update(new FieldPath('retentionCursors', group), extractionId);
  }

  async setTenantStatus(tenantId: string, status: TenantProfile['status']): Promise<void> {
    await this.db.doc(`tenants/${tenantId}`).update({ status });
  }

  /**
   * Compare-and-set of the tenant's key settings (rotation re-wrap, CMEK registration): applied
   * only while the stored wrapped key is still `expectedWrapped`. Returns the profile as stored
   * after the call, or undefined when the tenant does not exist.
   */
  async updateTenantKeys(
    tenantId: string,
    expectedWrapped: string,
    patch: Partial<Pick<TenantProfile, 'kekName' | 'wrappingKey' | 'kekManagedBy' | 'keyRotation'>>,
  ): Promise<{ applied: boolean; tenant: TenantProfile } | undefined> {
    if (!isValidId(tenantId)) return undefined;
    const ref = this.db.doc(`tenants/${tenantId}`);
    return this.db.runTransaction(async (tx) => {
      const data = plain((await tx.get(ref)).data());
      if (!data) return undefined;
      const current = TenantProfileSchema.parse(data);
      if (current.wrappingKey.wrapped !== expectedWrapped)
        return { applied: false, tenant: current };
      const next = TenantProfileSchema.partial().parse(patch);
      tx.update(ref, next);
      return { applied: true, tenant: TenantProfileSchema.parse({ ...current, ...next }) };
    });
  }

  /** Records the progress of a KEK rotation (no other field changes). */
  async setKeyRotation(tenantId: string, rotation: TenantKeyRotation): Promise<void> {
    const parsed = TenantProfileSchema.shape.keyRotation.parse(rotation);
    await this.db.doc(`tenants/${tenantId}`).update({ keyRotation: parsed });
  }

  /**
   * Marks the tenant offboarded once: a second call keeps the first `offboardedAt`. Returns the
   * profile as stored, or undefined when the tenant does not exist.
   */
  async markOffboarded(tenantId: string, at: Date): Promise<TenantProfile | undefined> {
    if (!isValidId(tenantId)) return undefined;
    const ref = this.db.doc(`tenants/${tenantId}`);
    return this.db.runTransaction(async (tx) => {
      const data = plain((await tx.get(ref)).data());
      if (!data) return undefined;
      const current = TenantProfileSchema.parse(data);
      if (current.status === 'offboarded' && current.offboardedAt) return current;
      const offboardedAt = current.offboardedAt ?? at.toISOString();
      tx.update(ref, { status: 'offboarded', offboardedAt });
      return { ...current, status: 'offboarded' as const, offboardedAt };
    });
  }

  /** The scoped handle for a tenant: its own database when dedicated, the default otherwise. */
  tenantDb(profile: Pick<TenantProfile, 'id' | 'databaseId' | 'retentionDays'>): TenantDb {
    return new TenantDb(
      this.databases.get(profile.databaseId),
      profile.id,
      Math.max(this.evidenceRetentionDays, profile.retentionDays ?? 0),
    );
  }

  async getApiKey(keyId: string): Promise<ApiKeyRecord | undefined> {
    if (!isValidId(keyId)) return undefined;
    const data = plain((await this.db.doc(`apiKeys/${keyId}`).get()).data());
    return data ? ApiKeyRecordSchema.parse(data) : undefined;
  }

  async createApiKey(keyId: string, record: Omit<ApiKeyRecord, 'createdAt'>): Promise<void> {
    await this.db.doc(`apiKeys/${keyId}`).create({ ...record, createdAt: COMMIT_TIME });
  }

  async touchApiKey(keyId: string): Promise<void> {
    await this.db.doc(`apiKeys/${keyId}`).update({ lastUsedAt: COMMIT_TIME });
  }

  /** Whether some tenant's people live in this Identity Platform tenant. */
  async identityTenantRegistered(identityTenantId: string): Promise<boolean> {
    if (!isValidId(identityTenantId)) return false;
    const snap = await this.db
      .collection('tenants')
      .where('identityTenantId', '==', identityTenantId)
      .limit(1)
      .get();
    return !snap.empty;
  }

  /**
   * The global pointer of a break-glass request (`accessRequests/{id}`): which tenant's
   * database holds it. The request itself and its decisions live in that tenant's database, so
   * a grant is checked in the same transaction as the read it allows. Create-only.
   */
  async createAccessRequestPointer(
    requestId: string,
    pointer: { tenantId: string; requesterUid: string; requestedAt: string },
  ): Promise<void> {
    await this.db.doc(`accessRequests/${requestId}`).create({ ...pointer, createdAt: COMMIT_TIME });
  }

  /** The tenant holding break-glass request `requestId`, or undefined when there is none. */
  async accessRequestTenant(requestId: string): Promise<string | undefined> {
    if (!isValidId(requestId)) return undefined;
    const data = (await this.db.doc(`accessRequests/${requestId}`).get()).data();
    return typeof data?.tenantId === 'string' ? data.tenantId : undefined;
  }

  /** Every break-glass request made in `[fromIso, toIso)` (ISO strings sort as times). */
  async listAccessRequestPointers(
    fromIso: string,
    toIso: string,
  ): Promise<{ requestId: string; tenantId: string }[]> {
    const snap = await this.db
      .collection('accessRequests')
      .where('requestedAt', '>=', fromIso)
      .where('requestedAt', '<', toIso)
      .get();
    return snap.docs.flatMap((doc) => {
      const tenantId = (doc.data() as { tenantId?: unknown }).tenantId;
      return typeof tenantId === 'string' ? [{ requestId: doc.id, tenantId }] : [];
    });
  }

  /**
   * Stores a sub-processor notice (`subprocessorNotices/{id}`), create-only: false when it was
   * stored already (its id is its change set's hash, so the stored one says the same).
   */
  async createSubprocessorNotice(notice: SubprocessorNotice): Promise<boolean> {
    const parsed = SubprocessorNoticeSchema.parse(notice);
    try {
      await this.db
        .doc(`subprocessorNotices/${parsed.id}`)
        .create({ ...parsed, createdAt: COMMIT_TIME });
      return true;
    } catch (err) {
      if (isAlreadyExists(err)) return false;
      throw err;
    }
  }

  async getSubprocessorNotice(noticeId: string): Promise<SubprocessorNotice | undefined> {
    if (!isValidId(noticeId)) return undefined;
    const data = plain((await this.db.doc(`subprocessorNotices/${noticeId}`).get()).data());
    if (!data) return undefined;
    const { createdAt: _createdAt, ...notice } = data;
    return SubprocessorNoticeSchema.parse(notice);
  }

  /**
   * One tenant's key, or undefined when it does not exist or belongs to another tenant: the
   * caller cannot tell the two apart. `apiKeys` is global, so the tenant check lives here.
   */
  async getTenantApiKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
    const record = await this.getApiKey(keyId);
    return record?.tenantId === tenantId ? record : undefined;
  }

  /** Every key of one tenant (never hashes in what the API returns; see the routes). */
  async listApiKeys(tenantId: string): Promise<{ keyId: string; record: ApiKeyRecord }[]> {
    if (!isValidId(tenantId)) return [];
    const snap = await this.db.collection('apiKeys').where('tenantId', '==', tenantId).get();
    return snap.docs
      .map((doc) => ({ keyId: doc.id, record: ApiKeyRecordSchema.parse(plain(doc.data())) }))
      .filter(({ record }) => record.tenantId === tenantId);
  }

  /** Inside a transaction: the key's record if it belongs to `tenantId`, else undefined. */
  private async readTenantKey(
    tx: Transaction,
    tenantId: string,
    keyId: string,
  ): Promise<ApiKeyRecord | undefined> {
    if (!isValidId(keyId)) return undefined;
    const data = plain((await tx.get(this.db.doc(`apiKeys/${keyId}`))).data());
    if (!data) return undefined;
    const record = ApiKeyRecordSchema.parse(data);
    return record.tenantId === tenantId ? record : undefined;
  }

  /** Schedules revocation at `at` unless an earlier one already is: never pushed later. */
  private revokeNoLaterThan(tx: Transaction, keyId: string, record: ApiKeyRecord, at: Date): void {
    if (record.revokedAt === null || Date.parse(record.revokedAt) > at.getTime()) {
      tx.update(this.db.doc(`apiKeys/${keyId}`), { revokedAt: at.toISOString() });
    }
  }

  /** Revokes at `at`; false (nothing written) when the key is unknown or another tenant's. */
  async revokeApiKey(tenantId: string, keyId: string, at: Date): Promise<boolean> {
    return this.db.runTransaction(async (tx) => {
      const record = await this.readTenantKey(tx, tenantId, keyId);
      if (!record) return false;
      this.revokeNoLaterThan(tx, keyId, record, at);
      return true;
    });
  }

  /**
   * Rotation in one transaction: the old key expires at `overlapEnd` (or keeps an earlier
   * expiry), names its successor, and the replacement is created. Returns undefined when the
   * old key is unknown or belongs to another tenant; nothing is written then. `next.record`
   * may throw to refuse (a revoked, expired or already rotated key).
   */
  async rotateApiKey(
    tenantId: string,
    oldKeyId: string,
    overlapEnd: Date,
    next: { keyId: string; record: (old: ApiKeyRecord) => Omit<ApiKeyRecord, 'createdAt'> },
  ): Promise<ApiKeyRecord | undefined> {
    return this.db.runTransaction(async (tx) => {
      const old = await this.readTenantKey(tx, tenantId, oldKeyId);
      if (!old) return undefined;
      const record = next.record(old);
      if (record.tenantId !== tenantId) return undefined;
      const expiresAt =
        old.expiresAt !== null && Date.parse(old.expiresAt) <= overlapEnd.getTime()
          ? old.expiresAt
          : overlapEnd.toISOString();
      tx.update(this.db.doc(`apiKeys/${oldKeyId}`), { expiresAt, rotatedTo: next.keyId });
      tx.create(this.db.doc(`apiKeys/${next.keyId}`), { ...record, createdAt: COMMIT_TIME });
      return old;
    });
  }
}
