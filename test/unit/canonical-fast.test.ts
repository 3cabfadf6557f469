import { canonicalJson, canonicalJsonFast } from '../../functions/src/evidence/canonical';

/** Returns what `fn` returns, or the message it throws. */
function outcome(fn: () => string): string {
  try {
    return `ok ${fn()}`;
  } catch (err) {
    return `throws ${err instanceof Error ? err.message : String(err)}`;
  }
}

describe('canonicalJsonFast writes exactly what canonicalJson writes', () => {
  const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: 2 });
  const withToJson = { a: 1, toJSON: () => 'other' };
  const sparse: unknown[] = [1];
  sparse[2] = 3;
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  it.each<[string, unknown]>([
    ['a canonical line, parsed', JSON.parse('{"a":[1,{"b":null,"c":true}],"d":"\\u20ac"}')],
    ['keys out of order', { b: 1, a: 2 }],
    ['nested keys out of order', { a: { d: 1, c: 2 } }],
    // JavaScript lists integer-like keys first, in numeric order; RFC 8785 sorts "10" before "9".
    ['integer-like keys', JSON.parse('{"10":1,"9":2,"a":3}')],
    ['an own __proto__ key from JSON.parse', JSON.parse('{"__proto__":1,"a":2}')],
    ['UTF-16 order (RFC 8785 3.2.3)', JSON.parse('{"\\r":1,"\\u00f6":2,"\\ud83d\\ude00":3}')],
    ['a null-prototype object', nullProto],
    ['an undefined member', { a: undefined, b: 1 }],
    ['an undefined element', [1, undefined]],
    ['a hole', sparse],
    ['a toJSON method', withToJson],
    ['a Date', new Date(0)],
    ['a class instance', new Point(1, 2)],
    ['a boxed string', { a: Object('x') as unknown }],
    ['-0 and large numbers', [-0, 1e21, 1e-7]],
    ['NaN', { a: Number.NaN }],
    ['Infinity', [Infinity]],
    ['a function', { a: () => 1 }],
    ['a bigint', { a: 1n }],
    ['a lone surrogate', '\ud800'],
    ['null', null],
  ])('%s', (_name, value) => {
    expect(outcome(() => canonicalJsonFast(value))).toBe(outcome(() => canonicalJson(value)));
  });

  it('a polluted Object.prototype.toJSON does not change the output', () => {
    const value = JSON.parse('{"a":{"b":1}}') as unknown;
    const expected = canonicalJson(value);
    Object.defineProperty(Object.prototype, 'toJSON', {
      value: () => 'polluted',
      configurable: true,
      writable: true,
    });
    try {
      expect(canonicalJsonFast(value)).toBe(expected);
    } finally {
      delete (Object.prototype as { toJSON?: unknown }).toJSON;
    }
  });
});
