/**
 * Checkpoints as C2SP signed notes (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint).
 *
 * A checkpoint's note text is three lines: the log's origin, the tree size in decimal and the
 * base64 RFC 6962 root hash, each ending in a newline. The signed note appends a blank line and
 * one line per signature: `— <key name> base64(4-byte key ID || signature)`.
 *
 * The log signs with the platform's Cloud KMS sealing key, an ECDSA P-256 key. signed-note
 * assigns ECDSA the signature type `0x02` ("ECDSA signatures as implemented by
 * github.com/transparency-dev/witness"): an ASN.1 DER ECDSA signature over SHA-256 of the note
 * text, and — unlike the spec's recommended key ID, which hashes the key name and type byte too —
 * a key ID that is the first four bytes of SHA-256 of the DER SubjectPublicKeyInfo alone
 * (transparency-dev/witness `internal/note/note_verifier.go`, `keyHashECDSA`). Its verifier key
 * is `<name>+<hex key ID>+base64(0x02 || SPKI DER)`. The spec lets any note signature type sign a
 * checkpoint; tlog-tiles only requires an Ed25519 log signature when a log joins the public
 * witness network, which a tenant's private log does not, so customer witnesses (Ed25519
 * cosignatures, `evidence/cosignature.ts`) verify this ECDSA type with the vkey we publish.
 *
 * A checkpoint can never be replayed as a seal or the reverse: the seal signature covers
 * canonical JSON (it starts with `{`), a checkpoint signature covers a note text whose first
 * line is the origin, which never starts with `{`.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

/** The signed-note signature type byte for ECDSA (signed-note "Signature types"). */
export const ECDSA_SIGNATURE_TYPE = 0x02;

/** Key names (and origins) must be non-empty, without spaces or `+`. */
const KEY_NAME = /^[^\s+\u2014]+$/u;

/** The origin of a tenant's log: the first line of its checkpoints and the log key's name. */
export function logOrigin(tenantId: string): string {
  return `provenant/evidence/${tenantId}`;
}

export interface CheckpointBody {
  origin: string;
  size: number;
  rootHash: Buffer;
}

/** The checkpoint note text: origin, size, base64 root, each newline-terminated. */
export function checkpointText(body: CheckpointBody): string {
  if (!KEY_NAME.test(body.origin)) throw new RangeError(`invalid origin ${body.origin}`);
  if (!Number.isSafeInteger(body.size) || body.size < 0)
    throw new RangeError(`invalid tree size ${String(body.size)}`);
  if (body.rootHash.length !== 32) throw new RangeError('root hash must be 32 bytes');
  return `${body.origin}\n${String(body.size)}\n${body.rootHash.toString('base64')}\n`;
}

/** Parses a checkpoint note text; undefined unless it is exactly origin, size and root. */
export function parseCheckpointText(text: string): CheckpointBody | undefined {
  const lines = text.split('\n');
  // Three lines and the empty string after the final newline; extension lines are not used.
  if (lines.length !== 4 || lines[3] !== '') return undefined;
  const [origin = '', size = '', root = ''] = lines;
  if (!KEY_NAME.test(origin) || !/^(0|[1-9][0-9]*)$/.test(size)) return undefined;
  const rootHash = Buffer.from(root, 'base64');
  if (rootHash.length !== 32 || rootHash.toString('base64') !== root) return undefined;
  const n = Number(size);
  if (!Number.isSafeInteger(n)) return undefined;
  return { origin, size: n, rootHash };
}

export interface NoteSignature {
  name: string;
  keyId: Buffer;
  /** The signature bytes after the key ID. */
  signature: Buffer;
}

/** One signature line: `— <name> base64(keyId || signature)` and a newline. */
export function signatureLine(sig: NoteSignature): string {
  if (!KEY_NAME.test(sig.name)) throw new RangeError(`invalid key name ${sig.name}`);
  if (sig.keyId.length !== 4) throw new RangeError('key ID must be 4 bytes');
  return `\u2014 ${sig.name} ${Buffer.concat([sig.keyId, sig.signature]).toString('base64')}\n`;
}

