/**
 * Offboarding a tenant: crypto-shredding at the top of the key hierarchy, with a signed deletion
 * certificate as evidence. The order is what makes it safe and resumable:
 *
 *   1. status `offboarded` (every API key and ID token of the tenant stops working at once),
 *   2. every API key revoked (so re-activating the profile alone would not revive them),
 *   3. every KEK version destroyed (scheduled by Cloud KMS; from then on Decrypt fails with
 *      FAILED_PRECONDITION), and this instance's cached wrapping keys evicted,
 *   4. counts of what became unreadable, the certificate signed with the platform sealing key,
 *      and stored as an `offboarding` evidence record (create-only, deterministic id),
 *   5. a final seal. The scheduled sealer passes over non-active tenants, so offboarding seals
 *      the tenant's last records itself, after waiting out SEAL_SAFETY_SECONDS: the certificate
 *      lands in the Locked audit export before the call returns. Evidence is not encrypted under
 *      the tenant's keys, so sealing works after the KEK is gone.
 *
 * Every step is idempotent: a re-run after a crash finishes the job, and once the record exists
 * the same certificate (rebuilt from it) is returned.
 */
import { createPublicKey, verify } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { AppError, notFound } from '../errors';
import { hasKeyVersionManager, kmsStatus, type KeyVersionInfo } from '../crypto/kms';
import type { Actor } from '../evidence/actor';
import { canonicalJson, sha256Hex } from '../evidence/canonical';
import { EvidenceRecordSchema, type EvidenceRecord } from '../evidence/record';
import { contextBytes, contextDigest } from '../evidence/signing-context';
import { eventEvidenceId, recordEventOnce, type EventEvidence } from '../ledger/evidence-writer';
import { sealTenantEvidence } from '../ledger/sealer';
import { log } from '../logging';
import type { Services } from '../services';
import { isValidId } from '../tenancy/firestore';
import { tenantKekId } from './onboarding';
import type { TenantProfile } from '../tenancy/platform';

const Count = z.number().int().nonnegative();

export const DeletionCertificateSchema = z.strictObject({
  version: z.literal(1),
  tenantId: z.string(),
  offboardedAt: z.string(),
  keyVersionsDestroyed: z.array(z.string()),
  counts: z.strictObject({
    dataKeys: Count,
    documents: Count,
    extractions: Count,
    evidenceRecords: Count,
  }),
  signature: z.strictObject({
    keyVersion: z.string(),
    algorithm: z.literal('EC_SIGN_P256_SHA256'),
    value: z.string(),
  }),
});
export type DeletionCertificate = z.infer<typeof DeletionCertificateSchema>;
export type UnsignedCertificate = Omit<DeletionCertificate, 'signature'>;

/**
 * SHA-256 of the deletion-certificate context (evidence/signing-context.ts), then the RFC 8785
 * canonical JSON of the certificate without its signature: the platform key also signs seals,
 * and the context keeps a certificate signature from ever verifying as one, and back.
 */
export function certificateDigest(unsigned: UnsignedCertificate): Buffer {
  const { signature: _signature, ...rest } = unsigned as DeletionCertificate;
  return contextDigest('deletionCertificate', canonicalJson(rest));
}

/** Hex SHA-256 of the whole certificate (signature included), recorded in the evidence. */
export function certificateHash(certificate: DeletionCertificate): string {
  return sha256Hex(canonicalJson(certificate));
}

/**
 * True when the certificate is well-formed and its DER ECDSA P-256 signature verifies under the
 * PEM public key over `certificateDigest`. Never throws.
 */
export function verifyCertificate(certificate: unknown, publicKeyPem: string): boolean {
  const parsed = DeletionCertificateSchema.safeParse(certificate);
  if (!parsed.success) return false;
  try {
    const key = createPublicKey(publicKeyPem);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      return false;
    const { signature, ...unsigned } = parsed.data;
    return verify(
      'sha256',
      contextBytes('deletionCertificate', canonicalJson(unsigned)),
      { key, dsaEncoding: 'der' },
      Buffer.from(signature.value, 'base64'),
    );
  } catch {
    return false;
  }
}

