/**
 * The trust root an auditor verifies against: the platform's public sealing key, given
 * explicitly (never taken from the artefact being verified). Keys are compared as their
 * SubjectPublicKeyInfo DER bytes, so two PEM files of the same key (other line endings, line
 * widths, surrounding text) are the same key, and a different key with similar text is not.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** A public key the auditor trusts, as SPKI DER with its fingerprint and a PEM to hand on. */
export interface TrustedKey {
  spki: Buffer;
  /** `sha256:` + hex SHA-256 of the SPKI DER: what a provider publishes beside the key. */
  fingerprint: string;
  pem: string;
}

/**
 * What the verifier pins: a key, or only the fingerprint of one (then the key comes from the
 * artefact or KMS and must hash to it).
 */
export type TrustRoot = { key: TrustedKey } | { fingerprint: string };

/** The key object of a PEM, or undefined when it is not a public key. */
function publicKey(pem: string): KeyObject | undefined {
  try {
    const key = createPublicKey(pem);
    return key.type === 'public' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The SPKI DER bytes of a PEM public key, or undefined when it is not one. */
export function spkiDer(pem: string): Buffer | undefined {
  return publicKey(pem)?.export({ type: 'spki', format: 'der' });
}

/** `sha256:<hex>` of the key's SPKI DER (the form `openssl pkey -pubin -outform DER | sha256sum` gives). */
export function keyFingerprint(spki: Buffer): string {
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** A PEM public key as a trusted key, or undefined when the text is not a public key. */
export function trustedKey(pem: string): TrustedKey | undefined {
  const key = publicKey(pem);
  if (key === undefined) return undefined;
  const spki = key.export({ type: 'spki', format: 'der' });
  return {
    spki,
    fingerprint: keyFingerprint(spki),
    pem: key.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * `sha256:<64 hex>`, bare hex, or openssl's colon-separated form, normalised to
 * `sha256:<lowercase hex>`; undefined if it is none of them.
 */
export function parseFingerprint(text: string): string | undefined {
  const hex = text
    .trim()
    .replace(/^sha256:/i, '')
    .replaceAll(':', '');
  return /^[0-9a-fA-F]{64}$/.test(hex) ? `sha256:${hex.toLowerCase()}` : undefined;
}

/** True when `pem` is the trusted key: equal SPKI DER bytes, or the pinned fingerprint. */
export function matchesTrustRoot(root: TrustRoot, pem: string): boolean {
  const spki = spkiDer(pem);
  if (spki === undefined) return false;
  return 'key' in root ? spki.equals(root.key.spki) : keyFingerprint(spki) === root.fingerprint;
}
