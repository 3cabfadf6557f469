/**
 * Checkpoints as signed notes and witness cosignatures, against the C2SP specs' published
 * examples and against keys generated here.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import {
  checkCosignature,
  cosignatureKeyId,
  cosignedMessage,
  decideCosignature,
  MAX_FUTURE_SKEW_SECONDS,
  parseWitnessVerifierKey,
  witnessVerifierKey,
  type WitnessHead,
} from '../../functions/src/evidence/cosignature';
import {
  consistencyProof,
  leafHash,
  rootHash,
  verifyConsistency,
} from '../../functions/src/evidence/merkle';
import {
  checkpointText,
  ecdsaKeyId,
  ecdsaVerifierKey,
  openCheckpoint,
  p256Spki,
  parseCheckpointText,
  parseSignedNote,
  signatureLine,
  signCheckpoint,
} from '../../functions/src/evidence/note';
import { signP256Digest } from '../../scripts/local/emulators/kms/ecdsa';

describe('signed notes (c2sp.org/signed-note)', () => {
  // The spec's example: vkey example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k
  const example =
    'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

  it("parses the spec's example and its key ID is SHA-256(name || 0x0A || type || key)[:4]", () => {
    const note = parseSignedNote(example);
    expect(note?.text).toBe('This is an example message.\n');
    expect(note?.signatures[0]?.name).toBe('example.com/foo');
    expect(note?.signatures[0]?.keyId.toString('hex')).toBe('530d903a');
    const vkey = Buffer.from('AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k', 'base64');
    const id = createHash('sha256')
      .update(Buffer.concat([Buffer.from('example.com/foo\n'), vkey]))
      .digest()
      .subarray(0, 4);
    expect(id.toString('hex')).toBe('530d903a');
  });

  it('refuses notes with control characters, no blank line or a malformed signature line', () => {
    expect(parseSignedNote('a\tb\n\n\u2014 k AAAAAAA=\n')).toBeUndefined();
    expect(parseSignedNote('text only\n')).toBeUndefined();
    expect(parseSignedNote('text\n\n- k AAAAAAA=\n')).toBeUndefined();
  });
});

describe('checkpoints (c2sp.org/tlog-checkpoint) signed with the ECDSA P-256 log key', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const body = { origin: 'provenant/evidence/t1', size: 20_852_163, rootHash: Buffer.alloc(32, 7) };

  it("has the spec's three lines and parses back; extension lines and leading zeros are refused", () => {
    const text = checkpointText(body);
    expect(text).toBe(
      `provenant/evidence/t1\n20852163\n${Buffer.alloc(32, 7).toString('base64')}\n`,
    );
    expect(parseCheckpointText(text)).toEqual(body);
    expect(parseCheckpointText(`${text}ext\n`)).toBeUndefined();
    expect(parseCheckpointText(text.replace('20852163', '020852163'))).toBeUndefined();
  });

  it('signs as type 0x02 (key ID = SHA-256(SPKI DER)[:4]) over the note text; KMS digest signatures verify', async () => {
    const spki = p256Spki(pem);
    expect(ecdsaKeyId(spki).equals(createHash('sha256').update(spki).digest().subarray(0, 4))).toBe(
      true,
    );
    expect(ecdsaVerifierKey(body.origin, spki)).toMatch(
      new RegExp(`^provenant/evidence/t1\\+${ecdsaKeyId(spki).toString('hex')}\\+Aj`),
    );
    const note = await signCheckpoint(body, pem, (digest) =>
      Promise.resolve(signP256Digest(privateKey, digest)),
    );
    expect(openCheckpoint(note, pem)).toEqual(body);
    // A node-signed note (message hashed by OpenSSL) is the same signature scheme.
    const text = checkpointText(body);
    const nodeSigned = `${text}\n${signatureLine({ name: body.origin, keyId: ecdsaKeyId(spki), signature: sign('sha256', Buffer.from(text), privateKey) })}`;
    expect(openCheckpoint(nodeSigned, pem)).toEqual(body);
  });

  it('refuses a checkpoint whose text was changed, or signed by another key', async () => {
    const note = await signCheckpoint(body, pem, (d) =>
      Promise.resolve(signP256Digest(privateKey, d)),
    );
    expect(openCheckpoint(note.replace('20852163', '20852164'), pem)).toBeUndefined();
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const otherPem = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(openCheckpoint(note, otherPem)).toBeUndefined();
  });
});

describe('witness cosignatures (c2sp.org/tlog-cosignature, Ed25519)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const name = 'witness.example.com/w1';
  const keyId = cosignatureKeyId(name, raw);
  const text = checkpointText({
    origin: 'provenant/evidence/t1',
    size: 5,
    rootHash: Buffer.alloc(32, 1),
  });

  function cosign(t: string, timestamp: bigint, key = privateKey): string {
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(timestamp);
    const sig = sign(null, cosignedMessage(t, timestamp), key);
    return signatureLine({ name, keyId, signature: Buffer.concat([ts, sig]) });
  }

  it('key ID hashes name, newline, 0x04 and the key; the vkey round-trips', () => {
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([4]), raw]))
      .digest()
      .subarray(0, 4);
    expect(keyId.equals(expected)).toBe(true);
    const vkey = witnessVerifierKey({ name, publicKey: raw, keyId });
    expect(parseWitnessVerifierKey(vkey)).toEqual({ name, publicKey: raw, keyId });
    expect(
      parseWitnessVerifierKey(vkey.replace(keyId.toString('hex'), '00000000')),
    ).toBeUndefined();
  });

  it("parses a vkey whose base64 key material holds '+' (only the first two '+' separate)", () => {
    const k = Buffer.alloc(32, 0xfb);
    const vkey = witnessVerifierKey({ name, publicKey: k, keyId: cosignatureKeyId(name, k) });
    expect(vkey.split('+').length).toBeGreaterThan(3);
    expect(parseWitnessVerifierKey(vkey)?.publicKey.equals(k)).toBe(true);
  });

  it('signs "cosignature/v1", the time line and the checkpoint text', () => {
    expect(cosignedMessage(text, 1679315147n).toString()).toBe(
      `cosignature/v1\ntime 1679315147\n${text}`,
    );
  });

  it('accepts a good cosignature and refuses another text, another key or garbage', () => {
    const witness = { name, publicKey: raw, keyId };
    const line = cosign(text, 1_700_000_000n);
    const ok = checkCosignature(text, line, witness);
    expect(ok.ok && ok.timestamp).toBe(1_700_000_000n);
    const otherText = text.replace('\n5\n', '\n6\n');
    expect(checkCosignature(otherText, line, witness)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    const stranger = generateKeyPairSync('ed25519').privateKey;
    expect(checkCosignature(text, cosign(text, 1n, stranger), witness)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    const otherName = { ...witness, name: 'other/w' };
    expect(checkCosignature(text, line, otherName)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(checkCosignature(text, '\u2014 w AAAA\n', witness)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });
});

describe('the log decides on a witness cosignature (accept, and every refusal)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const name = 'witness.example.com/w1';
  const witness = { name, publicKey: raw, keyId: cosignatureKeyId(name, raw) };
  const leaves = Array.from({ length: 9 }, (_, i) => leafHash(Buffer.from(`leaf ${String(i)}`)));
  const head = (size: number) => ({
    origin: 'provenant/evidence/t1',
    size,
    rootHash: rootHash(leaves.slice(0, size)),
  });
  const now = new Date('2026-11-30T00:00:00Z');
  const ts = BigInt(now.getTime() / 1000);

  function cosign(text: string, key = privateKey, timestamp = ts): string {
    const t = Buffer.alloc(8);
    t.writeBigUInt64BE(timestamp);
    const sig = sign(null, cosignedMessage(text, timestamp), key);
    return signatureLine({ name, keyId: witness.keyId, signature: Buffer.concat([t, sig]) });
  }

  function decide(
    seq: number,
    size: number,
    line: string,
    last: WitnessHead | null,
    lastLeaves = leaves,
  ) {
    const body = head(size);
    return decideCosignature({
      seq,
      text: checkpointText(body),
      size,
      rootHash: body.rootHash,
      line,
      witness,
      last,
      proof:
        last && last.size <= size ? consistencyProof(last.size, lastLeaves.slice(0, size)) : [],
      verifyConsistency,
      now,
    });
  }

  it("accepts a witness's first cosignature, and a later one consistent with it", () => {
    expect(decide(1, 4, cosign(checkpointText(head(4))), null)).toEqual({
      ok: true,
      timestamp: ts,
    });
    const last = { seq: 1, size: 4, rootHash: head(4).rootHash };
    expect(decide(2, 9, cosign(checkpointText(head(9))), last)).toEqual({
      ok: true,
      timestamp: ts,
    });
  });

  it('refuses a checkpoint inconsistent with the last one the witness cosigned', () => {
    // The witness cosigned a tree of 4 whose leaf 2 differs: no proof joins it to ours.
    const forked = [...leaves];
    forked[2] = leafHash(Buffer.from('another leaf 2'));
    const last = { seq: 1, size: 4, rootHash: rootHash(forked.slice(0, 4)) };
    const d = decide(2, 9, cosign(checkpointText(head(9))), last);
    expect(d).toMatchObject({ ok: false, code: 'witness_inconsistent' });
  });

  it('refuses a cosignature by another key, or over another checkpoint text', () => {
    const stranger = generateKeyPairSync('ed25519').privateKey;
    expect(decide(1, 4, cosign(checkpointText(head(4)), stranger), null)).toMatchObject({
      ok: false,
      code: 'invalid_cosignature',
    });
    expect(decide(1, 4, cosign(checkpointText(head(5))), null)).toMatchObject({
      ok: false,
      code: 'invalid_cosignature',
    });
    const otherWitness = signatureLine({
      name: 'other/w',
      keyId: Buffer.alloc(4),
      signature: Buffer.alloc(72),
    });
    expect(decide(1, 4, otherWitness, null)).toMatchObject({ ok: false, code: 'unknown_witness' });
  });

  it('refuses a replayed cosignature and one for an older checkpoint', () => {
    const line = cosign(checkpointText(head(4)));
    const last = { seq: 1, size: 4, rootHash: head(4).rootHash };
    expect(decide(1, 4, line, last)).toMatchObject({ ok: false, code: 'cosignature_not_newer' });
    const later = { seq: 3, size: 9, rootHash: head(9).rootHash };
    expect(decide(1, 4, line, later)).toMatchObject({ ok: false, code: 'cosignature_not_newer' });
  });

  it('refuses a timestamp more than the allowed skew ahead', () => {
    const future = ts + BigInt(MAX_FUTURE_SKEW_SECONDS) + 1n;
    expect(decide(1, 4, cosign(checkpointText(head(4)), privateKey, future), null)).toMatchObject({
      ok: false,
      code: 'invalid_cosignature',
    });
  });
});
