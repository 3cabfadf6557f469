import { createHash } from 'node:crypto';
import { canonicalJson, canonicalSha256, sha256Hex } from '../../functions/src/evidence/canonical';

describe('canonicalJson (RFC 8785)', () => {
  it('orders members by UTF-16 code units (RFC 8785 section 3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const canonical = canonicalJson(input);

    // The RFC's expected order: the emoji (lead surrogate U+D83D) sorts before U+FB33,
    // the reverse of code point order.
    // (Member values are read off the text: JSON.parse would re-order the integer-like key "1".)
    const values = [...canonical.matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
    expect(values).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    expect(canonical).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control",' +
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
        '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('matches the RFC 8785 section 3.2.2 sample (numbers, string escapes, literals)', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        ' "literals": [null, true, false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it.each<[number, string]>([
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [-1, '-1'],
    [1e21, '1e+21'],
    [1e20, '100000000000000000000'],
    [1e-7, '1e-7'],
    [1e-6, '0.000001'],
    [0.1 + 0.2, '0.30000000000000004'],
    [4.5, '4.5'],
    [-1.5e-300, '-1.5e-300'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [Number.MAX_VALUE, '1.7976931348623157e+308'],
    [Number.MIN_VALUE, '5e-324'],
  ])('serializes the number %p as %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('escapes control characters, quotes and backslashes and nothing else', () => {
    expect(canonicalJson('\u0000\u0001\u001f')).toBe('"\\u0000\\u0001\\u001f"');
    expect(canonicalJson('\b\t\n\f\r')).toBe('"\\b\\t\\n\\f\\r"');
    expect(canonicalJson('"\\')).toBe('"\\"\\\\"');
    // Solidus, DEL, C1 controls and non-ASCII stay literal.
    expect(canonicalJson('/\u007f\u0080\u2028é€😀')).toBe('"/\u007f\u0080\u2028é€😀"');
  });

  it('canonicalizes nested arrays and objects recursively, keeping array order', () => {
    const input = {
      z: [3, { b: [{ d: 1, c: 2 }], a: null }, [true, false]],
      a: { y: 'y', x: { n: -0, m: 'm' } },
    };
    expect(canonicalJson(input)).toBe(
      '{"a":{"x":{"m":"m","n":0},"y":"y"},"z":[3,{"a":null,"b":[{"c":2,"d":1}]},[true,false]]}',
    );
  });

  it('gives the same bytes whatever the insertion order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe(
      canonicalJson({ a: { c: 3, d: 2 }, b: 1 }),
    );
  });

  it('serializes empty containers and literals', () => {
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson('')).toBe('""');
  });

  it('drops members whose value is undefined', () => {
    expect(canonicalJson({ a: 1, b: undefined, c: { d: undefined } })).toBe('{"a":1,"c":{}}');
  });

  it.each<[string, unknown]>([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['nested NaN', { a: [1, NaN] }],
    ['a function', () => 1],
    ['a member function', { f: () => 1 }],
    ['a bigint', 1n],
    ['a nested bigint', { n: [2n] }],
    ['a symbol', Symbol('s')],
    ['undefined', undefined],
  ])('refuses %s', (_label, value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });
});

describe('canonicalSha256', () => {
  it('is the SHA-256 of the canonical string', () => {
    const value = { b: [1, 2.5, 'x'], a: { c: null } };
    const canonical = '{"a":{"c":null},"b":[1,2.5,"x"]}';
    expect(canonicalJson(value)).toBe(canonical);
    expect(canonicalSha256(value)).toBe(createHash('sha256').update(canonical).digest('hex'));
  });

  it('matches known SHA-256 answers', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(Buffer.from('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    // canonicalJson('abc') is the JSON string literal "abc", quotes included.
    expect(canonicalSha256('abc')).toBe(sha256Hex('"abc"'));
  });

  it('hashes the UTF-8 encoding of non-ASCII content', () => {
    const value = { '€': 'ö' };
    expect(canonicalSha256(value)).toBe(
      createHash('sha256').update(Buffer.from('{"€":"ö"}', 'utf8')).digest('hex'),
    );
  });
});
