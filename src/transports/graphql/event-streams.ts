/** The event streams a subscription's resolvers and transports wrap around one another. */

/** Whether a subscription's result is a stream of events, rather than one result (an error). */
export function isAsyncIterable<T = unknown>(value: unknown): value is AsyncIterable<T> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * A stream whose `next()` is `next`, and whose `return()` and `throw()` end `source` at once, even
 * while a `next()` is waiting: graphql-ws ends a subscription that way (the client's `complete`, a
 * closed socket), and the source must stop then rather than at its next event.
 */
export function endingWithSource<T>(source: AsyncIterator<unknown>, next: () => Promise<IteratorResult<T>>): AsyncIterableIterator<T> {
  const iterator: AsyncIterableIterator<T> = {
    next,
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