export function offboardingEvidenceId(tenantId: string): string {
  return eventEvidenceId('offboarding', tenantId);
}

export interface OffboardOptions {
  actor?: Actor;
  now?: Date;
  /** `wait` (default): wait out the safety window and seal the final records before returning. */
  finalSeal?: 'wait' | 'skip';
}

export interface OffboardResult {
  certificate: DeletionCertificate;
  evidenceId: string;
  apiKeysRevoked: number;
  /** The seal that covers the offboarding record, when `finalSeal` is `wait`. */
  finalSeal: { seq: number; treeSize: number } | null;
}

const DESTROYED_STATES = new Set(['DESTROY_SCHEDULED', 'DESTROYED']);
const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;

/** Destroys every version of `keyName`; returns every version that is now destroyed. */
async function destroyKek(services: Services, keyName: string): Promise<string[]> {
  const kms = services.keyManager;
  if (!hasKeyVersionManager(kms)) {
    throw new AppError(500, 'kms_lifecycle_unsupported', 'the key manager cannot destroy keys');
  }
  let versions: KeyVersionInfo[];
  try {
    versions = await kms.listCryptoKeyVersions(keyName);
  } catch (err) {
    if (kmsStatus(err) === GRPC_NOT_FOUND) return [];
    throw err;
  }
  const destroyed: string[] = [];
  for (const version of versions) {
    if (DESTROYED_STATES.has(version.state)) {
      destroyed.push(version.name);
      continue;
    }
    try {
      const after = await kms.destroyCryptoKeyVersion(version.name);
      if (DESTROYED_STATES.has(after.state)) destroyed.push(version.name);
    } catch (err) {
      if (kmsStatus(err) === GRPC_PERMISSION_DENIED) {
        throw new AppError(
          409,
          'kek_destroy_denied',
          `the platform may not destroy ${version.name}: destroy it (or grant cloudkms.cryptoKeyVersions.destroy) and offboard again`,
        );
      }
      throw err;
    }
  }
  return destroyed;
}

async function count(services: Services, tenant: TenantProfile) {
  const db = services.platform.tenantDb(tenant);
  const [dataKeys, documents, extractions, evidence] = await Promise.all([
    db.list('dataKeys'),
    db.list('documents'),
    db.list('extractions'),
    db.list('evidence'),
  ]);
  return {
    dataKeys: dataKeys.length,
    documents: documents.length,
    extractions: extractions.length,
    evidenceRecords: evidence.filter((e) => e.id !== offboardingEvidenceId(tenant.id)).length,
  };
}

/** The certificate stored in an offboarding record's details. */
export function certificateFromRecord(record: EvidenceRecord): DeletionCertificate {
  if (record.kind !== 'offboarding')
    throw new TypeError(`${record.id} is not an offboarding record`);
  const d: Record<string, unknown> = record.details;
  return DeletionCertificateSchema.parse({
    version: d.certificateVersion,
    tenantId: record.tenantId,
    offboardedAt: d.offboardedAt,
    keyVersionsDestroyed: d.keyVersionsDestroyed,
    counts: {
      dataKeys: d.dataKeys,
      documents: d.documents,
      extractions: d.extractions,
      evidenceRecords: d.evidenceRecords,
    },
    signature: {
      keyVersion: d.signatureKeyVersion,
      algorithm: d.signatureAlgorithm,
      value: d.signatureValue,
    },
  });
}

async function storedRecord(
  services: Services,
  tenant: TenantProfile,
): Promise<EvidenceRecord | undefined> {
  const data = await services.platform
    .tenantDb(tenant)
    .get('evidence', offboardingEvidenceId(tenant.id));
  return data ? EvidenceRecordSchema.parse(data) : undefined;
}

/**
 * Seals the offboarded tenant's remaining records once `record` is older than the safety
 * window. Retries while another sealer holds the next seq.
 */
