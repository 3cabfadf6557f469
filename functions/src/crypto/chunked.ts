/**
 * `PVN2`: chunked streaming AEAD for documents too large to seal in one piece (the design of
 * Tink's streaming AEAD and age's STREAM, reduced to what we need).
 *
 *   header = "PVN2" | chunkSize (u32 BE) | noncePrefix (8 random bytes)         16 bytes
 *   chunk  = AES-256-GCM(plaintext[i*chunkSize .. ]) | tag                       ≤ chunkSize + 16
 *   nonce  = noncePrefix | i (u32 BE)
 *   AAD    = i (u32 BE) | final (1 byte) | header | object AAD
 *
 * Every chunk but the last holds exactly `chunkSize` bytes of plaintext; the last (possibly
 * empty) one is sealed with the final flag. So a dropped, repeated or reordered chunk fails on
 * its index, a truncated stream fails on the flag, a chunk from another object fails on the
 * nonce prefix and the object AAD, and nothing is released before its own tag verified.
 * Memory stays bounded: a stream holds at most one chunk plus one incoming write.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DecryptionError, openBytes } from './envelope';

export const CHUNKED_MAGIC = Buffer.from('PVN2');
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** A header naming a larger chunk is refused before any allocation: memory stays bounded. */
export const MAX_CHUNK_SIZE = 1024 * 1024;
const PREFIX_BYTES = 8;
const HEADER_BYTES = CHUNKED_MAGIC.length + 4 + PREFIX_BYTES;
const TAG_BYTES = 16;
const MAX_CHUNKS = 2 ** 32;

interface Header {
  bytes: Buffer;
  chunkSize: number;
  prefix: Buffer;
}

function newHeader(chunkSize: number): Header {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new RangeError(`chunk size must be 1..${String(MAX_CHUNK_SIZE)} bytes`);
  }
  const prefix = randomBytes(PREFIX_BYTES);
  const bytes = Buffer.alloc(HEADER_BYTES);
  CHUNKED_MAGIC.copy(bytes, 0);
  bytes.writeUInt32BE(chunkSize, CHUNKED_MAGIC.length);
  prefix.copy(bytes, CHUNKED_MAGIC.length + 4);
  return { bytes, chunkSize, prefix };
}

function parseHeader(bytes: Buffer, what: string): Header {
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, 4).equals(CHUNKED_MAGIC)) {
    throw new DecryptionError(what);
  }
  const chunkSize = bytes.readUInt32BE(CHUNKED_MAGIC.length);
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw new DecryptionError(what);
  const header = Buffer.from(bytes.subarray(0, HEADER_BYTES));
  return { bytes: header, chunkSize, prefix: header.subarray(CHUNKED_MAGIC.length + 4) };
}

function chunkNonce(header: Header, index: number): Buffer {
  const nonce = Buffer.alloc(PREFIX_BYTES + 4);
  header.prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, PREFIX_BYTES);
  return nonce;
}

function chunkAad(header: Header, objectAad: Buffer, index: number, final: boolean): Buffer {
  const fixed = Buffer.alloc(5);
  fixed.writeUInt32BE(index, 0);
  fixed.writeUInt8(final ? 1 : 0, 4);
  return Buffer.concat([fixed, header.bytes, objectAad]);
}

function sealChunk(
  key: Buffer,
  header: Header,
  objectAad: Buffer,
  index: number,
  final: boolean,
  plaintext: Buffer,
): Buffer {
  if (index >= MAX_CHUNKS) throw new RangeError('too many chunks for one PVN2 object');
  const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(header, index));
  cipher.setAAD(chunkAad(header, objectAad, index, final));
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function openChunk(
  key: Buffer,
  header: Header,
  objectAad: Buffer,
  index: number,
  final: boolean,
  sealed: Buffer,
  what: string,
): Buffer {
  if (sealed.length < TAG_BYTES || index >= MAX_CHUNKS) throw new DecryptionError(what);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, chunkNonce(header, index));
    decipher.setAAD(chunkAad(header, objectAad, index, final));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const body = sealed.subarray(0, sealed.length - TAG_BYTES);
    // final() throws on a bad tag; nothing of this chunk is released before it returns.
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new DecryptionError(what);
  }
}

/** Incoming buffers, consumed in exact-size pieces without re-concatenating everything. */
class ByteQueue {
  private parts: Buffer[] = [];
  length = 0;

  push(buffer: Buffer): void {
    if (buffer.length === 0) return;
    this.parts.push(buffer);
    this.length += buffer.length;
  }

  take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.parts[0];
      if (!head) throw new RangeError('ByteQueue underflow');
      const used = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, used);
      filled += used;
      if (used === head.length) this.parts.shift();
      else this.parts[0] = head.subarray(used);
    }
    this.length -= n;
    return out;
  }
}

/** A PVN2 transform; `pendingBytes` is what it holds beyond the stream buffers (for tests). */
export interface ChunkedStream extends Transform {
  readonly pendingBytes: number;
}

