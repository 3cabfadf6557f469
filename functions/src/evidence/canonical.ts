import { createHash } from 'node:crypto';

/**
 * RFC 8785 JSON Canonicalization Scheme. ECMAScript's JSON.stringify already serializes
 * strings and numbers the way the RFC requires (it was written around it); what remains is
 * sorting object keys by UTF-16 code units, recursively, and refusing values JSON cannot hold.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot hold NaN or Infinity');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      // Default sort compares UTF-16 code units, exactly what RFC 8785 section 3.2.3 asks.
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}

/**
 * True when `value` is plain JSON data (null, booleans, strings, finite numbers, arrays without
 * holes, objects whose prototype is Object.prototype or null) with no `toJSON` anywhere, and
 * every object's own keys already come in RFC 8785 order. For such a value `JSON.stringify`
 * writes exactly `canonicalJson`: the same members in the same order, strings and numbers
 * serialized by the same ECMAScript routine, nothing skipped or replaced.
 */
function inCanonicalOrder(value: unknown): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  // An own or inherited toJSON would make JSON.stringify write something else.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      // A hole or an undefined element: JSON.stringify writes null where canonicalJson does not.
      if (!(i in value) || !inCanonicalOrder(value[i])) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    // Strictly increasing in UTF-16 code units. JavaScript lists integer-like keys first, in
    // numeric order ("9" before "10"), which RFC 8785 does not: such objects take the slow path.
    if (i > 0 && !((keys[i - 1] as string) < key)) return false;
    if (!inCanonicalOrder((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/**
 * `canonicalJson(value)`, the same string, but written by the native `JSON.stringify` when the
 * value is already in canonical order, as `JSON.parse` returns it for a canonical line: the
 * export verifier canonicalizes every record of an export, and the recursive sort-and-join of
 * `canonicalJson` is most of its cost. Any other value takes `canonicalJson` (and throws where
 * it throws).
 */
export function canonicalJsonFast(value: unknown): string {
  return inCanonicalOrder(value) ? JSON.stringify(value) : canonicalJson(value);
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalSha256(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