async function sealFinalRecords(
  services: Services,
  tenant: TenantProfile,
  record: EvidenceRecord,
): Promise<{ seq: number; treeSize: number } | null> {
  const ready = Date.parse(record.createdAt) + services.config.SEAL_SAFETY_SECONDS * 1000 + 1;
  if (ready > Date.now()) await sleep(ready - Date.now());
  const db = services.platform.tenantDb(tenant);
  for (let attempt = 0; attempt < 20; attempt++) {
    for (;;) {
      const outcome = await sealTenantEvidence(services, tenant, new Date());
      if (outcome.seq === null) break;
    }
    const [latest] = await db.list('seals', { orderBy: [['seal.seq', 'desc']], limit: 1 });
    const seal = latest?.data.seal as
      { seq: number; treeSize: number; coverage: { to: string } } | undefined;
    if (seal && seal.coverage.to >= record.createdAt)
      return { seq: seal.seq, treeSize: seal.treeSize };
    await sleep(500);
  }
  return null;
}

export async function offboardTenant(
  services: Services,
  tenantId: string,
  options: OffboardOptions = {},
): Promise<OffboardResult> {
  const actor = options.actor ?? { kind: 'service' as const, id: 'provenant-cli' };
  if (!isValidId(tenantId)) throw notFound('tenant');
  const tenant = await services.platform.markOffboarded(tenantId, options.now ?? new Date());
  if (!tenant?.offboardedAt) throw notFound('tenant');
  const offboardedAt = tenant.offboardedAt;

  let apiKeysRevoked = 0;
  const revokeAt = new Date();
  for (const { keyId, record } of await services.platform.listApiKeys(tenantId)) {
    if (record.revokedAt !== null && Date.parse(record.revokedAt) <= revokeAt.getTime()) continue;
    if (await services.platform.revokeApiKey(tenantId, keyId, revokeAt)) apiKeysRevoked++;
  }

  let record = await storedRecord(services, tenant);
  if (!record) {
    const kekNames = new Set([tenant.kekName]);
    // After a CMEK registration the platform-made KEK still exists (disabled): destroy it too.
    kekNames.add(`${services.config.KMS_KEY_RING}/cryptoKeys/${tenantKekId(tenantId)}`);
    const keyVersionsDestroyed: string[] = [];
    for (const name of kekNames) keyVersionsDestroyed.push(...(await destroyKek(services, name)));
    services.keys.evict(tenantId);

    const unsigned: UnsignedCertificate = {
      version: 1,
      tenantId,
      offboardedAt,
      keyVersionsDestroyed: keyVersionsDestroyed.sort(),
      counts: await count(services, tenant),
    };
    const keyVersion = services.config.SEALING_KEY_VERSION;
    const signature = await services.keyManager.asymmetricSign(
      keyVersion,
      certificateDigest(unsigned),
    );
    const certificate = DeletionCertificateSchema.parse({
      ...unsigned,
      signature: {
        keyVersion,
        algorithm: 'EC_SIGN_P256_SHA256',
        value: signature.toString('base64'),
      },
    });
    const event: EventEvidence = {
      kind: 'offboarding',
      key: tenantId,
      subject: { type: 'tenant', id: tenantId },
      details: {
        certificateSha256: certificateHash(certificate),
        certificateVersion: certificate.version,
        offboardedAt,
        keyVersionsDestroyed: certificate.keyVersionsDestroyed,
        ...certificate.counts,
        signatureKeyVersion: certificate.signature.keyVersion,
        signatureAlgorithm: certificate.signature.algorithm,
        signatureValue: certificate.signature.value,
      },
      actor,
    };
    // A concurrent offboarding may have stored its certificate first: that one is the certificate.
    await recordEventOnce(services.platform.tenantDb(tenant), event);
    record = await storedRecord(services, tenant);
    if (!record) throw new AppError(500, 'internal', 'the offboarding record was not stored');
    log('tenant_offboarded', {
      tenantId,
      keyVersionsDestroyed: certificate.keyVersionsDestroyed.length,
      apiKeysRevoked,
      dataKeys: certificate.counts.dataKeys,
    });
  }
  const certificate = certificateFromRecord(record);
  const finalSeal =
    options.finalSeal === 'skip' ? null : await sealFinalRecords(services, tenant, record);
  return { certificate, evidenceId: record.id, apiKeysRevoked, finalSeal };
}
