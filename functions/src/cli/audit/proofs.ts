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
import { trustedKey } from '../../evidence/trust-root';
import { CliError, requireId } from '../common';
import type { CliIo } from '../io';
import {
  addTrustOptions,
  describeLocation,
  openAuditLocation,
  resolveTrustedKey,
  resolveTrustRoot,
  type AuditLocation,
  type TrustOptions,
} from '../trust';

/** A tenant's sealed log at the location, or a CliError saying what the location holds. */
export async function requireTenantLog(location: AuditLocation, tenantId: string) {
  const log = await loadTenantLog(location.source, requireId(tenantId, 'tenant'));
  if (log.seals.length === 0) {
    throw new CliError(
      `no sealed log of tenant ${tenantId} at ${location.label}: ${await describeLocation(location)}`,
    );
  }
  return log;
}

export function registerAuditProve(audit: Command, io: CliIo): void {
  addTrustOptions(
    audit
      .command('prove')
      .description('inclusion proof of one record and the seal it belongs to')
      .argument('<tenantId>')
      .argument('<evidenceId>')
      .option('--source <location>', 'folder or gs://bucket[/prefix]')
      .option('--out <file>', 'write the receipt (verify it with `audit verify-receipt`)')
      .option('--json', 'print the receipt as one JSON document'),
  ).action(
    async (
      tenantId: string,
      evidenceId: string,
      options: TrustOptions & { source?: string; out?: string; json?: boolean },
    ) => {
      const key = await resolveTrustedKey(options);
      const log = await requireTenantLog(openAuditLocation(options.source), tenantId);
      const receipt = buildReceipt(log, requireId(evidenceId, 'evidence id'), key.pem);
      if (!receipt) throw new CliError(`record ${evidenceId} is not in any seal of ${tenantId}`);
      // Hand out only what verifies under the trust root: a receipt over a seal the key did not
      // sign would pass nowhere, and says the export is not what the platform sealed.
      const check = verifyReceipt(receipt, { key });
      if (!check.ok) {
        const failed = check.checks.filter((c) => !c.ok).map((c) => c.check);
        throw new CliError(
          `the receipt does not verify under the trust root: ${failed.join(', ')}`,
          2,
        );
      }
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
    },
  );
}

export function registerAuditConsistency(audit: Command, io: CliIo): void {
  addTrustOptions(
    audit
      .command('consistency')
      .description('prove that the log at seal B only extends the log at seal A')
      .argument('<tenantId>')
      .argument('<seqA>')
      .argument('<seqB>')
      .option('--source <location>', 'folder or gs://bucket[/prefix]')
      .option('--out <file>', 'write the proof (verify it with `audit verify-consistency`)')
      .option('--json', 'print the proof as one JSON document'),
  ).action(
    async (
      tenantId: string,
      seqA: string,
      seqB: string,
      options: TrustOptions & { source?: string; out?: string; json?: boolean },
    ) => {
      const [a, b] = [seqNumber(seqA, 'seqA'), seqNumber(seqB, 'seqB')];
      if (a > b) throw new CliError(`seqA (${seqA}) must not be after seqB (${seqB})`);
      const key = await resolveTrustedKey(options);
      const log = await requireTenantLog(openAuditLocation(options.source), tenantId);
      const older = log.seals.find((s) => s.seq === a);
      const newer = log.seals.find((s) => s.seq === b);
      if (!older || !newer) {
        throw new CliError(
          `tenant ${tenantId} has seals 1..${String(log.seals.at(-1)?.seq ?? 0)}; no seal ${String(older ? b : a)}`,
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
      // Both seals are checked under the trust root before the proof is handed out.
      const check = verifyConsistencyDocument(document, key.pem);
      if (!check.ok) {
        const failed = check.checks.filter((c) => !c.ok).map((c) => c.check);
        throw new CliError(
          `the proof does not verify under the trust root: ${failed.join(', ')}`,
          2,
        );
      }
      if (options.out) writeFileSync(options.out, JSON.stringify(document, null, 2) + '\n');
      if (options.json) io.out(JSON.stringify(document));
      else {
        io.out(
          `seal ${String(a)} (tree ${String(older.treeSize)}, root ${older.rootHash}) → seal ${String(b)} (tree ${String(newer.treeSize)}, root ${newer.rootHash}): ${String(document.proof.length)} proof hashes, both seals signed by the trusted key`,
        );
        io.out(
          options.out
            ? `proof written to ${options.out}`
            : 'use --out FILE or --json for the proof itself',
        );
      }
    },
  );
}

export function registerAuditVerifyConsistency(audit: Command, io: CliIo): void {
  addTrustOptions(
    audit
      .command('verify-consistency')
      .description('check a consistency proof offline: both seal signatures and the proof')
      .argument('<file>', 'written by `audit consistency --out`')
      .option('--json', 'machine-readable output'),
  ).action(async (file: string, options: TrustOptions & { json?: boolean }) => {
    const key = await resolveTrustedKey(options);
    const result = verifyConsistencyDocument(readJsonFile(file, 'consistency proof'), key.pem);
    if (options.json) io.out(JSON.stringify(result));
    else for (const c of result.checks) io.out(`${c.ok ? 'OK  ' : 'FAIL'} ${c.check}`);
    if (!result.ok) throw new CliError('consistency verification failed', 2);
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
  addTrustOptions(
    audit
      .command('verify-receipt')
      .description(
        'check an evidence receipt offline against your trust root: content hash, inclusion, seal signature',
      )
      .argument('<file>')
      .option('--json', 'machine-readable output'),
  ).action(async (file: string, options: TrustOptions & { json?: boolean }) => {
    const receipt = readJsonFile(file, 'receipt');
    // A fingerprint alone is enough here: the receipt carries a key, which must hash to it.
    const result = verifyReceipt(receipt, await resolveTrustRoot(options, true));
    if (options.json) io.out(JSON.stringify(result));
    else for (const c of result.checks) io.out(`${c.ok ? 'OK  ' : 'FAIL'} ${c.check}`);
    if (!result.ok) throw new CliError('receipt verification failed', 2);
  });
}

/** `audit fingerprint`: the SHA-256 of a public key's SPKI DER, to compare with a published one. */
export function registerAuditFingerprint(audit: Command, io: CliIo): void {
  audit
    .command('fingerprint')
    .description('print the fingerprint (sha256 of the SPKI DER) of a PEM public key')
    .argument('<file>', 'the PEM public key')
    .action((file: string) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
      }
      const key = trustedKey(text);
      if (!key) throw new CliError(`${file} is not a PEM public key`);
      io.out(key.fingerprint);
      return Promise.resolve();
    });
}