class EncryptTransform extends Transform implements ChunkedStream {
  private readonly queue = new ByteQueue();
  private readonly header: Header;
  private index = 0;

  constructor(
    private readonly key: Buffer,
    private readonly aad: Buffer,
    chunkSize: number,
  ) {
    super({ writableHighWaterMark: chunkSize, readableHighWaterMark: chunkSize + TAG_BYTES });
    this.header = newHeader(chunkSize);
    this.push(this.header.bytes);
  }

  get pendingBytes(): number {
    return this.queue.length;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    try {
      this.queue.push(chunk);
      // Strictly more than one chunk: the last full chunk may be the final one, known at flush.
      while (this.queue.length > this.header.chunkSize) {
        const plaintext = this.queue.take(this.header.chunkSize);
        this.push(sealChunk(this.key, this.header, this.aad, this.index++, false, plaintext));
      }
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback) {
    try {
      const plaintext = this.queue.take(this.queue.length);
      this.push(sealChunk(this.key, this.header, this.aad, this.index++, true, plaintext));
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }
}

class DecryptTransform extends Transform implements ChunkedStream {
  private readonly queue = new ByteQueue();
  private header: Header | undefined;
  private index = 0;

  constructor(
    private readonly key: Buffer,
    private readonly aad: Buffer,
    private readonly what: string,
  ) {
    super({
      writableHighWaterMark: DEFAULT_CHUNK_SIZE + TAG_BYTES,
      readableHighWaterMark: DEFAULT_CHUNK_SIZE,
    });
  }

  get pendingBytes(): number {
    return this.queue.length;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    try {
      this.queue.push(chunk);
      if (!this.header) {
        if (this.queue.length < HEADER_BYTES) {
          callback();
          return;
        }
        this.header = parseHeader(this.queue.take(HEADER_BYTES), this.what);
      }
      const sealedSize = this.header.chunkSize + TAG_BYTES;
      while (this.queue.length > sealedSize) {
        const sealed = this.queue.take(sealedSize);
        this.push(
          openChunk(this.key, this.header, this.aad, this.index++, false, sealed, this.what),
        );
      }
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback) {
    try {
      const header = this.header ?? parseHeader(this.queue.take(this.queue.length), this.what);
      const rest = this.queue.take(this.queue.length);
      this.push(openChunk(this.key, header, this.aad, this.index++, true, rest, this.what));
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }
}

/** Plaintext in, PVN2 out. Errors (none expected) surface as stream errors. */
export function encryptStream(
  key: Buffer,
  aad: Buffer,
  options: { chunkSize?: number } = {},
): ChunkedStream {
  return new EncryptTransform(key, aad, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
}

/**
 * PVN2 in, plaintext out; each chunk is released only after its tag verified. Any tampering,
 * truncation, reordering or wrong key/AAD ends the stream with a `DecryptionError`.
 */
export function decryptStream(key: Buffer, aad: Buffer, what = 'ciphertext'): ChunkedStream {
  return new DecryptTransform(key, aad, what);
}

/** The whole object at once (same format as `encryptStream`). */
export function sealLarge(
  key: Buffer,
  aad: Buffer,
  plaintext: Buffer,
  options: { chunkSize?: number } = {},
): Buffer {
  const header = newHeader(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const parts: Buffer[] = [header.bytes];
  const size = header.chunkSize;
  const chunks = Math.max(1, Math.ceil(plaintext.length / size));
  for (let i = 0; i < chunks; i++) {
    const piece = plaintext.subarray(i * size, Math.min(plaintext.length, (i + 1) * size));
    parts.push(sealChunk(key, header, aad, i, i === chunks - 1, piece));
  }
  return Buffer.concat(parts);
}

export function openLarge(key: Buffer, aad: Buffer, sealed: Buffer, what = 'ciphertext'): Buffer {
  const header = parseHeader(sealed, what);
  const sealedSize = header.chunkSize + TAG_BYTES;
  const body = sealed.subarray(HEADER_BYTES);
  const chunks = Math.max(1, Math.ceil(body.length / sealedSize));
  const parts: Buffer[] = [];
  for (let i = 0; i < chunks; i++) {
    const piece = body.subarray(i * sealedSize, Math.min(body.length, (i + 1) * sealedSize));
    parts.push(openChunk(key, header, aad, i, i === chunks - 1, piece, what));
  }
  return Buffer.concat(parts);
}

export function isChunkedFormat(sealed: Buffer): boolean {
  return sealed.length >= 4 && sealed.subarray(0, 4).equals(CHUNKED_MAGIC);
}

/** Opens either format by its magic: PVN1 (`openBytes`) or PVN2 (`openLarge`). */
export function openAny(key: Buffer, aad: Buffer, sealed: Buffer, what = 'ciphertext'): Buffer {
  return isChunkedFormat(sealed)
    ? openLarge(key, aad, sealed, what)
    : openBytes(key, aad, sealed, what);
}
