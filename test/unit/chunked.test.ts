import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  decryptStream,
  DEFAULT_CHUNK_SIZE,
  encryptStream,
  openAny,
  openLarge,
  sealLarge,
  type ChunkedStream,
} from '../../functions/src/crypto/chunked';
import { DecryptionError, sealBytes } from '../../functions/src/crypto/envelope';

const KiB = 1024;
const CHUNK = DEFAULT_CHUNK_SIZE;
const SEALED_CHUNK = CHUNK + 16;
const HEADER = 16;
const key = randomBytes(32);
const aad = Buffer.from('provenant/v1/t1/document/ex_1');

/** Feeds `input` in irregular writes, so chunk boundaries never line up with writes. */
async function throughStream(stream: ChunkedStream, input: Buffer): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (
    let at = 0, step = 1;
    at < input.length;
    at += step, step = 1 + ((step * 7 + 13) % 100_003)
  ) {
    pieces.push(input.subarray(at, at + step));
  }
  const parts: Buffer[] = [];
  await pipeline(Readable.from(pieces), stream, async (source: AsyncIterable<Buffer>) => {
    for await (const part of source) parts.push(part);
  });
  return Buffer.concat(parts);
}

async function decryptViaStream(sealed: Buffer, withAad: Buffer = aad): Promise<Buffer> {
  return throughStream(decryptStream(key, withAad, 'document'), sealed);
}

const chunkAt = (sealed: Buffer, i: number) =>
  sealed.subarray(HEADER + i * SEALED_CHUNK, HEADER + (i + 1) * SEALED_CHUNK);

