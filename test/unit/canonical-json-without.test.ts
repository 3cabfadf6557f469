import { canonicalJson, canonicalJsonWithout } from '../../functions/src/evidence/canonical';

/** Returns what `fn` returns, or the message it throws. */
function outcome(fn: () => unknown): string {
  try {
    return `ok ${JSON.stringify(fn())}`;
  } catch (err) {
    return `throws ${err instanceof Error ? err.message : String(err)}`;
  }
}

const OMIT: ReadonlySet<string> = new Set(['contentSha256', 'createdAt', 'expireAt']);

/** What canonicalJsonWithout must return: canonicalJson of the object, and of it without OMIT. */
function reference(value: Record<string, unknown>): { full: string; without: string } {
  const rest = Object.fromEntries(Object.entries(value).filter(([k]) => !OMIT.has(k)));
  return { full: canonicalJson(value), without: canonicalJson(rest) };
}

describe('canonicalJsonWithout writes exactly what canonicalJson writes', () => {
  const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: 2 });
  const sparse: unknown[] = [1];
  sparse[2] = 3;
  const arrayWithToJson = Object.assign([1], { toJSON: () => 'other' });
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  it.each<[string, unknown]>([
    ['a canonical line, parsed', JSON.parse('[1,{"b":null,"c":true},"\\u20ac"]')],
    ['keys out of order', { b: 1, a: 2 }],
    ['nested keys out of order', { d: 1, c: 2 }],
    // JavaScript lists integer-like keys first, in numeric order; RFC 8785 sorts "10" before "9".
    ['integer-like keys', JSON.parse('{"10":1,"9":2,"a":3}')],
    ['an own __proto__ key from JSON.parse', JSON.parse('{"__proto__":1,"a":2}')],
    ['UTF-16 order (RFC 8785 3.2.3)', JSON.parse('{"\\r":1,"\\u00f6":2,"\\ud83d\\ude00":3}')],
    ['a null-prototype object', nullProto],
    ['an undefined member', { a: undefined, b: 1 }],
    ['an undefined element', [1, undefined]],
    ['a hole', sparse],
    ['a toJSON method', { a: 1, toJSON: () => 'other' }],
    ['an array with its own toJSON', arrayWithToJson],
    ['a Date', new Date(0)],
    ['a class instance', new Point(1, 2)],
    ['a boxed string', Object('x') as unknown],
    ['-0 and large numbers', [-0, 1e21, 1e-7]],
    ['NaN', Number.NaN],
    ['Infinity', [Infinity]],
    ['a function', () => 1],
    ['a bigint', 1n],
    ['a lone surrogate', '\ud800'],
    ['null', null],
  ])('%s, as a member value beside the omitted keys', (_name, member) => {
    const value = { a: member, contentSha256: 'h', createdAt: 't', z: [member] };
    expect(outcome(() => canonicalJsonWithout(value, OMIT))).toBe(outcome(() => reference(value)));
  });

  it('an object that is itself out of order, or holds integer-like keys', () => {
    for (const value of [
      { z: 1, createdAt: 't', a: 2 },
      JSON.parse('{"10":1,"9":2,"contentSha256":"h"}') as Record<string, unknown>,
      JSON.parse('{"__proto__":1,"createdAt":"t"}') as Record<string, unknown>,
      {},
      { createdAt: 't' },
    ]) {
      expect(canonicalJsonWithout(value, OMIT)).toEqual(reference(value));
    }
  });

  it('a polluted Object.prototype.toJSON or Array.prototype.toJSON changes nothing', () => {
    const value = JSON.parse('{"a":{"b":[1]},"createdAt":"t"}') as Record<string, unknown>;
    const expected = reference(value);
    for (const proto of [Object.prototype, Array.prototype]) {
      Object.defineProperty(proto, 'toJSON', {
        value: () => 'polluted',
        configurable: true,
        writable: true,
      });
      try {
        expect(canonicalJsonWithout(value, OMIT)).toEqual(expected);
      } finally {
        delete (proto as { toJSON?: unknown }).toJSON;
      }
    }
  });
});
