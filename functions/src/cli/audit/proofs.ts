/**
 * `audit prove`, `audit consistency`, `audit verify-receipt`, `audit verify-consistency`:
 * inclusion and consistency proofs over a tenant's sealed log, and their offline checks.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { consistencyProof, leafHash } from '../../evidence/merkle';
import {
  buildReceipt,
  loadTenantLog,
  verifyConsistencyDocument,
  verifyReceipt,
  type ConsistencyDocument,
} from '../../evidence/receipts';
import { leafData } from '../../evidence/seal';
import { CliError, NO_KEY, readPem, requireId, withAuditSource } from '../common';
import type { CliIo } from '../io';

export function registerAuditProve(audit: Command, io: CliIo): void {
  audit
    .command('prove')
    .description('inclusion proof of one record and the seal it belongs to')
    .argument('<tenantId>')
    .argument('<evidenceId>')
    .option('--source <location>', 'folder or gs://bucket/prefix')
    .option('--out <file>', 'write the receipt (verify it with `audit verify-receipt`)')
    .option('--json', 'print the receipt as one JSON document')
    .option('--public-key <file>', 'the platform public key (PEM) to put in the receipt')
    .action(
      (
        tenantId: string,
        evidenceId: string,
        options: { source?: string; out?: string; json?: boolean; publicKey?: string },
      ) =>
        withAuditSource(io, options.source, options.publicKey, async ({ source, publicKey }) => {
          const log = await loadTenantLog(source, requireId(tenantId, 'tenant'));
          if (log.seals.length === 0)
            throw new CliError(`no sealed log of tenant ${tenantId} at this location`);
          const receipt = buildReceipt(
            log,
            requireId(evidenceId, 'evidence id'),
            await publicKey(),
          );
          if (!receipt)
            throw new CliError(`record ${evidenceId} is not in any seal of ${tenantId}`);
          if (options.out) writeFileSync(options.out, JSON.stringify(receipt, null, 2) + '\n');
          if (options.json) io.out(JSON.stringify(receipt));
          else {
            io.out(
              `record ${evidenceId}: leaf ${String(receipt.leafIndex)} of seal ${String(receipt.seal.seq)} (tree size ${String(receipt.seal.treeSize)}, root ${receipt.seal.rootHash})`,
            );
            io.out(
              options.out
                ? `receipt written to ${options.out}`
                : 'use --out FILE or --json for the receipt itself',
            );
          }
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
    .option('--out <file>', 'write the proof (verify it with `audit verify-consistency`)')
    .option('--json', 'print the proof as one JSON document')
    .action(
      (
        tenantId: string,
        seqA: string,
        seqB: string,
        options: { source?: string; out?: string; json?: boolean },
      ) => {
        const [a, b] = [seqNumber(seqA, 'seqA'), seqNumber(seqB, 'seqB')];
        if (a > b) throw new CliError(`seqA (${seqA}) must not be after seqB (${seqB})`);
        // The proof is hashes over the exported log and the seals as signed: no key is needed.
        return withAuditSource(io, options.source, NO_KEY, async ({ source }) => {
          const log = await loadTenantLog(source, requireId(tenantId, 'tenant'));
          const older = log.seals.find((s) => s.seq === a);
          const newer = log.seals.find((s) => s.seq === b);
          const last = log.seals.at(-1)?.seq;
          if (!older || !newer) {
            throw new CliError(
              last === undefined
                ? `no sealed log of tenant ${tenantId} at this location`
                : `tenant ${tenantId} has seals 1..${String(last)}; no seal ${String(older ? b : a)}`,
            );
          }
          const leaves = log.records.slice(0, newer.treeSize).map((r) => leafHash(leafData(r)));
          const document: ConsistencyDocument = {
            version: 1,
            tenantId,
            old: older,
            new: newer,
            proof: consistencyProof(older.treeSize, leaves).map((h) => h.toString('hex')),
          };
          if (options.out) writeFileSync(options.out, JSON.stringify(document, null, 2) + '\n');
          if (options.json) io.out(JSON.stringify(document));
          else {
            io.out(
              `seal ${String(a)} (tree ${String(older.treeSize)}, root ${older.rootHash}) → seal ${String(b)} (tree ${String(newer.treeSize)}, root ${newer.rootHash}): ${String(document.proof.length)} proof hashes`,
            );
            io.out(
              options.out
                ? `proof written to ${options.out}`
                : 'use --out FILE or --json for the proof itself',
            );
          }
        });
      },
    );
}

export function registerAuditVerifyConsistency(audit: Command, io: CliIo): void {
  audit
    .command('verify-consistency')
    .description('check a consistency proof offline: both seal signatures and the proof')
    .argument('<file>', 'written by `audit consistency --out`')
    .requiredOption('--public-key <file>', 'the platform public key (PEM) you trust')
    .option('--json', 'machine-readable output')
    .action((file: string, options: { publicKey: string; json?: boolean }) => {
      const result = verifyConsistencyDocument(
        readJsonFile(file, 'consistency proof'),
        readPem(options.publicKey),
      );
      if (options.json) io.out(JSON.stringify(result));
      else for (const c of result.checks) io.out(`${c.ok ? 'OK  ' : 'FAIL'} ${c.check}`);
      if (!result.ok) throw new CliError('consistency verification failed', 2);
      return Promise.resolve();
    });
}

/** A seal number argument: a whole number from 1. */
function seqNumber(value: string, name: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new CliError(`invalid ${name} ${JSON.stringify(value)}: a seal number (1, 2, ...)`);
  return n;
}

/** A JSON file's content, or a CliError naming the file and what is wrong with it. */
function readJsonFile(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new CliError(`cannot read the ${what} ${file}: ${(err as Error).message}`);
  }
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
        readJsonFile(file, 'receipt'),
        options.publicKey ? readFileSync(options.publicKey, 'utf8') : undefined,
      );
      if (options.json) io.out(JSON.stringify(result));
      else for (const c of result.checks) io.out(`${c.ok ? 'OK  ' : 'FAIL'} ${c.check}`);
      if (!result.ok) throw new CliError('receipt verification failed', 2);
      return Promise.resolve();
    });
}
