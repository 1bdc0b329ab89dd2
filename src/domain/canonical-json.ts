import { InvalidInputError } from './errors.js';

/** A value that has exactly one canonical JSON form. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Nesting deeper than this is refused rather than left to overflow the stack: hashed inputs come
 * from the network, and a typed error is better than a RangeError.
 */
const MAX_DEPTH = 1000;

/** Printable ASCII other than `"` and `\`: such strings are their own JSON body, no escaping needed. */
const NEEDS_NO_ESCAPING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Matches a UTF-16 code unit that is not part of a surrogate pair. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Serialises `value` as RFC 8785 (JSON Canonicalization Scheme) text.
 *
 * Object members are sorted by the UTF-16 code units of their names, there is no whitespace,
 * numbers are written as ECMAScript's `Number.prototype.toString` writes them and strings are
 * escaped as `JSON.stringify` escapes them. Two values that are equal as JSON therefore always
 * produce the same string, which makes the result safe to hash or sign.
 *
 * Object members whose value is `undefined` are omitted, as `JSON.stringify` omits them. Anything
 * without a single JSON meaning is refused with an {@link InvalidInputError} naming its JSON path:
 * non-finite numbers, `undefined` (at the top level or in an array), functions, symbols, bigints,
 * strings holding unpaired surrogates (not representable in UTF-8), cyclic structures and objects
 * that are not plain objects or arrays (Date, Map, class instances, ...).
 */
export function canonicalize(value: unknown): string {
  try {
    return serialize(value, null);
  } catch (error) {
    if (error instanceof Refusal) throw new InvalidInputError(formatPath(error.path), error.problem);
    throw error;
  }
}

/**
 * Raised inside the serialiser; each container it unwinds through prepends its member name or
 * index, so the happy path never pays for tracking where it is.
 */
class Refusal {
  readonly path: (string | number)[] = [];
  constructor(readonly problem: string) {}
}

function serialize(value: unknown, ancestors: Set<object> | null): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      if (!Number.isFinite(value)) throw new Refusal(`${value} is not a JSON number`);
      // Number::toString is exactly the JCS number format (and turns -0 into "0").
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      // Scalars never need the ancestor set, so it is only created for the outermost container.
      return serializeContainer(value, ancestors ?? new Set());
    case 'undefined':
      throw new Refusal('undefined has no JSON representation');
    default:
      throw new Refusal(`a ${typeof value} has no JSON representation`);
  }
}

function quote(value: string): string {
  if (NEEDS_NO_ESCAPING.test(value)) return '"' + value + '"';
  if (LONE_SURROGATE.test(value)) throw new Refusal('the string contains an unpaired UTF-16 surrogate');
  return JSON.stringify(value);
}

function serializeContainer(value: object, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw new Refusal('the structure is cyclic');
  if (ancestors.size >= MAX_DEPTH) throw new Refusal(`nesting is deeper than ${MAX_DEPTH} levels`);

  ancestors.add(value);
  const text = Array.isArray(value) ? serializeArray(value, ancestors) : serializeObject(value, ancestors);
  ancestors.delete(value);
  return text;
}

function serializeArray(array: readonly unknown[], ancestors: Set<object>): string {
  let text = '[';
  let index = 0;
  try {
    for (; index < array.length; index++) {
      if (index > 0) text += ',';
      text += serialize(array[index], ancestors);
    }
  } catch (error) {
    if (error instanceof Refusal) error.path.unshift(index);
    throw error;
  }
  return text + ']';
}

function serializeObject(value: object, ancestors: Set<object>): string {
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) {
    const kind = (value as { constructor?: { name?: unknown } }).constructor?.name;
    throw new Refusal(`${typeof kind === 'string' && kind !== '' ? kind : 'this object'} is not a plain JSON object`);
  }
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, which is the order RFC 8785 prescribes.
  const keys = Object.keys(record).sort();
  let text = '{';
  let first = true;
  let key = '';
  try {
    for (key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      text += (first ? '' : ',') + quote(key) + ':' + serialize(member, ancestors);
      first = false;
    }
  } catch (error) {
    if (error instanceof Refusal) error.path.unshift(key);
    throw error;
  }
  return text + '}';
}

/** Formats a path as `$.items[2].name`, quoting member names that are not plain identifiers. */
function formatPath(path: readonly (string | number)[]): string {
  let text = '$';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) text += `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