describe('PVN2 refuses what it must refuse (denial paths first)', () => {
  const plaintext = randomBytes(3 * CHUNK + 100); // four chunks, the last one short
  const sealed = sealLarge(key, aad, plaintext);
  const chunks = [0, 1, 2, 3].map((i) => chunkAt(sealed, i));
  const header = sealed.subarray(0, HEADER);

  const at = (i: number) => chunks[i] ?? Buffer.alloc(0);
  const flipped =
    (offset: number, mask = 0x01) =>
    () => {
      const copy = Buffer.from(sealed);
      copy[offset] = (copy[offset] ?? 0) ^ mask;
      return copy;
    };
  const other = () => sealLarge(key, aad, randomBytes(plaintext.length));
  // Three columns in every row: jest would take a parameter beyond the row as a done callback.
  const cases: [string, () => Buffer, Buffer | null][] = [
    ...[0, 1, 2, 3].map((i): [string, () => Buffer, null] => [
      `a flipped byte in chunk ${String(i)}`,
      flipped(HEADER + i * SEALED_CHUNK + 5),
      null,
    ]),
    ['a flipped tag byte of the last chunk', flipped(sealed.length - 1), null],
    ['a flipped byte in the header (chunk size)', flipped(7), null],
    ['a flipped byte in the nonce prefix', flipped(12, 0x80), null],
    ['the last chunk truncated by one byte', () => sealed.subarray(0, sealed.length - 1), null],
    [
      'the last chunk dropped (stream ends on a full chunk)',
      () => sealed.subarray(0, HEADER + 3 * SEALED_CHUNK),
      null,
    ],
    ['a middle chunk dropped', () => Buffer.concat([header, at(0), at(2), at(3)]), null],
    ['two chunks reordered', () => Buffer.concat([header, at(1), at(0), at(2), at(3)]), null],
    ['a chunk repeated', () => Buffer.concat([header, at(0), at(0), at(1), at(2), at(3)]), null],
    ['only the header', () => header, null],
    ['an empty buffer', () => Buffer.alloc(0), null],
    ['a PVN1 ciphertext', () => sealBytes(key, aad, plaintext), null],
    [
      'a chunk swapped in from another object under the same key and AAD',
      () => Buffer.concat([header, at(0), chunkAt(other(), 1), at(2), at(3)]),
      null,
    ],
    [
      "another object's header with this object's chunks",
      () => Buffer.concat([other().subarray(0, HEADER), sealed.subarray(HEADER)]),
      null,
    ],
    [
      'the right ciphertext under another object AAD',
      () => sealed,
      Buffer.from('provenant/v1/t1/document/ex_2'),
    ],
    [
      'the right ciphertext under another tenant AAD',
      () => sealed,
      Buffer.from('provenant/v1/t2/document/ex_1'),
    ],
  ];

  it.each(cases)('%s → DecryptionError (whole buffer)', (_, make, otherAad) => {
    expect(() => openLarge(key, otherAad ?? aad, make(), 'document')).toThrow(DecryptionError);
  });

  it.each(cases)('%s → DecryptionError (stream)', async (_, make, otherAad) => {
    await expect(decryptViaStream(make(), otherAad ?? aad)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('a wrong key → DecryptionError, with the stable code', () => {
    let error: unknown;
    try {
      openLarge(randomBytes(32), aad, sealed, 'document');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DecryptionError);
    expect(error).toMatchObject({
      code: 'decryption_failed',
      message: 'document could not be decrypted',
    });
  });

  it('releases no plaintext of a chunk whose tag fails', async () => {
    const copy = Buffer.from(sealed);
    const at = HEADER + 5; // inside chunk 0
    copy[at] = (copy[at] ?? 0) ^ 0x01;
    const stream = decryptStream(key, aad, 'document');
    const released: Buffer[] = [];
    stream.on('data', (part: Buffer) => released.push(part));
    await expect(pipeline(Readable.from([copy]), stream)).rejects.toBeInstanceOf(DecryptionError);
    expect(Buffer.concat(released).length).toBe(0);
  });
});

describe('PVN2 round trips', () => {
  const sizes = [0, 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 5 * 1024 * KiB];

  it.each(sizes)(
    '%i bytes: sealLarge → openLarge, and the streams agree with both',
    async (size) => {
      const plaintext = randomBytes(size);
      const sealed = sealLarge(key, aad, plaintext);
      const chunks = Math.max(1, Math.ceil(size / CHUNK));
      expect(sealed.length).toBe(HEADER + size + 16 * chunks);
      expect(openLarge(key, aad, sealed).equals(plaintext)).toBe(true);
      expect(openAny(key, aad, sealed).equals(plaintext)).toBe(true);

      const streamed = await throughStream(encryptStream(key, aad), plaintext);
      expect(streamed.length).toBe(sealed.length);
      expect(openLarge(key, aad, streamed).equals(plaintext)).toBe(true);
      expect((await decryptViaStream(sealed)).equals(plaintext)).toBe(true);
      expect((await decryptViaStream(streamed)).equals(plaintext)).toBe(true);
    },
  );

  it('openAny still opens PVN1', () => {
    const plaintext = Buffer.from('small');
    expect(openAny(key, aad, sealBytes(key, aad, plaintext)).toString()).toBe('small');
  });

  it('every object gets a fresh nonce prefix', () => {
    const a = sealLarge(key, aad, Buffer.from('same'));
    const b = sealLarge(key, aad, Buffer.from('same'));
    expect(a.subarray(8, 16).equals(b.subarray(8, 16))).toBe(false);
  });
});

describe('PVN2 streams hold bounded memory', () => {
  it('encrypting and decrypting 50 MiB into a slow reader buffers only a few chunks', async () => {
    const total = 50 * 1024 * KiB;
    let produced = 0;
    const source = new Readable({
      highWaterMark: CHUNK,
      read() {
        if (produced >= total) {
          this.push(null);
          return;
        }
        const size = Math.min(CHUNK, total - produced);
        produced += size;
        this.push(Buffer.alloc(size, produced % 251));
      },
    });
    const encrypt = encryptStream(key, aad);
    const decrypt = decryptStream(key, aad, 'document');
    const held = (s: ChunkedStream) => s.readableLength + s.writableLength + s.pendingBytes;
    let maxEncrypt = 0;
    let maxDecrypt = 0;
    let received = 0;
    let checksum = 0;
    const sink = new Writable({
      highWaterMark: CHUNK,
      write(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        checksum = (checksum + (chunk[0] ?? 0)) % 1_000_003;
        maxEncrypt = Math.max(maxEncrypt, held(encrypt));
        maxDecrypt = Math.max(maxDecrypt, held(decrypt));
        // A slow consumer: upstream must wait for it rather than buffer ahead.
        void yieldToLoop().then(() => {
          done();
        });
      },
    });
    await pipeline(source, encrypt, decrypt, sink);
    expect(received).toBe(total);
    expect(checksum).toBeGreaterThan(0);
    // Sampled on every write: a leak would grow towards 50 MiB; a few chunks is the bound.
    expect(maxEncrypt).toBeLessThanOrEqual(4 * SEALED_CHUNK);
    expect(maxDecrypt).toBeLessThanOrEqual(4 * SEALED_CHUNK);
    expect(maxDecrypt).toBeGreaterThan(0);
  }, 60_000);
});
