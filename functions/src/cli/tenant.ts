/**
 * `provenant tenant onboard|offboard|verify-certificate`: thin commands over
 * lifecycle/onboarding.ts and lifecycle/offboarding.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { offboardTenant, verifyCertificate, type OffboardResult } from '../lifecycle/offboarding';
import { onboardTenant } from '../lifecycle/onboarding';
import { CliError, confirmOrRefuse, requireId, withServices } from './common';
import type { CliIo } from './io';
import { registerTenantRetention } from './retention';
import { addTrustOptions, resolveTrustedKey, type TrustOptions } from './trust';

export function registerTenantCommands(program: Command, io: CliIo): void {
  const tenant = program.command('tenant').description('tenant lifecycle');
  registerOnboard(tenant, io);
  registerOffboard(tenant, io);
  registerVerifyCertificate(tenant, io);
  registerDateOrder(tenant, io);
  registerTenantRetention(tenant, io);
}

/**
 * How the tenant's documents write numeric dates: `04/02/2026` is 4 February under DMY and
 * April 2 under MDY; without a setting such a date is flagged `ambiguous_date`, never guessed.
 */
function registerDateOrder(tenant: Command, io: CliIo): void {
  tenant
    .command('date-order')
    .description(
      'how numeric dates in the tenant documents are read: DMY, MDY, or none (flag them)',
    )
    .argument('<tenantId>')
    .argument('<order>', 'DMY, MDY or none')
    .option('--json', 'machine-readable output')
    .action((tenantId: string, order: string, options: { json?: boolean }) =>
      withServices(io, async (services) => {
        requireId(tenantId, 'tenant id');
        const value = order === 'none' ? null : order;
        if (value !== null && value !== 'DMY' && value !== 'MDY')
          throw new CliError(`invalid order ${JSON.stringify(order)}: DMY, MDY or none`);
        if (!(await services.platform.getTenant(tenantId)))
          throw new CliError(`tenant ${tenantId} not found`);
        await services.platform.setTenantDateOrder(tenantId, value);
        if (options.json) io.out(JSON.stringify({ tenantId, dateOrder: value }));
        else
          io.out(
            `tenant ${tenantId}: numeric dates read as ${value ?? 'ambiguous unless unmistakable'}`,
          );
      }),
    );
}

function registerOnboard(tenant: Command, io: CliIo): void {
  tenant
    .command('onboard')
    .description(
      'create a tenant with its own KMS key and a first API key (shown once); with --admin-email, a new admin account and its one-time sign-in link',
    )
    .argument('<tenantId>', 'letters, digits, - or _')
    .requiredOption('--name <name>', 'display name')
    .option(
      '--admin-email <email>',
      'the first admin: a new account (an existing one is refused), signed in through the link printed',
    )
    .option(
      '--identity-tenant <id>',
      "the Identity Platform tenant holding the tenant's people (and the new admin)",
    )
    .option('--json', 'machine-readable output')
    .action(
      (
        tenantId: string,
        options: { name: string; adminEmail?: string; identityTenant?: string; json?: boolean },
      ) =>
        withServices(io, async (services) => {
          const result = await onboardTenant(services, {
            tenantId,
            name: options.name,
            ...(options.adminEmail === undefined ? {} : { adminEmail: options.adminEmail }),
            ...(options.identityTenant === undefined
              ? {}
              : { identityTenantId: options.identityTenant }),
          });
          if (options.json) {
            io.out(
              JSON.stringify({
                tenantId,
                kekName: result.tenant.kekName,
                apiKey: result.apiKey,
                admin: result.admin ?? null,
              }),
            );
            return;
          }
          io.out(`tenant ${tenantId} onboarded; KEK ${result.tenant.kekName}`);
          io.out(`API key (shown once, store it now): ${result.apiKey.token}`);
          if (result.admin) {
            io.out(`admin ${result.admin.email} created (uid ${result.admin.uid})`);
            io.out(
              `sign-in link (shown once; give it to the admin only, it sets their password): ${result.admin.signInLink}`,
            );
          }
        }),
    );
}

function registerOffboard(tenant: Command, io: CliIo): void {
  tenant
    .command('offboard')
    .description(
      'offboard a tenant: revoke its keys, destroy its KEK versions, issue a signed deletion certificate',
    )
    .argument('<tenantId>')
    .option('--out <file>', 'also write the certificate to this file')
    .option('--json', 'machine-readable output')
    .option('--yes', 'do not ask for confirmation')
    .action((tenantId: string, options: { out?: string; json?: boolean; yes?: boolean }) =>
      withServices(io, async (services) => {
        requireId(tenantId, 'tenant id');
        if (!(await services.platform.getTenant(tenantId)))
          throw new CliError(`tenant ${tenantId} not found`);
        await confirmOrRefuse(
          io,
          `offboard tenant ${tenantId}: revoke every API key and destroy every KEK version, so none of its documents, responses or results can ever be decrypted again (irreversible)`,
          options.yes,
        );
        io.progress(`offboarding ${tenantId} (the final seal waits out the safety window)`);
        const result = await offboardTenant(services, tenantId);
        if (options.out) writeFileSync(options.out, JSON.stringify(result.certificate, null, 2));
        if (options.json) io.out(JSON.stringify(result));
        else printOffboarded(io, tenantId, result);
      }),
    );
}

/** What was destroyed, what stays readable, and where the certificate is recorded. */
function printOffboarded(io: CliIo, tenantId: string, result: OffboardResult): void {
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

function registerVerifyCertificate(tenant: Command, io: CliIo): void {
  addTrustOptions(
    tenant
      .command('verify-certificate')
      .description('check a deletion certificate offline against the platform public key')
      .argument('<file>', 'the certificate (JSON)')
      .option('--json', 'machine-readable output'),
  ).action(async (file: string, options: TrustOptions & { json?: boolean }) => {
    let certificate: unknown;
    try {
      certificate = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new CliError(`${file} is not a JSON file`);
    }
    // Offline against the key the verifier trusts; nothing is fetched unless --kms-key says so.
    const key = await resolveTrustedKey(options);
    const ok = verifyCertificate(certificate, key.pem);
    if (options.json) io.out(JSON.stringify({ ok, keyFingerprint: key.fingerprint }));
    else if (ok) io.out(`the certificate verifies under the platform key ${key.fingerprint}`);
    if (!ok) throw new CliError('the certificate does NOT verify under the platform key', 2);
  });
}
