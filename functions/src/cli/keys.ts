/** `provenant keys rotate`: a thin command over lifecycle/key-rotation.ts. */
import type { Command } from 'commander';
import { defaultRotationId, rotateKeks, type RotationOutcome } from '../lifecycle/key-rotation';
import { CliError, confirmOrRefuse, requireId, withServices } from './common';
import type { CliIo } from './io';

export function registerKeyCommands(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('tenant key encryption keys');
  registerRotate(keys, io);
}

function registerRotate(keys: Command, io: CliIo): void {
  keys
    .command('rotate')
    .description(
      'new KEK version as primary, wrapping keys re-wrapped under it, old versions disabled; resumable',
    )
    .option('--tenant <tenantId>', 'only this tenant (default: every active tenant)')
    .option(
      '--rotation-id <id>',
      'names the rotation; the same id again is a no-op (default: UTC date)',
    )
    .option('--json', 'machine-readable output: one JSON array of outcomes')
    .option('--yes', 'do not ask for confirmation')
    .action((options: { tenant?: string; rotationId?: string; json?: boolean; yes?: boolean }) =>
      withServices(io, async (services) => {
        if (options.tenant !== undefined) requireId(options.tenant, 'tenant id');
        const rotationId = options.rotationId ?? defaultRotationId();
        if (options.rotationId !== undefined) requireId(options.rotationId, 'rotation id');
        await confirmOrRefuse(
          io,
          `rotate the KEK of ${options.tenant === undefined ? 'every active tenant' : `tenant ${options.tenant}`} (rotation ${rotationId}): a new primary version, wrapping keys re-wrapped, older versions disabled`,
          options.yes,
        );
        const outcomes = await rotateKeks(services, {
          rotationId,
          ...(options.tenant === undefined ? {} : { tenantId: options.tenant }),
        });
        if (options.json) io.out(JSON.stringify(outcomes));
        else for (const o of outcomes) io.out(outcomeLine(o));
        const failed = outcomes.filter((o) => o.status === 'failed');
        if (failed.length > 0) {
          throw new CliError(`rotation failed for ${failed.map((o) => o.tenantId).join(', ')}`);
        }
      }),
    );
}

function outcomeLine(o: RotationOutcome): string {
  if (o.status === 'noop') {
    return `${o.tenantId}: nothing done: rotation ${o.rotationId} already completed${o.newVersion ? ` (primary ${o.newVersion})` : ''}; a rotation id runs once, pass another --rotation-id to rotate again`;
  }
  return `${o.tenantId}: ${o.status}${o.reason ? ` (${o.reason})` : ''}${o.newVersion ? ` → ${o.newVersion}` : ''}${o.disabledVersions.length > 0 ? `; disabled ${o.disabledVersions.join(', ')}` : ''}`;
}
