/**
 * The sub-processor registry: one YAML file per third party that may process customer data
 * (`subprocessors/<id>.yaml`), so adding, changing or retiring a vendor is a reviewable diff of
 * one file. This module is data and zod only: the providers layer reads it to refuse a vendor
 * that is not in force on the call date, the CLI checks it against the code (`subprocessors
 * check`), diffs it between git refs and publishes it (`subprocessors build`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { AppError } from '../errors';

/**
 * The day the registry was first committed (35859c0, 2026-11-26). Only a vendor in force
 * before then may skip the notice period, and only with a `grandfathered` reason: everything
 * engaged later was engaged under the registry and gives customers the full notice.
 */
export const REGISTRY_ESTABLISHED = '2026-11-26';

/**
 * The vendors in force when the registry was established: the single-file registry of 35859c0
 * listed exactly these. The list closes grandfathering, so a backdated new entry cannot claim it.
 */
export const GRANDFATHERED_IDS: readonly string[] = ['anthropic', 'google-cloud', 'openai'];

/** Days between telling customers about a change and the change taking effect. */
export const DEFAULT_NOTICE_DAYS = 30;

/** A calendar day (UTC), `2026-11-26`. Strings, since YAML 1.2 reads a bare date as one. */
const IsoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine((v) => {
    const d = new Date(`${v}T00:00:00.000Z`);
    // Date rolls 2026-02-30 over to March; a round trip catches it.
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
  }, 'a calendar date that exists');

/** A DNS host name the code connects to (no scheme, port or path). */
const HostName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a lowercase host');

/**
 * - `proposed`: announced to customers, not in force: the code may not call it yet.
 * - `active`: in force from `effective` on (before then it is shown as upcoming).
 * - `retiring`: announced for removal; in force until `effective`, the day it ends.
 * - `retired`: no longer in force; kept so the trust page and the diff show its history.
 */
export const SUBPROCESSOR_STATUSES = ['proposed', 'active', 'retiring', 'retired'] as const;
export type SubprocessorStatus = (typeof SUBPROCESSOR_STATUSES)[number];

/**
 * When the vendor processes a request's data. Evidence records name the sub-processors of a
 * request from this: `every-request` vendors (hosting) always, `model-calls` vendors (whose
 * id is the provider's name in `config.ts` PROVIDERS) when the pipeline called them.
 */
export const ENGAGEMENTS = ['every-request', 'model-calls', 'notices'] as const;
export type Engagement = (typeof ENGAGEMENTS)[number];

export const SubprocessorSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lowercase words joined by -')
    // `registry.yaml` was the single-file registry before this schema; git.ts skips it.
    .refine((id) => id !== 'registry', 'registry is reserved'),
  legalName: z.string().min(1),
  /** What the vendor does for us; the gate refuses a blank one. */
  purpose: z.string(),
  dataCategories: z.array(z.string().min(1)).min(1),
  /** Where the vendor processes the data (country or region codes). */
  locations: z.array(z.string().min(1)).min(1),
  /** The data processing agreement; the gate refuses a blank reference. */
  dpa: z.strictObject({ reference: z.string(), signedOn: IsoDay }),
  /**
   * The data-retention setting in force, as a control: what is configured, where (code paths,
   * console or contract), and what shows it holds.
   */
  retention: z.strictObject({
    control: z.string().min(1),
    configuredIn: z.array(z.string().min(1)).min(1),
    evidence: z.string().min(1).optional(),
  }),
  /** Every host the code reaches at this vendor. */
  hosts: z.array(HostName),
  engagedFor: z.enum(ENGAGEMENTS),
  status: z.enum(SUBPROCESSOR_STATUSES),
  /** The day customers were told of the current status. */
  announced: IsoDay,
  /** The day the current status takes effect (for `retiring`: the last day is the one before). */
  effective: IsoDay,
  /** Why the entry is in its current state: the reason of the change that put it there. */
  reason: z.string().min(1),
  /** Why a vendor in force before the registry existed had no notice period. */
  grandfathered: z.string().min(1).optional(),
});
export type Subprocessor = z.infer<typeof SubprocessorSchema>;

/** One registry file as read from disk or from `git show`. */
export interface RegistryFile {
  name: string;
  text: string;
}

/** The registry does not parse or breaks a rule of its shape; `details` names each problem. */
export class SubprocessorRegistryError extends AppError {
  override readonly name = 'SubprocessorRegistryError';
  constructor(readonly problems: { file: string; problem: string }[]) {
    super(
      500,
      'invalid_subprocessor_registry',
      `invalid sub-processor registry: ${problems.map((p) => `${p.file}: ${p.problem}`).join('; ')}`,
      problems,
    );
  }
}

/**
 * A provider call to a vendor not in force on the call date. The pipeline treats it as
 * terminal for that provider: nothing is sent, and no retry can make it allowed.
 */
export class SubprocessorNotActiveError extends AppError {
  override readonly name = 'SubprocessorNotActiveError';
  constructor(
    readonly subprocessorId: string,
    readonly day: string,
    readonly registryStatus: SubprocessorStatus | 'unregistered',
  ) {
    super(
      422,
      'subprocessor_not_active',
      `sub-processor ${subprocessorId} is not active on ${day} (${registryStatus === 'unregistered' ? 'not in the registry' : `status ${registryStatus}`})`,
      { subprocessor: subprocessorId, day, status: registryStatus },
    );
  }
}

/** The UTC calendar day of an instant, the granularity of every registry date. */
export function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** `day` plus `days` calendar days. */
export function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00.000Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return dayOf(d);
}

