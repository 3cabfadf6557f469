// ECDSA over NIST P-256 on a caller-supplied SHA-256 digest.
//
// KMS AsymmetricSign takes the digest, not the message, and node:crypto can only sign a
// message it hashes itself (a null algorithm still hashes with SHA-256 for EC keys), so the
// signing step is done here with BigInt arithmetic. It is not constant-time: this is an
// emulator holding throwaway keys, never a place for production secrets.
import { KeyObject, randomBytes } from 'node:crypto';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n;
const GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n;

/** A point in Jacobian coordinates (x = X/Z², y = Y/Z³); Z = 0 is the point at infinity. */
interface Jacobian {
  x: bigint;
  y: bigint;
  z: bigint;
}

const INFINITY: Jacobian = { x: 1n, y: 1n, z: 0n };

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function modPow(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

/** Inverse modulo a prime, by Fermat's little theorem. */
function invert(a: bigint, m: bigint): bigint {
  return modPow(a, m - 2n, m);
}

// Doubling formula specialised for a = -3, the P-256 curve coefficient.
function double(p: Jacobian): Jacobian {
  if (p.z === 0n || p.y === 0n) return INFINITY;
  const delta = mod(p.z * p.z, P);
  const gamma = mod(p.y * p.y, P);
  const beta = mod(p.x * gamma, P);
  const alpha = mod(3n * (p.x - delta) * (p.x + delta), P);
  const x = mod(alpha * alpha - 8n * beta, P);
  const z = mod((p.y + p.z) * (p.y + p.z) - gamma - delta, P);
  const y = mod(alpha * (4n * beta - x) - 8n * gamma * gamma, P);
  return { x, y, z };
}

function add(p: Jacobian, q: Jacobian): Jacobian {
  if (p.z === 0n) return q;
  if (q.z === 0n) return p;
  const pz2 = mod(p.z * p.z, P);
  const qz2 = mod(q.z * q.z, P);
  const u1 = mod(p.x * qz2, P);
  const u2 = mod(q.x * pz2, P);
  const s1 = mod(p.y * qz2 * q.z, P);
  const s2 = mod(q.y * pz2 * p.z, P);
  const h = mod(u2 - u1, P);
  const r = mod(s2 - s1, P);
  if (h === 0n) return r === 0n ? double(p) : INFINITY;
  const h2 = mod(h * h, P);
  const h3 = mod(h2 * h, P);
  const x = mod(r * r - h3 - 2n * u1 * h2, P);
  const y = mod(r * (u1 * h2 - x) - s1 * h3, P);
  const z = mod(h * p.z * q.z, P);
  return { x, y, z };
}

function multiplyBase(k: bigint): bigint {
  let result = INFINITY;
  let addend: Jacobian = { x: GX, y: GY, z: 1n };
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = double(addend);
  }
  if (result.z === 0n) throw new Error('ECDSA: nonce produced the point at infinity');
  const zInv = invert(result.z, P);
  return mod(result.x * zInv * zInv, P);
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function randomScalar(): bigint {
  // Rejection sampling keeps the nonce uniform in [1, n-1].
  for (;;) {
    const k = toBigInt(randomBytes(32));
    if (k > 0n && k < N) return k;
  }
}

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  // DER integers are signed: a set top bit needs a leading zero byte to stay positive.
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** The private scalar of a P-256 key, read from its JWK export. */
export function p256PrivateScalar(privateKey: KeyObject): bigint {
  const jwk = privateKey.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || jwk.d === undefined) throw new Error('not a P-256 private key');
  return toBigInt(Buffer.from(jwk.d, 'base64url'));
}

/**
 * Signs a 32-byte SHA-256 digest with ECDSA P-256 and returns the DER `Ecdsa-Sig-Value`
 * (SEQUENCE of r and s), the encoding KMS returns for EC_SIGN_P256_SHA256.
 */
export function signP256Digest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  if (digest.length !== 32) throw new Error('ECDSA P-256 signs a 32-byte SHA-256 digest');
  const d = p256PrivateScalar(privateKey);
  const e = toBigInt(digest);
  for (;;) {
    const k = randomScalar();
    const r = mod(multiplyBase(k), N);
    if (r === 0n) continue;
    const s = mod(invert(k, N) * (e + r * d), N);
    if (s === 0n) continue;
    const body = Buffer.concat([derInteger(r), derInteger(s)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  }
}
