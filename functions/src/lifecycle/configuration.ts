/**
 * The configuration fingerprint as evidence: every deploy and every local stack start records
 * the fingerprint of the checkout it runs from (`evidence/fingerprint.ts`) in the platform's own
 * evidence log, the reserved tenant `platform`, when it differs from the last one recorded. The
 * platform log is a tenant's log in every respect (profile, KEK, seals, export), so the sealer
 * seals it on its pass over `listTenants()` and `audit verify` checks it with nothing new.
 *
 * Records are numbered (`ev_configuration_000001`, …) rather than keyed by the fingerprint: a
 * configuration changed and then changed back is a second change, and must be a second record.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { InternalError } from '../errors';
import { CLI_ACTOR, type Actor } from '../evidence/actor';
import {
  changedComponents,
  computeFingerprint,
  type ConfigurationFingerprint,
  type FingerprintInputs,
} from '../evidence/fingerprint';
import { EvidenceRecordSchema } from '../evidence/record';
import { buildSystemPrompt } from '../extraction/prompt';
import { CUSTOM_STEPS, STEPS } from '../extraction/postprocess/registry';
import { BUILT_IN_SCHEMAS, BUILT_IN_VERSIONS } from '../extraction/schemas/built-in';
import { eventEvidenceId, recordEventOnce } from '../ledger/evidence-writer';
import type { Services } from '../services';
import { isAlreadyExists } from '../tenancy/firestore';
import { PLATFORM_TENANT_ID, type TenantProfile } from '../tenancy/platform';
import { KEK_ROTATION_SECONDS, tenantKekId } from './onboarding';

/** Where a recording was made: shown in the record, never part of the fingerprint. */
export const CONFIGURATION_TRIGGERS = ['deploy', 'stack-start', 'cli'] as const;
export type ConfigurationTrigger = (typeof CONFIGURATION_TRIGGERS)[number];

/** Every `*.tf` under `dir`, by path relative to `root`, sorted (no `.terraform` caches). */
function terraformFiles(root: string, dir: string, out: Record<string, string>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) terraformFiles(root, full, out);
    else if (entry.isFile() && entry.name.endsWith('.tf'))
      out[path.relative(root, full).split(path.sep).join('/')] = readFileSync(full, 'utf8');
  }
}

/** What the fingerprint covers, read from the checkout at `root` and the instance's config. */
export function readFingerprintInputs(root: string, config: Config): FingerprintInputs {
  const subprocessors: Record<string, string> = {};
  for (const name of readdirSync(path.join(root, 'subprocessors')).sort()) {
    if (name.endsWith('.yaml'))
      subprocessors[`subprocessors/${name}`] = readFileSync(
        path.join(root, 'subprocessors', name),
        'utf8',
      );
  }
  const terraform: Record<string, string> = {};
  terraformFiles(root, path.join(root, 'terraform'), terraform);
  return {
    rules: readFileSync(path.join(root, 'firestore.rules'), 'utf8'),
    prompts: Object.fromEntries(
      Object.values(BUILT_IN_SCHEMAS).map((schema) => [
        schema.name,
        buildSystemPrompt(schema).system,
      ]),
    ),
    schemas: Object.values(BUILT_IN_VERSIONS)
      .flat()
      .map((s) => ({ name: s.name, version: s.version, sha256: s.sha256 })),
    steps: {
      'built-in': STEPS.map((s) => ({ name: s.name, version: s.version })),
      custom: CUSTOM_STEPS.map((s) => ({ name: s.name, version: s.version })),
    },
    subprocessors,
    terraform,
    providers: {
      defaultProvider: config.DEFAULT_PROVIDER,
      models: { openai: config.OPENAI_MODEL, anthropic: config.ANTHROPIC_MODEL },
    },
  };
}

/** The fingerprint of the checkout at `root` with the instance's configured models. */
export function fingerprintOfCheckout(root: string, config: Config): ConfigurationFingerprint {
  return computeFingerprint(readFingerprintInputs(root, config));
}

/**
 * The `platform` tenant, made on first use exactly as onboarding makes a customer's (its own
 * KEK, a wrapping key under it, the profile) but with no API key and no people: nothing
 * outside the platform writes to its log. Onboarding refuses the id for customers.
 */
