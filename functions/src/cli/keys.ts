/** `provenant keys rotate`: a thin command over lifecycle/key-rotation.ts. */
import type { Command } from 'commander';
import { defaultRotationId, rotateKeks, type RotationOutcome } from '../lifecycle/key-rotation';
import { CliError, requireId, withServices } from './common';
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
    .option('--json', 'machine-readable output')
    .action((options: { tenant?: string; rotationId?: string; json?: boolean }) =>
      withServices(io, async (services) => {
        if (options.tenant !== undefined) requireId(options.tenant, 'tenant id');
        const outcomes = await rotateKeks(services, {
          rotationId: options.rotationId ?? defaultRotationId(),
          ...(options.tenant === undefined ? {} : { tenantId: options.tenant }),
        });
        for (const o of outcomes) io.out(options.json ? JSON.stringify(o) : outcomeLine(o));
        const failed = outcomes.filter((o) => o.status === 'failed');
        if (failed.length > 0) {
          throw new CliError(`rotation failed for ${failed.map((o) => o.tenantId).join(', ')}`);
        }
      }),
    );
}

function outcomeLine(o: RotationOutcome): string {
  return `${o.tenantId}: ${o.status}${o.reason ? ` (${o.reason})` : ''}${o.newVersion ? ` → ${o.newVersion}` : ''}${o.disabledVersions.length > 0 ? `; disabled ${o.disabledVersions.join(', ')}` : ''}`;
}
