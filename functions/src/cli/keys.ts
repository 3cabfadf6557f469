/**
 * `provenant keys rotate`, `provenant tenant offboard`, `provenant tenant verify-certificate`:
 * thin commands over crypto/rotation.ts and tenancy/offboarding.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { defaultRotationId, rotateKeks } from '../lifecycle/key-rotation';
import { isValidId } from '../tenancy/firestore';
import { offboardTenant, verifyCertificate } from '../lifecycle/offboarding';
import { CliError, withServices } from './common';
import type { CliIo } from './io';

function tenantCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'tenant') ??
    program.command('tenant').description('tenant lifecycle')
  );
}

export function registerKeyCommands(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('tenant key encryption keys');
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
        if (options.tenant !== undefined && !isValidId(options.tenant))
          throw new CliError(`invalid tenant id: ${options.tenant}`);
        const outcomes = await rotateKeks(services, {
          rotationId: options.rotationId ?? defaultRotationId(),
          ...(options.tenant === undefined ? {} : { tenantId: options.tenant }),
        });
        for (const o of outcomes) {
          io.out(
            options.json
              ? JSON.stringify(o)
              : `${o.tenantId}: ${o.status}${o.reason ? ` (${o.reason})` : ''}${o.newVersion ? ` → ${o.newVersion}` : ''}${o.disabledVersions.length > 0 ? `; disabled ${o.disabledVersions.join(', ')}` : ''}`,
          );
        }
        const failed = outcomes.filter((o) => o.status === 'failed');
        if (failed.length > 0) {
          throw new CliError(`rotation failed for ${failed.map((o) => o.tenantId).join(', ')}`);
        }
      }),
    );

  const tenant = tenantCommand(program);
  tenant
    .command('offboard')
    .description(
      'offboard a tenant: revoke its keys, destroy its KEK versions, issue a signed deletion certificate',
    )
    .argument('<tenantId>')
    .option('--out <file>', 'also write the certificate to this file')
    .option('--json', 'machine-readable output')
    .action((tenantId: string, options: { out?: string; json?: boolean }) =>
      withServices(io, async (services) => {
        if (!isValidId(tenantId)) throw new CliError(`invalid tenant id: ${tenantId}`);
        io.progress(`offboarding ${tenantId} (the final seal waits out the safety window)`);
        const result = await offboardTenant(services, tenantId);
        if (options.out) writeFileSync(options.out, JSON.stringify(result.certificate, null, 2));
        if (options.json) io.out(JSON.stringify(result));
        else {
          const c = result.certificate;
          io.out(`tenant ${tenantId} offboarded at ${c.offboardedAt}`);
          io.out(`KEK versions destroyed: ${String(c.keyVersionsDestroyed.length)}`);
          io.out(
            `unreadable: ${String(c.counts.dataKeys)} data keys, ${String(c.counts.documents)} documents, ${String(c.counts.extractions)} extractions; ${String(c.counts.evidenceRecords)} evidence records kept`,
          );
          io.out(
            `certificate: evidence ${result.evidenceId}${result.finalSeal ? `, sealed in seal ${String(result.finalSeal.seq)}` : ''}`,
          );
        }
      }),
    );

  tenant
    .command('verify-certificate')
    .description('check a deletion certificate offline against the platform public key')
    .argument('<file>', 'the certificate (JSON)')
    .option('--public-key <pem>', 'the platform sealing public key (PEM file); default: from KMS')
    .action(async (file: string, options: { publicKey?: string }) => {
      let certificate: unknown;
      try {
        certificate = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        throw new CliError(`${file} is not a JSON file`);
      }
      const pem = options.publicKey
        ? readFileSync(options.publicKey, 'utf8')
        : await withServices(io, (services) =>
            services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION),
          );
      if (!verifyCertificate(certificate, pem)) {
        throw new CliError('the certificate does NOT verify under the platform key', 2);
      }
      io.out('the certificate verifies under the platform key');
    });
}
