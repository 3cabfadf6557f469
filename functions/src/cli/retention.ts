/**
 * `provenant retention run [--now ISO]`: one retention pass now, the same one the scheduler
 * runs (lifecycle/retention.ts); `--now` moves its clock (a dry rehearsal of a future date on a
 * local stack, or catching up). `provenant tenant retention`: a tenant's settings.
 */
import type { Command } from 'commander';
import { AppError } from '../errors';
import {
  retentionSettings,
  runRetention,
  setRetentionSettings,
  type RetentionOutcome,
  type RetentionSettingsInput,
} from '../lifecycle/retention';
import type { Services } from '../services';
import { CliError, requireId, requireIsoDate, withServices } from './common';
import type { CliIo } from './io';

function wholeNumber(value: string, flag: string): number {
  if (!/^-?\d{1,9}$/.test(value)) throw new CliError(`invalid ${flag} ${JSON.stringify(value)}`);
  return Number(value);
}

/** A typed domain error as one CLI line, its stable code first. */
async function asCliError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError) throw new CliError(`${err.code}: ${err.message}`);
    throw err;
  }
}

export function registerRetentionCommand(program: Command, io: CliIo): void {
  program
    .command('retention')
    .description('content retention: erase what is past each tenant retention')
    .command('run')
    .description('run one retention pass over every tenant now (the scheduler does it hourly)')
    .option('--now <iso>', 'the clock the pass runs at (default: the current time)')
    .option('--max-per-tenant <n>', 'extractions examined per tenant in this pass', '1000')
    .option(
      '--tenant <id>',
      'only this tenant (repeatable)',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option('--json', 'machine-readable output')
    .action((options: { now?: string; maxPerTenant: string; tenant: string[]; json?: boolean }) =>
      withServices(io, async (services) => {
        const now = new Date(requireIsoDate(options.now, '--now') ?? Date.now());
        const maxPerTenant = wholeNumber(options.maxPerTenant, '--max-per-tenant');
        if (maxPerTenant < 1) throw new CliError('--max-per-tenant must be at least 1');
        for (const id of options.tenant) requireId(id, 'tenant id');
        const outcomes = await runRetention(services, {
          now,
          maxPerTenant,
          ...(options.tenant.length > 0 ? { tenantIds: options.tenant } : {}),
        });
        for (const o of outcomes) io.out(options.json ? JSON.stringify(o) : outcomeLine(o));
        const failed = outcomes.filter((o) => o.error !== undefined);
        if (failed.length > 0) {
          throw new CliError(
            `retention failed for ${String(failed.length)} tenant(s): ${failed.map((o) => `${o.tenantId} (${o.error ?? ''})`).join('; ')}`,
          );
        }
      }),
    );
}

function outcomeLine(o: RetentionOutcome): string {
  if (o.error !== undefined) return `${o.tenantId}: FAILED: ${o.error}`;
  return `${o.tenantId}: ${String(o.erased)} erased of ${String(o.examined)} past retention${o.inProgress > 0 ? `, ${String(o.inProgress)} still in progress` : ''}${o.more ? ' (more next pass)' : ''}`;
}

/** `provenant tenant retention <tenantId>`: shows, or with options changes, the settings. */
export function registerTenantRetention(tenant: Command, io: CliIo): void {
  tenant
    .command('retention')
    .description(
      'show or set how long the tenant content is kept (days, per schema) and its evidence (years, at least 7)',
    )
    .argument('<tenantId>')
    .option('--content-days <n>', 'content retention in days (1-3650)')
    .option(
      '--schema <name=days>',
      'content retention of one schema, or name=default to remove it (repeatable)',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option('--evidence-years <n>', 'evidence retention in years (at least 7)')
    .option('--json', 'machine-readable output')
    .action(
      (
        tenantId: string,
        options: { contentDays?: string; schema: string[]; evidenceYears?: string; json?: boolean },
      ) =>
        withServices(io, async (services) => {
          requireId(tenantId, 'tenant id');
          const input: RetentionSettingsInput = {};
          if (options.contentDays !== undefined)
            input.contentRetentionDays = wholeNumber(options.contentDays, '--content-days');
          if (options.evidenceYears !== undefined)
            input.evidenceRetentionYears = wholeNumber(options.evidenceYears, '--evidence-years');
          const bySchema: Record<string, number | null> = {};
          for (const entry of options.schema) {
            const [name, days] = entry.split('=');
            if (!name || days === undefined)
              throw new CliError(`invalid --schema ${JSON.stringify(entry)}: expected name=days`);
            bySchema[name] = days === 'default' ? null : wholeNumber(days, `--schema ${name}`);
          }
          if (Object.keys(bySchema).length > 0) input.bySchema = bySchema;
          const settings =
            Object.keys(input).length === 0
              ? await current(services, tenantId)
              : await asCliError(() => setRetentionSettings(services, tenantId, input));
          if (options.json) {
            io.out(JSON.stringify({ tenantId, ...settings }));
            return;
          }
          const schemas = Object.entries(settings.bySchema)
            .map(([name, days]) => `${name} ${String(days)} days`)
            .join(', ');
          io.out(
            `tenant ${tenantId}: content kept ${String(settings.contentRetentionDays)} days${schemas ? ` (${schemas})` : ''}; evidence kept ${String(settings.evidenceRetentionDays)} days`,
          );
        }),
    );
}

async function current(services: Services, tenantId: string) {
  const tenant = await services.platform.getTenant(tenantId);
  if (!tenant) throw new CliError(`tenant ${tenantId} not found`);
  return retentionSettings(tenant, services.config.EVIDENCE_RETENTION_DAYS);
}
