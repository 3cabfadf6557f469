/**
 * KMS calls per 1,000 extractions: the real CloudKmsKeyManager and KeyHierarchy against the
 * project's KMS emulator (in-process, on a temp dir). Each simulated extraction makes and opens
 * the data keys of its document, raw response and result, as submit + worker + replay do.
 * Decrypt RPCs are counted by wrapping the KeyManager; the goal is at most one unwrap per tenant
 * per TTL per instance.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  KeyHierarchy,
  type ObjectKind,
  type TenantKeyInfo,
} from '../../functions/src/crypto/envelope';
import {
  CloudKmsKeyManager,
  createKmsClient,
  type KeyManager,
} from '../../functions/src/crypto/kms';
import { startKmsEmulator } from '../local/emulators/kms/server';

/** The platform default of WRAPPING_KEY_CACHE_TTL_SECONDS (functions/src/config.ts). */
export const DEFAULT_TTL_SECONDS = 300;
const EXTRACTIONS = 1000;
const KINDS: ObjectKind[] = ['document', 'response', 'result'];

/** Counts the RPCs that cost money and latency: Decrypt (unwraps) and Encrypt. */
class CountingKeyManager implements KeyManager {
  decrypts = 0;
  encrypts = 0;
  constructor(private readonly inner: KeyManager) {}
  encrypt(keyName: string, plaintext: Buffer, aad: Buffer) {
    this.encrypts++;
    return this.inner.encrypt(keyName, plaintext, aad);
  }
  decrypt(keyName: string, ciphertext: Buffer, aad: Buffer) {
    this.decrypts++;
    return this.inner.decrypt(keyName, ciphertext, aad);
  }
  ensureKeyRing(name: string) {
    return this.inner.ensureKeyRing(name);
  }
  ensureSymmetricKey(ring: string, id: string, seconds: number) {
    return this.inner.ensureSymmetricKey(ring, id, seconds);
  }
  ensureSigningKey(ring: string, id: string) {
    return this.inner.ensureSigningKey(ring, id);
  }
  asymmetricSign(version: string, digest: Buffer) {
    return this.inner.asymmetricSign(version, digest);
  }
  getPublicKeyPem(version: string) {
    return this.inner.getPublicKeyPem(version);
  }
}

export interface KmsCacheRow {
  scenario: string;
  ttlSeconds: number;
  extractions: number;
  kmsDecrypts: number;
  extractionsPerSecond: number;
}

async function simulate(
  km: CountingKeyManager,
  tenant: TenantKeyInfo,
  scenario: string,
  ttlSeconds: number,
  spreadMs: number,
  progress: (line: string) => void,
): Promise<KmsCacheRow> {
  let clock = Date.now();
  const keys = new KeyHierarchy(km, ttlSeconds * 1000, 1000, () => clock);
  const before = km.decrypts;
  const started = process.hrtime.bigint();
  for (let i = 0; i < EXTRACTIONS; i++) {
    clock += spreadMs / EXTRACTIONS;
    for (const kind of KINDS) {
      const ref = { kind, id: `ex_bench_${String(i)}` };
      const { wrapped } = await keys.newDataKey(tenant, ref);
      await keys.openDataKey(tenant, ref, wrapped);
    }
    if ((i + 1) % 100 === 0) progress(`${scenario}: ${String(i + 1)}/${String(EXTRACTIONS)}`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    scenario,
    ttlSeconds,
    extractions: EXTRACTIONS,
    kmsDecrypts: km.decrypts - before,
    extractionsPerSecond: Math.round(EXTRACTIONS / seconds),
  };
}

export async function runKmsCacheBench(progress: (line: string) => void): Promise<KmsCacheRow[]> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-kms-'));
  const emulator = await startKmsEmulator({ dataDir });
  const client = createKmsClient(emulator.url);
  try {
    const km = new CountingKeyManager(new CloudKmsKeyManager(client));
    const ring = 'projects/bench/locations/global/keyRings/bench';
    await km.ensureKeyRing(ring);
    const kekName = await km.ensureSymmetricKey(ring, 'tenant-bench', 90 * 86_400);
    const setup = new KeyHierarchy(km, 0, 1);
    const tenant: TenantKeyInfo = {
      id: 'bench',
      kekName,
      wrappingKey: await setup.createWrappingKey('bench', kekName),
    };
    return [
      await simulate(km, tenant, 'default TTL, one burst', DEFAULT_TTL_SECONDS, 0, progress),
      await simulate(
        km,
        tenant,
        'default TTL, spread over 1 h',
        DEFAULT_TTL_SECONDS,
        3_600_000,
        progress,
      ),
      await simulate(km, tenant, 'TTL 0 (no cache)', 0, 0, progress),
    ];
  } finally {
    await client.close();
    await emulator.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function formatKmsCache(rows: KmsCacheRow[]): string[] {
  const header = ['scenario', 'TTL s', 'extractions', 'KMS Decrypt', 'extractions/s'];
  const cells = rows.map((r) => [
    r.scenario,
    String(r.ttlSeconds),
    String(r.extractions),
    String(r.kmsDecrypts),
    String(r.extractionsPerSecond),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ');
  const burst = rows[0];
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    '',
    `KMS calls per 1,000 extractions: ${String(burst?.kmsDecrypts ?? NaN)} (goal: <= 1 unwrap per tenant per TTL per instance)`,
  ];
}
