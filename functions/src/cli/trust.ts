/**
 * What an auditor's commands need, and nothing more: where the sealed export is (a folder or
 * `gs://bucket[/prefix]`, read with the auditor's own read-only credentials) and the trust root
 * (the platform's public sealing key, given explicitly). No project configuration, no pepper,
 * no provider keys: `createServices` is never called here.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { CloudKmsKeyManager, createKmsClient } from '../crypto/kms';
import { directorySource, type ExportSource } from '../evidence/export-source';
import {
  parseFingerprint,
  trustedKey,
  type TrustedKey,
  type TrustRoot,
} from '../evidence/trust-root';
import { bucketSource } from '../storage/bucket-source';
import { ObjectStore } from '../storage/object-store';
import { CliError } from './common';

/**
 * The only environment an audit command reads. Endpoints point the official clients at the
 * local emulators; in production they are unset and the clients use Google's endpoints with
 * the auditor's Application Default Credentials.
 */
const AuditorEnvSchema = z.object({
  STORAGE_API_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  KMS_API_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  GOOGLE_CLOUD_PROJECT: z.string().min(1).optional(),
  /** The default location (an operator's machine); an auditor names the location instead. */
  AUDIT_BUCKET: z.string().min(1).optional(),
  AUDIT_EXPORT_PREFIX: z.string().default('evidence'),
});
type AuditorEnv = z.infer<typeof AuditorEnvSchema>;

export function auditorEnv(env: NodeJS.ProcessEnv = process.env): AuditorEnv {
  const parsed = AuditorEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new CliError(
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

/** Where the export was opened, for messages. */
export interface AuditLocation {
  source: ExportSource;
  label: string;
}

/**
 * Opens `location`: a folder, `gs://bucket/prefix`, or `gs://bucket` (the bucket root: the
 * export lives under the `evidence/` prefix there, AUDIT_EXPORT_PREFIX in the deployment, so
 * the root is the documented location and the prefix is found). Without a location, the
 * configured audit bucket (an operator's environment), else a CliError saying what to pass.
 */
export function openAuditLocation(location: string | undefined, env = auditorEnv()): AuditLocation {
  const where =
    location ??
    (env.AUDIT_BUCKET === undefined
      ? undefined
      : `gs://${env.AUDIT_BUCKET}/${env.AUDIT_EXPORT_PREFIX}`);
  if (where === undefined) {
    throw new CliError(
      'no location: pass the exported folder, or gs://BUCKET (the audit bucket; read access is enough)',
    );
  }
  const gs = /^gs:\/\/([^/]+)\/?(.*)$/.exec(where);
  if (gs?.[1]) {
    const bucket = gs[1];
    const prefix = (gs[2] ?? '').replace(/^\/+|\/+$/g, '') || env.AUDIT_EXPORT_PREFIX;
    const objects = ObjectStore.create(env.GOOGLE_CLOUD_PROJECT ?? '', env.STORAGE_API_ENDPOINT);
    return { source: bucketSource(objects, bucket, prefix), label: `gs://${bucket}/${prefix}` };
  }
  if (!existsSync(where)) throw new CliError(`no such folder: ${where}`);
  if (!statSync(where).isDirectory()) throw new CliError(`${where} is not a folder`);
  return { source: directorySource(where), label: where };
}

/** What a location holds, in one phrase: for "nothing to verify" messages. */
export async function describeLocation(location: AuditLocation): Promise<string> {
  const files = await location.source.list();
  if (files.length === 0) return `${location.label} is empty (no objects under it)`;
  const seals = files.filter((f) => f.endsWith('.seal.json'));
  const tenants = [...new Set(seals.map((f) => f.slice(0, f.indexOf('/'))))].sort();
  if (tenants.length === 0)
    return `${location.label} holds ${String(files.length)} files, none of them a seal (first: ${files[0] ?? ''})`;
  const shown = tenants.slice(0, 5).join(', ');
  return `${location.label} holds seals of ${String(tenants.length)} tenant(s): ${shown}${tenants.length > 5 ? ', ...' : ''}`;
}

/** The options every verifying command takes. */
export interface TrustOptions {
  publicKey?: string;
  keyFingerprint?: string;
  kmsKey?: string;
}

export function addTrustOptions(command: Command): Command {
  return command
    .option('--public-key <file>', 'trust root: the platform public sealing key (PEM)')
    .option(
      '--key-fingerprint <sha256>',
      'trust root: SHA-256 of the key (SPKI DER), as published; checks a key given or carried',
    )
    .option(
      '--kms-key <name>',
      'trust root: fetch the public key of this Cloud KMS key version (needs only cloudkms.publicKeyViewer)',
    );
}

/** The refusal when no trust root is given, saying where to get one. */
export const NO_TRUST_ROOT =
  'no trust root given: verification needs the platform public sealing key from a source you trust, not from the evidence itself. ' +
  'Pass --public-key FILE (the PEM your provider publishes; with KMS read access: ' +
  '`gcloud kms keys versions get-public-key VERSION --key evidence-sealing --keyring provenant --location LOCATION --output-file platform.pem`), ' +
  '--key-fingerprint SHA256 (the fingerprint your provider publishes; `npx provenant audit fingerprint platform.pem` prints it) ' +
  'or --kms-key projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V. See docs/audit.md.';

function readKeyFile(file: string): TrustedKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the public key ${file}: ${(err as Error).message}`);
  }
  const key = trustedKey(text);
  if (key === undefined)
    throw new CliError(`${file} is not a PEM public key (-----BEGIN PUBLIC KEY-----)`);
  return key;
}

async function fetchKmsKey(name: string, env: AuditorEnv): Promise<TrustedKey> {
  if (
    !/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/\d+$/.test(
      name,
    )
  )
    throw new CliError(
      `invalid --kms-key ${JSON.stringify(name)}: projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V`,
    );
  const client = createKmsClient(env.KMS_API_ENDPOINT);
  try {
    const key = trustedKey(await new CloudKmsKeyManager(client).getPublicKeyPem(name));
    if (key === undefined) throw new CliError(`Cloud KMS returned no public key for ${name}`);
    return key;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot fetch the public key of ${name}: ${(err as Error).message}`);
  } finally {
    await client.close();
  }
}

