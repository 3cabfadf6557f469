/**
 * `audit prove`, `audit consistency`, `audit verify-receipt`: inclusion and consistency proofs
 * over a tenant's sealed log, and the offline check of a receipt.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { consistencyProof, leafHash } from '../../evidence/merkle';
import { buildReceipt, loadTenantLog, verifyReceipt } from '../../evidence/receipts';
import { leafData } from '../../evidence/seal';
import { CliError, openSource, requireId, withServices } from '../common';
import type { CliIo } from '../io';

export function registerAuditProve(audit: Command, io: CliIo): void {
  audit
    .command('prove')
    .description('inclusion proof of one record and the seal it belongs to')
    .argument('<tenantId>')
    .argument('<evidenceId>')
    .option('--source <location>', 'folder or gs://bucket/prefix')
    .option('--out <file>', 'write the receipt (verify it with `audit verify-receipt`)')
    .action((tenantId: string, evidenceId: string, options: { source?: string; out?: string }) =>
      withServices(io, async (services) => {
        const log = await loadTenantLog(
          openSource(services, options.source),
          requireId(tenantId, 'tenant'),
        );
        const receipt = buildReceipt(
          log,
          evidenceId,
          await services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION),
        );
        if (!receipt) throw new CliError(`record ${evidenceId} is not in any seal of ${tenantId}`);
        const text = JSON.stringify(receipt, null, 2);
        if (options.out) writeFileSync(options.out, text + '\n');
        io.out(
          options.out
            ? `receipt written to ${options.out} (leaf ${String(receipt.leafIndex)} of seal ${String(receipt.seal.seq)})`
            : text,
        );
      }),
    );
}

export function registerAuditConsistency(audit: Command, io: CliIo): void {
  audit
    .command('consistency')
    .description('prove that the log at seal B only extends the log at seal A')
    .argument('<tenantId>')
    .argument('<seqA>')
    .argument('<seqB>')
    .option('--source <location>', 'folder or gs://bucket/prefix')
    .action((tenantId: string, seqA: string, seqB: string, options: { source?: string }) =>
      withServices(io, async (services) => {
        const log = await loadTenantLog(
          openSource(services, options.source),
          requireId(tenantId, 'tenant'),
        );
        const a = log.seals.find((s) => s.seq === Number(seqA));
        const b = log.seals.find((s) => s.seq === Number(seqB));
        if (!a || !b || a.seq > b.seq)
          throw new CliError('need two existing seals with seqA <= seqB');
        const leaves = log.records.slice(0, b.treeSize).map((r) => leafHash(leafData(r)));
        io.out(
          JSON.stringify({
            tenantId,
            old: { seq: a.seq, treeSize: a.treeSize, rootHash: a.rootHash },
            new: { seq: b.seq, treeSize: b.treeSize, rootHash: b.rootHash },
            proof: consistencyProof(a.treeSize, leaves).map((h) => h.toString('hex')),
          }),
        );
      }),
    );
}

export function registerAuditVerifyReceipt(audit: Command, io: CliIo): void {
  audit
    .command('verify-receipt')
    .description('check an evidence receipt offline: content hash, inclusion, seal signature')
    .argument('<file>')
    .option('--public-key <file>', 'require the receipt to carry this pinned key')
    .option('--json', 'machine-readable output')
    .action((file: string, options: { publicKey?: string; json?: boolean }) => {
      const result = verifyReceipt(
        JSON.parse(readFileSync(file, 'utf8')) as unknown,
        options.publicKey ? readFileSync(options.publicKey, 'utf8') : undefined,
      );
      if (options.json) io.out(JSON.stringify(result));
      else for (const c of result.checks) io.out(`${c.ok ? 'OK  ' : 'FAIL'} ${c.check}`);
      if (!result.ok) throw new CliError('receipt verification failed', 2);
      return Promise.resolve();
    });
}
