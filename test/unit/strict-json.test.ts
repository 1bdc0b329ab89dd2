import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/domain/errors.js';
import { checkJsonValue, parseStrictJson } from '../../src/domain/strict-json.js';
import { documentNesting } from '../../src/transports/http/limits.js';
import { thrownBy } from '../support/errors.js';

const refusal = (run: () => unknown): InvalidInputError => thrownBy(InvalidInputError, run);

describe('strict JSON', () => {
  it('reads ordinary JSON exactly as JSON.parse does', () => {
    const text = '{"a":[1,2.5,-3e2,{"b":"}]\\"{[","c":null}],"d":true,"e":"\\u0041","f":9007199254740991,"g":-9007199254740991}';
    expect(parseStrictJson(text, 10)).toEqual(JSON.parse(text));
  });

  it('refuses a member name given twice, naming its path', () => {
    const error = refusal(() => parseStrictJson('{"input":{"context":{"amount":250000,"amount":10}}}', 10));
    expect(error.field).toBe('$.input.context.amount');
    expect(error.problem).toContain('more than once');
  });

  it('sees through escapes when comparing member names', () => {
    expect(refusal(() => parseStrictJson('{"amount":1,"\\u0061mount":2}', 10)).field).toBe('$.amount');
  });

  it('allows the same name in sibling objects', () => {
    expect(parseStrictJson('[{"a":1},{"a":2}]', 10)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('refuses integers outside ±(2^53−1), naming the path', () => {
    const error = refusal(() => parseStrictJson('{"items":[{"account":1},{"account":9007199254740993}]}', 10));
    expect(error.field).toBe('$.items[1].account');
    expect(error.problem).toContain('9007199254740993');
    expect(refusal(() => parseStrictJson('[-9007199254740992]', 10)).field).toBe('$[0]');
    expect(refusal(() => parseStrictJson('{"x":1e400}', 10)).problem).toContain('too large');
  });

  it('refuses any nesting depth with a typed error and no recursion', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(refusal(() => parseStrictJson(deep, 100)).problem).toContain('deeper than 100');
    const objects = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    expect(refusal(() => parseStrictJson(objects, 100)).field).toMatch(/^\$\.a\.a\.a/);
  });

  it('checks values in memory the same way, iteratively', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 100_000; level++) deep = { deeper: deep };
    expect(refusal(() => checkJsonValue('context', deep, 64)).problem).toContain('deeper than 64');
    expect(refusal(() => checkJsonValue('context', { n: [0, 2 ** 60] }, 64)).field).toBe('context.n[1]');
  });
});

describe('document nesting', () => {
  it('counts brackets outside strings and comments', () => {
    expect(documentNesting('{ a { b(x: [[1]]) } }')).toBe(5);
    expect(documentNesting('{ a(s: "{{{{[[[[", t: """ {{{{ \\""" {{{ """) } # {{{{{{')).toBe(2);
    expect(documentNesting('['.repeat(100_000))).toBe(100_000);
  });
});
