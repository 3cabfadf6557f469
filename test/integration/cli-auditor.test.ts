/**
 * Issue 9, findings 4 and 5, from the auditor's side: `provenant` installed from the packed
 * tarball (no repository, no stack file) and run as a process with an environment that holds
 * nothing but PATH, HOME and, for gs:// locally, the storage emulator's endpoint. The location
 * and the trust root are the arguments. Every audit command passes that way; verifying nothing
 * fails; a receipt is checked against the trust root given, never against the key it carries.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../../functions/src/config';
import { leafHash } from '../../functions/src/evidence/merkle';
import type { Receipt } from '../../functions/src/evidence/receipts';
import { leafData, sealDigest, type UnsignedSeal } from '../../functions/src/evidence/seal';
import { trustedKey } from '../../functions/src/evidence/trust-root';
import { sealTenantEvidence } from '../../functions/src/ledger/sealer';
import { offboardTenant } from '../../functions/src/lifecycle/offboarding';
import { onboardTenant } from '../../functions/src/lifecycle/onboarding';
import { createServices, type Services } from '../../functions/src/services';
import type { TenantProfile } from '../../functions/src/tenancy/platform';
import { signP256Digest } from '../../scripts/local/emulators/kms/ecdsa';
import { extractInvoice } from '../support/api';

const exec = promisify(execFile);

// Each test starts the installed CLI as a process, some several times; on the 2-core CI machine
// one start took ten seconds under a full run. A budget for processes, not a latency claim.
const SPAWNS_BUDGET_MS = 120_000;
const root = path.resolve(__dirname, '..', '..');
const run = randomBytes(4).toString('hex');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let services: Services;
let tenant: TenantProfile;
let evidenceIds: string[];
let work: string;
let exportDir: string;
let keyFile: string;
let certificateFile: string;
let entry: string;
let bucketRoot: string;

/** The auditor's environment: nothing but PATH and HOME (and the storage endpoint for gs://). */
const bare = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '', HOME: work });
const withStorage = (): NodeJS.ProcessEnv => ({
  ...bare(),
  STORAGE_API_ENDPOINT: process.env.STORAGE_API_ENDPOINT ?? '',
});

/** The installed `provenant` as a process, from a folder outside the repository. */
async function auditor(args: string[], env: NodeJS.ProcessEnv = bare()): Promise<Result> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [entry, ...args], {
      env,
      cwd: work,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  services = createServices(parseConfig({ ...process.env, SEAL_SAFETY_SECONDS: '0' }));
  const onboarded = await onboardTenant(services, { tenantId: `auditor-${run}`, name: 'Audit' });
  tenant = onboarded.tenant;
  evidenceIds = [];
  for (let i = 0; i < 3; i++) {
    const done = await extractInvoice(
      onboarded.apiKey.token,
      `Vendor: A ${String(i)}\nTotal: 1.00`,
    );
    evidenceIds.push(done.evidenceId ?? '');
    await sealTenantEvidence(services, tenant, new Date());
  }
  work = mkdtempSync(path.join(os.tmpdir(), 'provenant-auditor-'));
  exportDir = path.join(work, 'export');
  keyFile = path.join(work, 'platform.pem');
  writeFileSync(
    keyFile,
    await services.keyManager.getPublicKeyPem(services.config.SEALING_KEY_VERSION),
  );
  bucketRoot = `gs://${services.config.AUDIT_BUCKET}`;

  // A deletion certificate to verify offline.
  const gone = await onboardTenant(services, { tenantId: `auditor-gone-${run}`, name: 'Gone' });
  const offboarded = await offboardTenant(services, gone.tenant.id);
  certificateFile = path.join(work, 'certificate.json');
  writeFileSync(certificateFile, JSON.stringify(offboarded.certificate));

  // Installed as an auditor installs it: the packed package, outside the repository.
  const packDir = path.join(work, 'pack');
  mkdirSync(packDir);
  await exec('npm', ['pack', '--ignore-scripts', '--pack-destination', packDir], { cwd: root });
  const tarball = readdirSync(packDir).find((f) => f.endsWith('.tgz')) ?? '';
  const installed = path.join(work, 'auditor');
  mkdirSync(installed);
  await exec('tar', ['-xzf', path.join(packDir, tarball), '-C', installed]);
  symlinkSync(path.join(root, 'node_modules'), path.join(installed, 'package', 'node_modules'));
  entry = path.join(installed, 'package', 'scripts', 'provenant.js');

  // The folder an auditor received (an operator's `audit export`, here from the bucket itself).
  const exported = await auditor(
    [
      'audit',
      'export',
      '--out',
      exportDir,
      '--tenant',
      tenant.id,
      '--source',
      `${bucketRoot}/evidence`,
    ],
    { ...process.env },
  );
  expect(exported).toMatchObject({ code: 0 });
}, 240_000);