/** Whether `entry` is in force on `day`: the code may send it data that day. */
export function inForceOn(entry: Subprocessor, day: string): boolean {
  switch (entry.status) {
    case 'active':
      return entry.effective <= day;
    case 'retiring':
      return day < entry.effective;
    case 'proposed':
    case 'retired':
      return false;
  }
}

/** Whether `entry` is announced and not yet in force on `day` (the trust page's "upcoming"). */
export function upcomingOn(entry: Subprocessor, day: string): boolean {
  return (entry.status === 'active' || entry.status === 'proposed') && day < entry.effective;
}

export class SubprocessorRegistry {
  private readonly byId: ReadonlyMap<string, Subprocessor>;

  /** Entries sorted by id, so every output built from them is stable. */
  readonly entries: readonly Subprocessor[];

  constructor(entries: readonly Subprocessor[]) {
    this.entries = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.byId = new Map(this.entries.map((e) => [e.id, e]));
  }

  get(id: string): Subprocessor | undefined {
    return this.byId.get(id);
  }

  /** The entries in force on the day of `date`. */
  activeOn(date: Date | string): Subprocessor[] {
    const day = typeof date === 'string' ? date : dayOf(date);
    return this.entries.filter((e) => inForceOn(e, day));
  }

  /** Why `id` may not be sent data on the day of `date`; undefined when it may. */
  refusal(id: string, date: Date): SubprocessorNotActiveError | undefined {
    const entry = this.byId.get(id);
    const day = dayOf(date);
    if (!entry) return new SubprocessorNotActiveError(id, day, 'unregistered');
    if (!inForceOn(entry, day)) return new SubprocessorNotActiveError(id, day, entry.status);
    return undefined;
  }

  /** Throws SubprocessorNotActiveError unless `id` is in force on the day of `date`. */
  assertActive(id: string, date: Date): Subprocessor {
    const refusal = this.refusal(id, date);
    if (refusal) throw refusal;
    return this.byId.get(id) as Subprocessor;
  }

  /**
   * The sub-processors that processed one request, for its evidence record: every vendor
   * engaged for every request (hosting) in force that day, and each provider it was sent to.
   */
  processorsOf(providersCalled: readonly string[], date: Date): string[] {
    const day = dayOf(date);
    const hosting = this.entries
      .filter((e) => e.engagedFor === 'every-request' && inForceOn(e, day))
      .map((e) => e.id);
    return [...new Set([...hosting, ...providersCalled])].sort();
  }

  /** The entry whose `hosts` list `host`, if any. */
  byHost(host: string): Subprocessor | undefined {
    return this.entries.find((e) => e.hosts.includes(host));
  }
}

/**
 * The registry from its files: each `<id>.yaml` one entry whose id is its file name, ids
 * unique. Files not ending in `.yaml` are not entries. Every problem is collected, so one run
 * names them all.
 */
export function parseRegistry(files: readonly RegistryFile[]): SubprocessorRegistry {
  const problems: { file: string; problem: string }[] = [];
  const entries: Subprocessor[] = [];
  for (const file of files) {
    if (!file.name.endsWith('.yaml')) continue;
    let data: unknown;
    try {
      data = parse(file.text);
    } catch (err) {
      problems.push({ file: file.name, problem: `not YAML: ${(err as Error).message}` });
      continue;
    }
    const parsed = SubprocessorSchema.safeParse(data);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push({
          file: file.name,
          problem: `${issue.path.join('.') || '(entry)'}: ${issue.message}`,
        });
      }
      continue;
    }
    if (`${parsed.data.id}.yaml` !== file.name) {
      problems.push({ file: file.name, problem: `id ${parsed.data.id} must be the file's name` });
      continue;
    }
    entries.push(parsed.data);
  }
  const hostOwners = new Map<string, string>();
  for (const entry of entries) {
    for (const host of entry.hosts) {
      const owner = hostOwners.get(host);
      if (owner !== undefined && owner !== entry.id) {
        problems.push({ file: `${entry.id}.yaml`, problem: `host ${host} is also ${owner}'s` });
      }
      hostOwners.set(host, entry.id);
    }
  }
  if (problems.length > 0) throw new SubprocessorRegistryError(problems);
  return new SubprocessorRegistry(entries);
}

/** The registry in `dir` (one `<id>.yaml` per sub-processor). */
export function loadRegistry(dir: string): SubprocessorRegistry {
  if (!existsSync(dir)) {
    throw new SubprocessorRegistryError([{ file: dir, problem: 'no such directory' }]);
  }
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.yaml'))
    .sort();
  return parseRegistry(
    names.map((name) => ({ name, text: readFileSync(path.join(dir, name), 'utf8') })),
  );
}

/**
 * Where the registry is: `subprocessors/` beside the package.json above this module. The same
 * walk works from the TypeScript source (tests), from `build/` (the CLI) and from the deployed
 * function's source, which is staged with the registry beside its package.json.
 */
export function defaultRegistryDir(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'subprocessors');
    const parent = path.dirname(dir);
    if (parent === dir) return path.join(from, 'subprocessors');
    dir = parent;
  }
}

let runtime: SubprocessorRegistry | undefined;

/**
 * The registry this instance enforces, read once per instance: the registry ships with the
 * code it governs, so it cannot change under a running instance.
 */
export function runtimeRegistry(): SubprocessorRegistry {
  runtime ??= loadRegistry(defaultRegistryDir());
  return runtime;
}