/** Parses one signature line (with or without its newline); undefined when malformed. */
export function parseSignatureLine(line: string): NoteSignature | undefined {
  const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})\n?$/u.exec(line);
  if (!m?.[1] || !m[2] || !KEY_NAME.test(m[1])) return undefined;
  const bytes = Buffer.from(m[2], 'base64');
  if (bytes.length < 5 || bytes.toString('base64') !== m[2]) return undefined;
  return { name: m[1], keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) };
}

/** A signed note: the text, a blank line, then the signature lines. */
export function signedNote(text: string, signatures: readonly NoteSignature[]): string {
  if (!text.endsWith('\n')) throw new RangeError('note text must end with a newline');
  return `${text}\n${signatures.map(signatureLine).join('')}`;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return true;
  }
  return false;
}

/** Splits a signed note at its last blank line; undefined when malformed. */
export function parseSignedNote(
  note: string,
): { text: string; signatures: NoteSignature[] } | undefined {
  // Only newline among the control characters (signed-note "Format").
  if (hasControlCharacter(note) || !note.endsWith('\n')) return undefined;
  const split = note.lastIndexOf('\n\n');
  if (split === -1) return undefined;
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2).split('\n');
  lines.pop(); // after the final newline
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    const sig = parseSignatureLine(line);
    if (sig === undefined) return undefined;
    signatures.push(sig);
  }
  if (signatures.length === 0) return undefined;
  return { text, signatures };
}

/** The DER SubjectPublicKeyInfo of a P-256 public key in PEM; throws on any other key. */
export function p256Spki(publicKeyPem: string): Buffer {
  const key = createPublicKey(publicKeyPem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new RangeError('the log key must be an ECDSA P-256 key');
  }
  return key.export({ type: 'spki', format: 'der' });
}

/** signed-note type 0x02 key ID: SHA-256(SPKI DER)[:4] (see the module comment). */
export function ecdsaKeyId(spkiDer: Buffer): Buffer {
  return createHash('sha256').update(spkiDer).digest().subarray(0, 4);
}

/** The verifier key (vkey) of the log: `<name>+<hex key ID>+base64(0x02 || SPKI DER)`. */
export function ecdsaVerifierKey(name: string, spkiDer: Buffer): string {
  return `${name}+${ecdsaKeyId(spkiDer).toString('hex')}+${Buffer.concat([
    Buffer.from([ECDSA_SIGNATURE_TYPE]),
    spkiDer,
  ]).toString('base64')}`;
}

/** SHA-256 of the note text: what Cloud KMS signs for an EC_SIGN_P256_SHA256 key. */
export function noteDigest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Signs a checkpoint with the log key: `sign(digest)` returns a DER ECDSA signature over the
 * SHA-256 digest (Cloud KMS AsymmetricSign). Returns the signed note.
 */
export async function signCheckpoint(
  body: CheckpointBody,
  publicKeyPem: string,
  sign: (sha256Digest: Buffer) => Promise<Buffer>,
): Promise<string> {
  const text = checkpointText(body);
  const signature = await sign(noteDigest(text));
  return signedNote(text, [
    { name: body.origin, keyId: ecdsaKeyId(p256Spki(publicKeyPem)), signature },
  ]);
}

/**
 * Opens a signed checkpoint with the log's public key: the parsed body when a signature line
 * by the log key (name = origin, key ID of the key) verifies, undefined otherwise. Signatures
 * by other keys (witnesses) are ignored, as signed-note requires.
 */
export function openCheckpoint(note: string, publicKeyPem: string): CheckpointBody | undefined {
  const parsed = parseSignedNote(note);
  if (parsed === undefined) return undefined;
  const body = parseCheckpointText(parsed.text);
  if (body === undefined) return undefined;
  let key: KeyObject;
  let keyId: Buffer;
  try {
    const spki = p256Spki(publicKeyPem);
    keyId = ecdsaKeyId(spki);
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
  const mine = parsed.signatures.filter((s) => s.name === body.origin && s.keyId.equals(keyId));
  if (mine.length === 0) return undefined;
  const ok = mine.every((s) => {
    try {
      return verify(
        'sha256',
        Buffer.from(parsed.text, 'utf8'),
        { key, dsaEncoding: 'der' },
        s.signature,
      );
    } catch {
      return false;
    }
  });
  return ok ? body : undefined;
}