/**
 * The trust root from the options: a key (file or KMS), checked against the fingerprint when
 * one is given too, or the fingerprint alone when `fingerprintAlone` (a receipt carries its
 * key). Refuses with NO_TRUST_ROOT when nothing is given.
 */
export async function resolveTrustRoot(
  options: TrustOptions,
  fingerprintAlone: boolean,
  env = auditorEnv(),
): Promise<TrustRoot> {
  const fingerprint =
    options.keyFingerprint === undefined ? undefined : parseFingerprint(options.keyFingerprint);
  if (options.keyFingerprint !== undefined && fingerprint === undefined)
    throw new CliError(
      `invalid --key-fingerprint ${JSON.stringify(options.keyFingerprint)}: sha256:<64 hex digits>`,
    );
  if (options.publicKey !== undefined && options.kmsKey !== undefined)
    throw new CliError('give one key: --public-key or --kms-key, not both');
  const key =
    options.publicKey !== undefined
      ? readKeyFile(options.publicKey)
      : options.kmsKey !== undefined
        ? await fetchKmsKey(options.kmsKey, env)
        : undefined;
  if (key !== undefined) {
    if (fingerprint !== undefined && key.fingerprint !== fingerprint)
      throw new CliError(
        `the key's fingerprint is ${key.fingerprint}, not the pinned ${fingerprint}: refusing to trust it`,
      );
    return { key };
  }
  if (fingerprint !== undefined) {
    if (fingerprintAlone) return { fingerprint };
    throw new CliError(
      `a fingerprint pins a key but is not one: pass the key too (--public-key FILE or --kms-key NAME), it is checked against ${fingerprint}`,
    );
  }
  throw new CliError(NO_TRUST_ROOT);
}

/** A trust root that is a key (every command but verify-receipt needs the key itself). */
export async function resolveTrustedKey(
  options: TrustOptions,
  env = auditorEnv(),
): Promise<TrustedKey> {
  const root = await resolveTrustRoot(options, false, env);
  if (!('key' in root)) throw new CliError(NO_TRUST_ROOT);
  return root.key;
}
