import { describe, expect, it } from 'vitest';

import { canonicalize } from '../../src/domain/canonical-json.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import { thrownBy } from '../support/errors.js';

function fromIeee754(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

const refusal = (value: unknown): InvalidInputError => thrownBy(InvalidInputError, () => canonicalize(value));

describe('canonicalize', () => {
  it('sorts members, drops whitespace and keeps array order', () => {
    expect(canonicalize(JSON.parse('{"b":1,"a":[1,{"d":2,"c":null}]}'))).toBe('{"a":[1,{"c":null,"d":2}],"b":1}');
    expect(canonicalize({ b: 1, a: [1, { d: 2, c: null }] })).toBe('{"a":[1,{"c":null,"d":2}],"b":1}');
  });

  it('serialises the RFC 8785 section 3.2.2 example exactly as the RFC does', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    expect(canonicalize(JSON.parse(input))).toBe(expected);
  });

  it('orders members by UTF-16 code units as in the RFC 8785 section 3.2.3 example', () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    const expected =
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
      '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}';
    expect(canonicalize(JSON.parse(input))).toBe(expected);
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('serialises the IEEE 754 value %s as %s (RFC 8785 appendix B)', (hex, expected) => {
    expect(canonicalize(fromIeee754(hex))).toBe(expected);
  });

  it.each([
    ['7fffffffffffffff', 'NaN'],
    ['7ff0000000000000', 'Infinity'],
    ['fff0000000000000', '-Infinity'],
  ])('refuses the non-finite IEEE 754 value %s (%s)', (hex) => {
    expect(refusal(fromIeee754(hex)).problem).toMatch(/not a JSON number/);
  });

  it('escapes strings as JSON.stringify does', () => {
    expect(canonicalize('tab\there "quoted" \\ \u001f é 😀')).toBe(JSON.stringify('tab\there "quoted" \\ \u001f é 😀'));
  });

  it('omits object members whose value is undefined, as JSON does', () => {
    expect(canonicalize({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it('accepts objects without a prototype and values shared between branches', () => {
    const shared = { z: true };
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { y: shared, x: shared });
    expect(canonicalize(bare)).toBe('{"x":{"z":true},"y":{"z":true}}');
  });

  it('names the JSON path of the value it refuses', () => {
    const error = refusal({ items: [1, { amount: Number.NaN }] });
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.field).toBe('$.items[1].amount');
  });

  it('refuses cyclic structures', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(refusal(cyclic).problem).toMatch(/cyclic/);
    const cyclicArray: unknown[] = [];
    cyclicArray.push(cyclicArray);
    expect(refusal(cyclicArray).field).toBe('$[0]');
  });

  it('refuses undefined at the top level and inside arrays', () => {
    expect(refusal(undefined).field).toBe('$');
    expect(refusal([1, undefined]).field).toBe('$[1]');
  });

  it('refuses functions, symbols and bigints', () => {
    expect(refusal({ f: () => 1 }).field).toBe('$.f');
    expect(refusal(Symbol('s')).code).toBe('INVALID_INPUT');
    expect(refusal(10n).problem).toMatch(/bigint/);
  });

  it('refuses objects that are not plain JSON objects', () => {
    expect(refusal(new Date(0)).problem).toMatch(/Date/);
    expect(refusal(new Map()).problem).toMatch(/Map/);
    expect(refusal({ when: new (class Instant {})() }).problem).toMatch(/Instant/);
    expect(refusal(Buffer.from('x')).code).toBe('INVALID_INPUT');
  });

  it('refuses strings with unpaired surrogates, which have no UTF-8 form', () => {
    expect(refusal('broken \ud800').code).toBe('INVALID_INPUT');
    expect(refusal({ ['key \udc00']: 1 }).code).toBe('INVALID_INPUT');
  });

  it('refuses nesting deep enough to exhaust the stack with a typed error', () => {
    let deep: unknown = 0;
    for (let level = 0; level < 5000; level++) deep = [deep];
    expect(refusal(deep).problem).toMatch(/deeper than/);
  });
});
