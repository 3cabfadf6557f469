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
 * holes, objects whose prototype is Object.prototype or null) and every object's own keys already
 * come in RFC 8785 order. For such a value `JSON.stringify` writes exactly `canonicalJson`: the
 * same members in the same order, strings and numbers serialized by the same ECMAScript routine,
 * nothing skipped or replaced, provided no `toJSON` applies (see `noInheritedToJson`; an own one
 * on an object is a function value, which fails here).
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
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype || Object.hasOwn(value, 'toJSON')) {
      return false;
    }
    for (let i = 0; i < value.length; i++) {
      // A hole or an undefined element: JSON.stringify writes null where canonicalJson does not.
      if (!(i in value) || !inCanonicalOrder(value[i])) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  // Object.keys and Object.values list own enumerable members in the same order.
  const keys = Object.keys(value);
  const values = Object.values(value);
  for (let i = 0; i < keys.length; i++) {
    // Strictly increasing in UTF-16 code units. JavaScript lists integer-like keys first, in
    // numeric order ("9" before "10"), which RFC 8785 does not: such objects take the slow path.
    if (i > 0 && !((keys[i - 1] as string) < (keys[i] as string))) return false;
    if (!inCanonicalOrder(values[i])) return false;
  }
  return true;
}

/** JSON.stringify calls an inherited `toJSON` on every object or array; canonicalJson never does. */
function noInheritedToJson(): boolean {
  return (
    typeof (Object.prototype as { toJSON?: unknown }).toJSON !== 'function' &&
    typeof (Array.prototype as { toJSON?: unknown }).toJSON !== 'function'
  );
}

/**
 * `canonicalJson(value)` and `canonicalJson` of the same object without the `omit` keys, from
 * one serialization of its members (by the native `JSON.stringify`) when the object is already in
 * canonical order, as `JSON.parse` returns it for a canonical line. The export verifier checks
 * that a record line is canonical and hashes the record's body (the record without its stored
 * fields) for every record of an export; the recursive sort-and-join of `canonicalJson`, twice,
 * was most of its cost. Any other object takes `canonicalJson`, twice.
 */
export function canonicalJsonWithout(
  value: Record<string, unknown>,
  omit: ReadonlySet<string>,
): { full: string; without: string } {
  if (Array.isArray(value) || !noInheritedToJson() || !inCanonicalOrder(value)) {
    const rest = Object.fromEntries(Object.entries(value).filter(([key]) => !omit.has(key)));
    return { full: canonicalJson(value), without: canonicalJson(rest) };
  }
  const keys = Object.keys(value);
  const values = Object.values(value);
  let full = '';
  let without = '';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const member = `${JSON.stringify(key)}:${JSON.stringify(values[i])}`;
    full = full === '' ? member : `${full},${member}`;
    if (!omit.has(key)) without = without === '' ? member : `${without},${member}`;
  }
  return { full: `{${full}}`, without: `{${without}}` };
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalSha256(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