afterAll(async () => {
  await services.close();
});

describe('every audit command runs with only the location and the public key', () => {
  const key = () => ['--public-key', keyFile];
  it.each([
    ['verify a folder', () => ['audit', 'verify', exportDir, ...key()], bare],
    [
      'verify the bucket root (the evidence/ prefix is found)',
      () => ['audit', 'verify', bucketRoot, '--tenant', tenant.id, ...key()],
      withStorage,
    ],
    [
      'verify gs://bucket/evidence',
      () => ['audit', 'verify', `${bucketRoot}/evidence`, '--tenant', tenant.id, ...key()],
      withStorage,
    ],
    [
      'prove from a folder',
      () => [
        'audit',
        'prove',
        tenant.id,
        evidenceIds[1] ?? '',
        '--source',
        exportDir,
        '--json',
        ...key(),
      ],
      bare,
    ],
    [
      'prove from the bucket',
      () => [
        'audit',
        'prove',
        tenant.id,
        evidenceIds[1] ?? '',
        '--source',
        bucketRoot,
        '--json',
        ...key(),
      ],
      withStorage,
    ],
    [
      'consistency from a folder',
      () => [
        'audit',
        'consistency',
        tenant.id,
        '1',
        '3',
        '--source',
        exportDir,
        '--json',
        ...key(),
      ],
      bare,
    ],
    [
      'consistency from the bucket',
      () => [
        'audit',
        'consistency',
        tenant.id,
        '1',
        '3',
        '--source',
        bucketRoot,
        '--json',
        ...key(),
      ],
      withStorage,
    ],
    [
      'sample from a folder',
      () => [
        'audit',
        'sample',
        '--tenant',
        tenant.id,
        '--from',
        '2000-01-01',
        '--to',
        '2100-01-01',
        '--n',
        '2',
        '--source',
        exportDir,
        '--json',
        ...key(),
      ],
      bare,
    ],
    [
      'sample from the bucket',
      () => [
        'audit',
        'sample',
        '--tenant',
        tenant.id,
        '--from',
        '2000-01-01',
        '--to',
        '2100-01-01',
        '--n',
        '2',
        '--source',
        bucketRoot,
        '--json',
        ...key(),
      ],
      withStorage,
    ],
    [
      'verify-certificate offline',
      () => ['tenant', 'verify-certificate', certificateFile, ...key()],
      bare,
    ],
  ])(
    '%s',
    async (_, args, env) => {
      const result = await auditor(args(), env());
      expect(result.stderr).not.toMatch(/^error/m);
      expect(result.code).toBe(0);
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'verify-receipt and verify-consistency check what prove and consistency wrote',
    async () => {
      const receipt = path.join(work, 'receipt.json');
      const proof = path.join(work, 'proof.json');
      const args = ['--source', exportDir, ...key()];
      expect(
        await auditor([
          'audit',
          'prove',
          tenant.id,
          evidenceIds[0] ?? '',
          '--out',
          receipt,
          ...args,
        ]),
      ).toMatchObject({ code: 0 });
      expect(
        await auditor(['audit', 'consistency', tenant.id, '1', '2', '--out', proof, ...args]),
      ).toMatchObject({ code: 0 });
      const verified = await auditor(['audit', 'verify-receipt', receipt, ...key()]);
      expect(verified.code).toBe(0);
      expect(verified.stdout).not.toContain('FAIL');
      expect(await auditor(['audit', 'verify-consistency', proof, ...key()])).toMatchObject({
        code: 0,
      });
    },
    SPAWNS_BUDGET_MS,
  );
});

describe('verifying nothing is a failure that says what it found', () => {
  it(
    'an empty folder',
    async () => {
      const empty = path.join(work, 'empty');
      mkdirSync(empty);
      const result = await auditor(['audit', 'verify', empty, '--public-key', keyFile]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('nothing to verify');
      expect(result.stderr).toContain('is empty');
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'an unknown tenant, naming the tenants that are there',
    async () => {
      const result = await auditor([
        'audit',
        'verify',
        exportDir,
        '--tenant',
        `nobody-${run}`,
        '--public-key',
        keyFile,
      ]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`no seals of tenant nobody-${run}`);
      expect(result.stderr).toContain(tenant.id);
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'a gs:// prefix with no export',
    async () => {
      const result = await auditor(
        ['audit', 'verify', `${bucketRoot}/no-such-prefix-${run}`, '--public-key', keyFile],
        withStorage(),
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`no-such-prefix-${run} is empty`);
    },
    SPAWNS_BUDGET_MS,
  );
});

describe('a receipt is checked against the trust root given, never the key it carries', () => {
  let real: string;
  let forged: string;
  let fingerprint: string;

  beforeAll(async () => {
    real = path.join(work, 'real-receipt.json');
    expect(
      await auditor([
        'audit',
        'prove',
        tenant.id,
        evidenceIds[2] ?? '',
        '--source',
        exportDir,
        '--out',
        real,
        '--public-key',
        keyFile,
      ]),
    ).toMatchObject({ code: 0 });
    fingerprint = trustedKey(readFileSync(keyFile, 'utf8'))?.fingerprint ?? '';

    // The attack: the real record, a one-leaf tree, a seal signed with the forger's own key,
    // and that key in the receipt. Every check that trusts the receipt's key passes.
    const receipt = JSON.parse(readFileSync(real, 'utf8')) as Receipt;
    const own = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const unsigned: UnsignedSeal = {
      ...receipt.seal,
      seq: 1,
      treeSize: 1,
      rootHash: leafHash(leafData(receipt.record)).toString('hex'),
      batch: { firstIndex: 0, count: 1 },
      prevSealHash: null,
    };
    const { signature: _dropped, ...rest } = { ...receipt.seal, ...unsigned };
    const value = signP256Digest(own.privateKey, sealDigest(rest)).toString('base64');
    const forgery: Receipt = {
      ...receipt,
      leafIndex: 0,
      inclusionProof: [],
      seal: { ...rest, signature: { ...receipt.seal.signature, value } },
      publicKeyPem: own.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    forged = path.join(work, 'forged-receipt.json');
    writeFileSync(forged, JSON.stringify(forgery));
  }, SPAWNS_BUDGET_MS);

  it(
    'a forged receipt (own key, one-leaf tree) is refused under the real key and its fingerprint',
    async () => {
      const byKey = await auditor(['audit', 'verify-receipt', forged, '--public-key', keyFile]);
      expect(byKey.code).toBe(2);
      expect(byKey.stdout).toContain('FAIL seal signature under the trusted key');
      const byFingerprint = await auditor([
        'audit',
        'verify-receipt',
        forged,
        '--key-fingerprint',
        fingerprint,
      ]);
      expect(byFingerprint.code).toBe(2);
      expect(byFingerprint.stdout).toContain('FAIL the receipt carries the trusted public key');
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'without a trust root, a receipt (forged or real) is refused with how to get one',
    async () => {
      for (const file of [forged, real]) {
        const result = await auditor(['audit', 'verify-receipt', file]);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('no trust root given');
        expect(result.stderr).toContain('--public-key');
        expect(result.stdout).toBe('');
      }
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'the real receipt passes with the trust root: the key file, another PEM text of it, or its fingerprint',
    async () => {
      expect(
        await auditor(['audit', 'verify-receipt', real, '--public-key', keyFile]),
      ).toMatchObject({ code: 0 });
      // The same key with CRLF line endings and text around it: compared as SPKI bytes.
      const reformatted = path.join(work, 'platform-crlf.pem');
      writeFileSync(
        reformatted,
        `issued by the provider\r\n${readFileSync(keyFile, 'utf8').replaceAll('\n', '\r\n')}\r\n`,
      );
      expect(
        await auditor(['audit', 'verify-receipt', real, '--public-key', reformatted]),
      ).toMatchObject({ code: 0 });
      expect(
        await auditor(['audit', 'verify-receipt', real, '--key-fingerprint', fingerprint]),
      ).toMatchObject({ code: 0 });
      const printed = await auditor(['audit', 'fingerprint', keyFile]);
      expect(printed.stdout.trim()).toBe(fingerprint);
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'audit verify and consistency refuse without a trust root too',
    async () => {
      for (const args of [
        ['audit', 'verify', exportDir],
        ['audit', 'consistency', tenant.id, '1', '2', '--source', exportDir],
        ['tenant', 'verify-certificate', certificateFile],
      ]) {
        const result = await auditor(args);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('no trust root given');
      }
    },
    SPAWNS_BUDGET_MS,
  );

  it(
    'the key is fetched from KMS by name with only the KMS endpoint besides',
    async () => {
      const result = await auditor(
        [
          'audit',
          'verify',
          exportDir,
          '--kms-key',
          services.config.SEALING_KEY_VERSION,
          '--key-fingerprint',
          fingerprint,
        ],
        { ...bare(), KMS_API_ENDPOINT: process.env.KMS_API_ENDPOINT ?? '' },
      );
      expect(result.stderr).not.toMatch(/^error/m);
      expect(result.code).toBe(0);
    },
    SPAWNS_BUDGET_MS,
  );
});
