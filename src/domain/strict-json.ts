import { InvalidInputError } from './errors.js';

/**
 * JSON with one meaning (I-JSON, RFC 7493): text that `JSON.parse` would read with a silent
 * loss is refused instead, with an {@link InvalidInputError} naming the JSON path:
 * - a member name given twice in one object (`JSON.parse` keeps the last, a human reads the first),
 * - a number whose integer value lies outside ±(2^53−1) (it would be rounded to another integer),
 * - a number too large to represent (it would become Infinity),
 * - nesting deeper than `maxDepth` (checked without recursion, so any depth is a typed error).
 */
export function parseStrictJson(text: string, maxDepth: number): unknown {
  checkStrictJson(text, maxDepth);
  return JSON.parse(text);
}

type Frame = { kind: 'object'; names: Set<string>; name: string | null; expectingName: boolean } | { kind: 'array'; index: number };

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Scans `text` once, iteratively, for what {@link parseStrictJson} refuses. Malformed JSON is
 * left for `JSON.parse` to report: the scan only has to be right about well-formed text.
 */
export function checkStrictJson(text: string, maxDepth: number): void {
  const stack: Frame[] = [];
  const refuse = (problem: string): never => {
    throw new InvalidInputError(jsonPath(stack), problem);
  };
  let index = 0;
  while (index < text.length) {
    const char = text.charCodeAt(index);
    switch (char) {
      case 0x7b /* { */:
      case 0x5b /* [ */:
        if (stack.length >= maxDepth) refuse(`nesting is deeper than ${maxDepth} levels`);
        stack.push(char === 0x7b ? { kind: 'object', names: new Set(), name: null, expectingName: true } : { kind: 'array', index: 0 });
        index += 1;
        break;
      case 0x7d /* } */:
      case 0x5d /* ] */:
        stack.pop();
        index += 1;
        break;
      case 0x2c /* , */: {
        const top = stack[stack.length - 1];
        if (top?.kind === 'array') top.index += 1;
        else if (top) top.expectingName = true;
        index += 1;
        break;
      }
      case 0x22 /* " */: {
        const end = closingQuote(text, index);
        if (end < 0) return;
        const top = stack[stack.length - 1];
        if (top?.kind === 'object' && top.expectingName) {
          const raw = text.slice(index + 1, end);
          const memberName = raw.includes('\\') ? (JSON.parse(text.slice(index, end + 1)) as string) : raw;
          top.name = memberName;
          top.expectingName = false;
          if (top.names.has(memberName)) refuse('the member name appears more than once in its object');
          top.names.add(memberName);
        }
        index = end + 1;
        break;
      }
      default:
        if (char === 0x2d /* - */ || (char >= 0x30 && char <= 0x39)) {
          NUMBER.lastIndex = index;
          const match = NUMBER.exec(text);
          if (!match) return;
          const value = Number(match[0]);
          if (!Number.isFinite(value)) refuse(`${match[0]} is too large to be a JSON number`);
          if (Number.isInteger(value) && Math.abs(value) > Number.MAX_SAFE_INTEGER) {
            refuse(`${match[0]} is outside ±(2^53−1), so it cannot be read without rounding; send it as a string`);
          }
          index += match[0].length;
        } else {
          index += 1;
        }
    }
  }
}

/** The index of the quote closing the string that opens at `start`, or -1. */
function closingQuote(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

function jsonPath(stack: readonly Frame[]): string {
  let path = '$';
  for (const frame of stack) {
    if (frame.kind === 'array') path += `[${frame.index}]`;
    else if (frame.name !== null) path += /^[A-Za-z_$][\w$]*$/.test(frame.name) ? `.${frame.name}` : `[${JSON.stringify(frame.name)}]`;
  }
  return path;
}

/**
 * The same checks for a value already in memory (a GraphQL literal or a parsed message):
 * nesting depth without recursion, integers outside ±(2^53−1), non-finite numbers.
 */
export function checkJsonValue(field: string, value: unknown, maxDepth: number): void {
  const pending: { value: unknown; depth: number; path: string }[] = [{ value, depth: 0, path: field }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { value: current, depth, path } = item;
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) throw new InvalidInputError(path, `${current} is not a JSON number`);
      if (Number.isInteger(current) && Math.abs(current) > Number.MAX_SAFE_INTEGER) {
        throw new InvalidInputError(path, 'the number is outside ±(2^53−1), so it cannot be read without rounding; send it as a string');
      }
    } else if (typeof current === 'object' && current !== null) {
      if (depth >= maxDepth) throw new InvalidInputError(path, `nesting is deeper than ${maxDepth} levels`);
      if (Array.isArray(current)) current.forEach((entry, index) => pending.push({ value: entry, depth: depth + 1, path: `${path}[${index}]` }));
      else {
        for (const [key, entry] of Object.entries(current)) {
          pending.push({ value: entry, depth: depth + 1, path: /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]` });
        }
      }
    }
  }
}
