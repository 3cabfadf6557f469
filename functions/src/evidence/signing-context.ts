/**
 * Domain separation for everything the platform key signs. Seals, deletion certificates and
 * checkpoints are all signed by the same Cloud KMS key (EC_SIGN_P256_SHA256 over a SHA-256
 * digest), so the signed bytes start with a context string naming what they are: a signature
 * made for one kind can never verify as another, even if some day two kinds had the same JSON
 * shape. The context is followed by a NUL byte, which never occurs in canonical JSON (RFC 8785
 * escapes control characters), so `context || 0x00 || message` is unambiguous.
 */
import { createHash } from 'node:crypto';

export const SIGNING_CONTEXTS = {
  seal: 'provenant/seal/v1',
  deletionCertificate: 'provenant/deletion-certificate/v1',
  checkpoint: 'provenant/checkpoint/v1',
} as const;

export type SigningContext = keyof typeof SIGNING_CONTEXTS;

/** The exact bytes the signature covers: the context, a NUL, then the message. */
export function contextBytes(context: SigningContext, message: Buffer | string): Buffer {
  return Buffer.concat([
    Buffer.from(SIGNING_CONTEXTS[context], 'utf8'),
    Buffer.from([0]),
    typeof message === 'string' ? Buffer.from(message, 'utf8') : message,
  ]);
}

/** SHA-256 of `contextBytes`: the digest handed to KMS AsymmetricSign. */
export function contextDigest(context: SigningContext, message: Buffer | string): Buffer {
  return createHash('sha256').update(contextBytes(context, message)).digest();
}
