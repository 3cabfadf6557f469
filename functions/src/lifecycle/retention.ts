/**
 * Retention as code. Customer content (originals, raw responses, results) is kept for the
 * tenant's content retention — DEFAULT_CONTENT_RETENTION_DAYS unless the tenant set another,
 * per schema where it differs — and then erased by `runRetention`, through the very code path
 * of a customer's DELETE (extraction/erasure.ts): data keys crypto-shredded in the transaction
 * that records the `erasure` evidence (its details say `reason: retention`), then the
 * ciphertexts deleted. Evidence is kept for the platform's evidence retention (7 years) or the
 * tenant's longer choice, never less (ledger/evidence-writer.ts stamps its expiry).
 *
 * The job is given its clock (`now`), so tests move time instead of waiting for it. Per tenant
 * it walks the extractions submitted before the cutoff in submission order, one query per
 * group (the default, and each schema with its own retention), from a cursor stored on the
 * tenant's profile: a pass is bounded (`maxPerTenant`) and the next one resumes where it
 * stopped. Erasure is idempotent, so a crash between an erasure and its cursor update only
 * repeats an erasure that is then a no-op.
 */
import { z } from 'zod';
import { badRequest, notFound } from '../errors';
import type { Actor } from '../evidence/actor';
import { eraseExtraction } from '../extraction/erasure';
import { SCHEMA_NAME } from '../extraction/schemas/custom-store';
import { errorFields, log } from '../logging';
import type { Services } from '../services';
import { isoToTimestamp, isValidId } from '../tenancy/firestore';
import type { TenantProfile } from '../tenancy/platform';

/** Content retention when a tenant has set none (docs/policies/data-retention.md). */
export const DEFAULT_CONTENT_RETENTION_DAYS = 90;
/** The range a tenant may choose for content, in days: at least a day, at most 10 years. */
export const CONTENT_RETENTION_DAYS = { min: 1, max: 3650 } as const;
/** The range a tenant may choose for evidence, in years: the platform's 7 at least. */
export const EVIDENCE_RETENTION_YEARS = { min: 7, max: 100 } as const;
/** Days per year as the platform counts evidence retention (7 years = 2557 days). */
const DAYS_PER_YEAR = 365.25;
const DAY_MS = 86_400_000;

/** The retention job's own identity in the erasure evidence it writes. */
export const RETENTION_ACTOR: Actor = { kind: 'service', id: 'retention' };

/** The group key of the tenant-wide default; any other key is a schema name. */
const DEFAULT_GROUP = '*';

/** What a tenant (through the operator CLI) may ask for; unset fields are left as they are. */
export const RetentionSettingsInput = z.strictObject({
  contentRetentionDays: z.number().int().optional(),
  /** Per-schema content retention in days; `null` removes a schema's own setting. */
  bySchema: z.record(z.string(), z.number().int().nullable()).optional(),
  evidenceRetentionYears: z.number().int().optional(),
});
export type RetentionSettingsInput = z.infer<typeof RetentionSettingsInput>;

export interface RetentionSettings {
  contentRetentionDays: number;
  bySchema: Record<string, number>;
  evidenceRetentionDays: number;
}

function contentDaysInRange(days: number, field: string): number {
  if (days < CONTENT_RETENTION_DAYS.min || days > CONTENT_RETENTION_DAYS.max) {
    throw badRequest(
      'content_retention_out_of_range',
      `${field} must be between ${String(CONTENT_RETENTION_DAYS.min)} and ${String(CONTENT_RETENTION_DAYS.max)} days`,
      { field, min: CONTENT_RETENTION_DAYS.min, max: CONTENT_RETENTION_DAYS.max, value: days },
    );
  }
  return days;
}

/** Evidence retention in days for `years`, refused below the platform's minimum. */
export function evidenceRetentionDaysFor(years: number, platformMinimumDays: number): number {
  const days = Math.ceil(years * DAYS_PER_YEAR);
  if (years < EVIDENCE_RETENTION_YEARS.min || days < platformMinimumDays) {
    throw badRequest(
      'evidence_retention_too_short',
      `evidence is kept at least ${String(EVIDENCE_RETENTION_YEARS.min)} years (${String(platformMinimumDays)} days on this platform); a tenant may choose longer, never shorter`,
      { field: 'evidenceRetentionYears', minDays: platformMinimumDays, value: years },
    );
  }
  if (years > EVIDENCE_RETENTION_YEARS.max) {
    throw badRequest(
      'evidence_retention_out_of_range',
      `evidenceRetentionYears must be at most ${String(EVIDENCE_RETENTION_YEARS.max)}`,
      { field: 'evidenceRetentionYears', max: EVIDENCE_RETENTION_YEARS.max, value: years },
    );
  }
  return days;
}

