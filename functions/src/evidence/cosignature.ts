/**
 * Witness cosignatures over checkpoints, C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature),
 * Ed25519 type:
 * - key ID = SHA-256(<name> || "\n" || 0x04 || 32-byte Ed25519 public key)[:4];
 * - the signature line carries `timestamped_signature`: a big-endian u64 POSIX timestamp, then
 *   the 64-byte Ed25519 signature;
 * - the signed message is `cosignature/v1\n`, `time <timestamp>\n`, then the whole checkpoint
 *   note text (signature lines excluded).
 * A witness key is given as a vkey: `<name>+<hex key ID>+base64(0x04 || public key)`.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { parseSignatureLine, type NoteSignature } from './note';

export const COSIGNATURE_TYPE = 0x04;
const ED25519_KEY_BYTES = 32;
const ED25519_SIG_BYTES = 64;
const MAX_TIMESTAMP = 2n ** 63n - 1n;

export interface WitnessKey {
  name: string;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Buffer;
  keyId: Buffer;
}

/** The tlog-cosignature Ed25519 key ID. */
export function cosignatureKeyId(name: string, publicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, COSIGNATURE_TYPE]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

/** The witness's vkey string. */
export function witnessVerifierKey(key: WitnessKey): string {
  return `${key.name}+${key.keyId.toString('hex')}+${Buffer.concat([
    Buffer.from([COSIGNATURE_TYPE]),
    key.publicKey,
  ]).toString('base64')}`;
}

/**
 * Parses a cosigner vkey. Undefined when it is not name, key ID and key separated by `+`, the type byte is
 * not 0x04, the key is not 32 bytes, or the key ID does not match name and key.
 */
export function parseWitnessVerifierKey(vkey: string): WitnessKey | undefined {
  // Only the first two `+` separate: the base64 key material may itself contain `+`.
  const text = vkey.trim();
  const first = text.indexOf('+');
  const second = first === -1 ? -1 : text.indexOf('+', first + 1);
  if (second === -1) return undefined;
  const name = text.slice(0, first);
  const hexId = text.slice(first + 1, second);
  const b64 = text.slice(second + 1);
  if (!/^[^\s\u2014]+$/u.test(name) || !/^[0-9a-f]{8}$/.test(hexId)) return undefined;
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.toString('base64') !== b64 || bytes.length !== 1 + ED25519_KEY_BYTES) return undefined;
  if (bytes[0] !== COSIGNATURE_TYPE) return undefined;
  const publicKey = bytes.subarray(1);
  const keyId = cosignatureKeyId(name, publicKey);
  if (keyId.toString('hex') !== hexId) return undefined;
  return { name, publicKey, keyId };
}

/** The message a cosigner signs for a checkpoint note text at `timestamp`. */
export function cosignedMessage(checkpointText: string, timestamp: bigint): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${timestamp.toString()}\n${checkpointText}`, 'utf8');
}

function ed25519Key(publicKey: Buffer): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') },
    format: 'jwk',
  });
}

export type CosignatureCheck =
  | { ok: true; timestamp: bigint; signature: NoteSignature }
  | { ok: false; reason: 'malformed' | 'unknown_key' | 'bad_signature' };

/**
 * Checks one cosignature line over a checkpoint note text with a witness key: the line must
 * name the witness with its key ID, carry a timestamp within 2^63 - 1, and its Ed25519
 * signature must verify over the cosigned message.
 */
export function checkCosignature(
  checkpointText: string,
  line: string,
  witness: WitnessKey,
): CosignatureCheck {
  const sig = parseSignatureLine(line);
  if (sig === undefined || sig.signature.length !== 8 + ED25519_SIG_BYTES) {
    return { ok: false, reason: 'malformed' };
  }
  if (sig.name !== witness.name || !sig.keyId.equals(witness.keyId)) {
    return { ok: false, reason: 'unknown_key' };
  }
  const timestamp = sig.signature.readBigUInt64BE(0);
  if (timestamp > MAX_TIMESTAMP) return { ok: false, reason: 'malformed' };
  let valid: boolean;
  try {
    valid = verify(
      null,
      cosignedMessage(checkpointText, timestamp),
      ed25519Key(witness.publicKey),
      sig.signature.subarray(8),
    );
  } catch {
    valid = false;
  }
  return valid ? { ok: true, timestamp, signature: sig } : { ok: false, reason: 'bad_signature' };
}

/** What the log last accepted from a witness: the checkpoint it cosigned. */
export interface WitnessHead {
  seq: number;
  size: number;
  rootHash: Buffer;
}

export type CosignatureDecision =
  | { ok: true; timestamp: bigint }
  | {
      ok: false;
      code:
        | 'unknown_witness'
        | 'invalid_cosignature'
        | 'cosignature_not_newer'
        | 'witness_inconsistent';
      message: string;
    };

/** How far in the future a cosignature timestamp may be (clock skew between us and a witness). */
export const MAX_FUTURE_SKEW_SECONDS = 300;

/**
 * Whether the log accepts a witness's cosignature over its checkpoint `seq` (note text `text`,
 * tree `size` with root `rootHash`):
 * - the line names the witness with its key ID and the Ed25519 signature verifies over our
 *   checkpoint text (a cosignature over any other text, a fork, does not);
 * - the timestamp is not more than a few minutes ahead;
 * - the checkpoint is newer than the last one this witness cosigned (a replay or an older one
 *   would contradict "the largest tree the cosigner has observed");
 * - `proof` proves the witness's last cosigned tree is a prefix of this one.
 */
export function decideCosignature(input: {
  seq: number;
  text: string;
  size: number;
  rootHash: Buffer;
  line: string;
  witness: WitnessKey;
  last: WitnessHead | null;
  /** Consistency proof from `last.size` to `size`; ignored when `last` is null. */
  proof: readonly Buffer[];
  verifyConsistency: (
    oldSize: number,
    newSize: number,
    oldRoot: Buffer,
    newRoot: Buffer,
    proof: readonly Buffer[],
  ) => boolean;
  now: Date;
}): CosignatureDecision {
  const check = checkCosignature(input.text, input.line, input.witness);
  if (!check.ok) {
    return check.reason === 'unknown_key'
      ? {
          ok: false,
          code: 'unknown_witness',
          message: 'the cosignature is not by this witness key',
        }
      : {
          ok: false,
          code: 'invalid_cosignature',
          message:
            check.reason === 'malformed'
              ? 'the cosignature line is malformed'
              : 'the cosignature does not verify over this checkpoint',
        };
  }
  const nowSeconds = BigInt(Math.floor(input.now.getTime() / 1000));
  if (check.timestamp > nowSeconds + BigInt(MAX_FUTURE_SKEW_SECONDS)) {
    return {
      ok: false,
      code: 'invalid_cosignature',
      message: 'the cosignature is from the future',
    };
  }
  const { last } = input;
  if (last !== null) {
    if (input.seq <= last.seq) {
      return {
        ok: false,
        code: 'cosignature_not_newer',
        message: `this witness already cosigned checkpoint ${String(last.seq)}; only a later one is accepted`,
      };
    }
    if (
      !input.verifyConsistency(last.size, input.size, last.rootHash, input.rootHash, input.proof)
    ) {
      return {
        ok: false,
        code: 'witness_inconsistent',
        message: `checkpoint ${String(input.seq)} is not consistent with checkpoint ${String(last.seq)} the witness cosigned`,
      };
    }
  }
  return { ok: true, timestamp: check.timestamp };
}