export async function ensurePlatformTenant(services: Services): Promise<TenantProfile> {
  const existing = await services.platform.getTenant(PLATFORM_TENANT_ID);
  if (existing) return existing;
  const ring = services.config.KMS_KEY_RING;
  await services.keyManager.ensureKeyRing(ring);
  const kekName = await services.keyManager.ensureSymmetricKey(
    ring,
    tenantKekId(PLATFORM_TENANT_ID),
    KEK_ROTATION_SECONDS,
  );
  const tenant: TenantProfile = {
    id: PLATFORM_TENANT_ID,
    name: 'Platform (configuration log)',
    status: 'active',
    kekName,
    wrappingKey: await services.keys.createWrappingKey(PLATFORM_TENANT_ID, kekName),
    providers: { primary: services.config.DEFAULT_PROVIDER, fallback: null },
  };
  try {
    await services.platform.createTenant(tenant);
    return tenant;
  } catch (err) {
    // A concurrent first recording made it: use theirs (its wrapping key is the one stored).
    if (!isAlreadyExists(err)) throw err;
    const made = await services.platform.getTenant(PLATFORM_TENANT_ID);
    if (!made) throw err;
    return made;
  }
}

export interface ConfigurationRecordOutcome {
  /** False when the last recorded fingerprint was this one: nothing was written. */
  recorded: boolean;
  /** The record that holds this fingerprint now (the new one, or the last one). */
  evidenceId: string;
  seq: number;
  fingerprint: ConfigurationFingerprint;
  /** Components whose hash differs from the previous record's (all of them for the first). */
  changed: string[];
}

const SEQ_DIGITS = 6;
/** Concurrent recorders (two deploys at once) race for the next number; each loses at most once per rival. */
const MAX_ATTEMPTS = 5;

function seqKey(seq: number): string {
  return String(seq).padStart(SEQ_DIGITS, '0');
}

/** The last `configuration` record of the platform log, or undefined before the first. */
async function lastConfiguration(
  services: Services,
  platform: TenantProfile,
): Promise<{ seq: number; sha256: string; components: Record<string, string> } | undefined> {
  // Few records (one per configuration change): read them all rather than need a composite
  // index for kind + order.
  const rows = await services.platform
    .tenantDb(platform)
    .list('evidence', { where: [['kind', '==', 'configuration']] });
  let last: { seq: number; sha256: string; components: Record<string, string> } | undefined;
  for (const row of rows) {
    // Through the stored record's schema: it drops `expireAt`, the TTL field stored beside it.
    const record = EvidenceRecordSchema.parse(row.data);
    if (record.kind !== 'configuration') continue;
    const { details } = record;
    const seq = details.seq;
    const sha256 = details.sha256;
    if (typeof seq !== 'number' || typeof sha256 !== 'string') continue;
    if (last && last.seq >= seq) continue;
    const components = Object.fromEntries(
      Object.entries(details).filter(
        (e): e is [string, string] => e[0].includes('/') && typeof e[1] === 'string',
      ),
    );
    last = { seq, sha256, components };
  }
  return last;
}

/**
 * Records the checkout's fingerprint in the platform log unless the last record holds the same
 * one. Idempotent: run twice with the same configuration, the second run writes nothing.
 */
export async function recordConfiguration(
  services: Services,
  options: { root: string; trigger: ConfigurationTrigger; actor?: Actor },
): Promise<ConfigurationRecordOutcome> {
  const fingerprint = fingerprintOfCheckout(options.root, services.config);
  const platform = await ensurePlatformTenant(services);
  const db = services.platform.tenantDb(platform);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const last = await lastConfiguration(services, platform);
    const changed = changedComponents(last?.components ?? {}, fingerprint.components);
    if (last?.sha256 === fingerprint.sha256) {
      return {
        recorded: false,
        evidenceId: eventEvidenceId('configuration', seqKey(last.seq)),
        seq: last.seq,
        fingerprint,
        changed: [],
      };
    }
    const seq = (last?.seq ?? 0) + 1;
    const created = await recordEventOnce(db, {
      kind: 'configuration',
      key: seqKey(seq),
      subject: { type: 'configuration', id: fingerprint.sha256 },
      details: {
        ...fingerprint.components,
        sha256: fingerprint.sha256,
        seq,
        previousSha256: last?.sha256 ?? null,
        changed,
        trigger: options.trigger,
      },
      actor: options.actor ?? CLI_ACTOR,
    });
    if (created)
      return {
        recorded: true,
        evidenceId: eventEvidenceId('configuration', seqKey(seq)),
        seq,
        fingerprint,
        changed,
      };
  }
  throw new InternalError(
    'internal',
    `another recorder took the next configuration record number ${String(MAX_ATTEMPTS)} times; run it again`,
  );
}

/** One line for a person: what was recorded, or that nothing was. */
export function describeConfigurationOutcome(outcome: ConfigurationRecordOutcome): string {
  const short = outcome.fingerprint.sha256.slice(0, 16);
  if (!outcome.recorded)
    return `configuration ${short}… unchanged since ${outcome.evidenceId}: nothing recorded`;
  const what =
    outcome.seq === 1
      ? `${String(outcome.changed.length)} components`
      : `changed: ${outcome.changed.join(', ')}`;
  return `configuration ${short}… recorded as ${outcome.evidenceId} in the ${PLATFORM_TENANT_ID} log (${what})`;
}