/** The settings in force for `tenant`: its own, or the platform's defaults. */
export function retentionSettings(
  tenant: Pick<TenantProfile, 'contentRetention' | 'retentionDays'>,
  platformMinimumDays: number,
): RetentionSettings {
  return {
    contentRetentionDays: tenant.contentRetention?.days ?? DEFAULT_CONTENT_RETENTION_DAYS,
    bySchema: { ...(tenant.contentRetention?.bySchema ?? {}) },
    evidenceRetentionDays: Math.max(platformMinimumDays, tenant.retentionDays ?? 0),
  };
}

/** How long content of `schema` is kept for this tenant, in days. */
export function contentRetentionDays(settings: RetentionSettings, schema: string): number {
  return settings.bySchema[schema] ?? settings.contentRetentionDays;
}

/** Content submitted before this instant is past a retention of `days` at `now`. */
export function contentCutoff(now: Date, days: number): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

/**
 * Checks `input` against the ranges and stores the result on the tenant's profile. Out of
 * range: 400 `content_retention_out_of_range`, `evidence_retention_too_short` or
 * `evidence_retention_out_of_range`, and nothing is changed.
 */
export async function setRetentionSettings(
  services: Services,
  tenantId: string,
  input: RetentionSettingsInput,
): Promise<RetentionSettings> {
  const parsed = RetentionSettingsInput.safeParse(input);
  if (!parsed.success) {
    throw badRequest(
      'invalid_request',
      'retention settings are whole numbers',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  const tenant = isValidId(tenantId) ? await services.platform.getTenant(tenantId) : undefined;
  if (!tenant) throw notFound('tenant');
  const platformMinimum = services.config.EVIDENCE_RETENTION_DAYS;
  const current = retentionSettings(tenant, platformMinimum);
  const { contentRetentionDays, bySchema, evidenceRetentionYears } = parsed.data;
  const days =
    contentRetentionDays === undefined
      ? current.contentRetentionDays
      : contentDaysInRange(contentRetentionDays, 'contentRetentionDays');
  const schemas = new Map(Object.entries(current.bySchema));
  for (const [schema, value] of Object.entries(bySchema ?? {})) {
    if (!SCHEMA_NAME.test(schema)) {
      throw badRequest('invalid_request', `not a schema name: ${JSON.stringify(schema)}`);
    }
    if (value === null) schemas.delete(schema);
    else schemas.set(schema, contentDaysInRange(value, `bySchema.${schema}`));
  }
  const evidenceDays =
    evidenceRetentionYears === undefined
      ? tenant.retentionDays
      : evidenceRetentionDaysFor(evidenceRetentionYears, platformMinimum);
  const contentRetention = {
    days,
    ...(schemas.size > 0 ? { bySchema: Object.fromEntries(schemas) } : {}),
  };
  await services.platform.setTenantRetention(tenant.id, {
    contentRetention,
    ...(evidenceDays === undefined ? {} : { retentionDays: evidenceDays }),
  });
  log('retention_settings_changed', {
    tenantId: tenant.id,
    contentRetentionDays: days,
    schemaOverrides: schemas.size,
    evidenceRetentionDays: Math.max(platformMinimum, evidenceDays ?? 0),
  });
  return retentionSettings({ contentRetention, retentionDays: evidenceDays }, platformMinimum);
}

export interface RetentionOptions {
  /** The job's clock: what counts as past retention. */
  now: Date;
  actor?: Actor;
  /** Extractions read per query. */
  pageSize?: number;
  /** Extractions examined per tenant per pass; the next pass resumes after the last one. */
  maxPerTenant?: number;
  /** Only these tenants (an operator's targeted run); default every active tenant. */
  tenantIds?: string[];
}

export interface RetentionOutcome {
  tenantId: string;
  /** Extractions examined (past their cutoff). */
  examined: number;
  /** Erased by this pass. */
  erased: number;
  /** Still queued or processing past their retention: left for a later pass. */
  inProgress: number;
  /** True when the bound stopped the pass with more to examine. */
  more: boolean;
  error?: string;
}

interface Group {
  key: string;
  days: number;
}

/**
 * One retention pass over every active tenant at `options.now`. A tenant that fails is
 * reported and the others still run. Offboarded tenants are skipped: their KEK versions are
 * destroyed, so nothing of theirs can be decrypted anyway.
 */
export async function runRetention(
  services: Services,
  options: RetentionOptions,
): Promise<RetentionOutcome[]> {
  const outcomes: RetentionOutcome[] = [];
  for (const tenant of await services.platform.listTenants()) {
    if (tenant.status !== 'active') continue;
    if (options.tenantIds && !options.tenantIds.includes(tenant.id)) continue;
    try {
      outcomes.push(await retainTenant(services, tenant, options));
    } catch (err) {
      log('retention_failed', { tenantId: tenant.id, ...errorFields(err) });
      outcomes.push({
        tenantId: tenant.id,
        examined: 0,
        erased: 0,
        inProgress: 0,
        more: false,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  log('retention_pass_completed', {
    now: options.now.toISOString(),
    tenants: outcomes.length,
    erased: outcomes.reduce((n, o) => n + o.erased, 0),
    failed: outcomes.filter((o) => o.error !== undefined).length,
  });
  return outcomes;
}

/** One tenant's pass: each group from its cursor, until the cutoff or the bound. */
export async function retainTenant(
  services: Services,
  tenant: TenantProfile,
  options: RetentionOptions,
): Promise<RetentionOutcome> {
  const pageSize = options.pageSize ?? 100;
  let budget = options.maxPerTenant ?? 1000;
  const actor = options.actor ?? RETENTION_ACTOR;
  const settings = retentionSettings(tenant, services.config.EVIDENCE_RETENTION_DAYS);
  const groups: Group[] = [
    { key: DEFAULT_GROUP, days: settings.contentRetentionDays },
    ...Object.entries(settings.bySchema).map(([key, days]) => ({ key, days })),
  ];
  const db = services.platform.tenantDb(tenant);
  const outcome: RetentionOutcome = {
    tenantId: tenant.id,
    examined: 0,
    erased: 0,
    inProgress: 0,
    more: false,
  };
  groups: for (const group of groups) {
    const cutoff = isoToTimestamp(contentCutoff(options.now, group.days).toISOString());
    let cursor = tenant.retentionCursors?.[group.key];
    for (;;) {
      if (budget <= 0) {
        outcome.more = true;
        break groups;
      }
      const limit = Math.min(pageSize, budget);
      const after = cursor === undefined ? {} : { startAfterId: cursor };
      const page =
        group.key === DEFAULT_GROUP
          ? await db.list('extractions', {
              where: [['submittedAt', '<', cutoff]],
              orderBy: [['submittedAt', 'asc']],
              limit,
              ...after,
            })
          : await db.list('extractions', {
              where: [
                ['schema', '==', group.key],
                ['submittedAt', '<', cutoff],
              ],
              orderBy: [['submittedAt', 'asc']],
              limit,
              ...after,
            });
      let blocked = false;
      for (const { id, data } of page) {
        budget -= 1;
        outcome.examined += 1;
        // The default group passes over schemas that have their own retention (their group
        // erases them), and anything already erased.
        const schema = typeof data.schema === 'string' ? data.schema : '';
        const own = group.key === DEFAULT_GROUP && settings.bySchema[schema] !== undefined;
        if (!own && data.erasedAt === undefined) {
          if (data.status === 'queued' || data.status === 'processing') {
            // Erasure refuses while a worker may still write under the keys (erasure.ts). The
            // cursor stays before it, so the next pass tries again; the rest of this group
            // waits, because the cursor means "everything before it is done".
            outcome.inProgress += 1;
            outcome.more = true;
            log('retention_blocked', { tenantId: tenant.id, extractionId: id, group: group.key });
            blocked = true;
            break;
          }
          const erased = await eraseExtraction(services, tenant, id, actor, 'retention');
          if (erased.erasedNow) outcome.erased += 1;
        }
        cursor = id;
      }
      if (cursor !== undefined && cursor !== tenant.retentionCursors?.[group.key]) {
        await services.platform.setRetentionCursor(tenant.id, group.key, cursor);
      }
      if (blocked || page.length < limit) break;
    }
  }
  return outcome;
}
