import { InvalidInputError } from '../domain/errors.js';

/** A page of results in the Relay connection shape. */
export interface Page<T> {
  items: { node: T; cursor: string }[];
  hasNextPage: boolean;
  endCursor: string | null;
}

export const MAX_PAGE_SIZE = 200;

export function pageSize(first: number | null | undefined, fallback = 50): number {
  if (first === undefined || first === null) return fallback;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new InvalidInputError('first', `must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  return first;
}

/** Opaque cursors: base64url of the sort key, so clients cannot depend on their shape. */
export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, arity: number): (string | number)[] | null {
  if (cursor === undefined || cursor === null) return null;
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.length === arity && parts.every((part) => ['string', 'number'].includes(typeof part))) {
      return parts as (string | number)[];
    }
  } catch {
    // fall through to the typed error
  }
  throw new InvalidInputError('after', 'is not a cursor this API issued');
}

/** Turns `limit + 1` fetched rows into a page. */
export function toPage<T>(rows: T[], limit: number, cursorOf: (row: T) => string): Page<T> {
  const hasNextPage = rows.length > limit;
  const items = rows.slice(0, limit).map((node) => ({ node, cursor: cursorOf(node) }));
  return { items, hasNextPage, endCursor: items.at(-1)?.cursor ?? null };
}
