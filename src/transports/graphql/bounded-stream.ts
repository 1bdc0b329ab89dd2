import type { ChangeStream, StreamedChange } from '../../feed/feed.js';

/** Bytes of changes held for one subscriber that is not reading before its subscription ends. */
export const DEFAULT_SUBSCRIBER_BUFFER_BYTES = 8 * 1024 * 1024;

/** The size of a change as JSON, measured once however many subscribers hold it. */
const sizes = new WeakMap<object, number>();
function sizeOf(change: StreamedChange): number {
  let size = sizes.get(change);
  if (size === undefined) {
    size = Buffer.byteLength(JSON.stringify(change.approval), 'utf8');
    sizes.set(change, size);
  }
  return size;
}

/**
 * The events of `source` that `project` maps to a value, for one subscriber.
 *
 * The source's changes are taken as it delivers them, into a buffer bounded in bytes (of the changes'
 * JSON): a subscriber that stops reading (a stalled socket, a paused SSE reader) must not grow the
 * server's memory without bound, and a few large contexts weigh more than many small changes, so
 * counting events would not bound it. Past `maxBufferedBytes` the subscription ends; the client
 * resubscribes with `current: true` to catch up. Bounding here rather than in the feed keeps the
 * bound the same whatever feed adapter delivers the changes.
 *
 * Unlike an async generator, `return()` reaches the source at once, even while a `next()` is
 * waiting, so an unsubscribed client stops listening immediately.
 */
export function boundedSelect<T>(
  source: ChangeStream,
  project: (change: StreamedChange) => T | null | Promise<T | null>,
  maxBufferedBytes: number = DEFAULT_SUBSCRIBER_BUFFER_BYTES,
): AsyncIterableIterator<T> {
  const buffer: StreamedChange[] = [];
  let bufferedBytes = 0;
  let wake = null as (() => void) | null;
  let ended = false;

  const end = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    buffer.length = 0;
    bufferedBytes = 0;
    wake?.();
    await source.return();
  };

  // Taken from the feed as it delivers (no promise per change), into a buffer bounded in bytes.
  source.listen((change) => {
    if (ended) return;
    bufferedBytes += sizeOf(change);
    if (bufferedBytes > maxBufferedBytes) return void end();
    buffer.push(change);
    wake?.();
  }, () => void end());

  const iterator: AsyncIterableIterator<T> = {
    async next() {
      for (;;) {
        const change = buffer.shift();
        if (change !== undefined) {
          bufferedBytes -= sizeOf(change);
          const projected = project(change);
          // Awaited only when it is a promise: a microtask per subscriber and event is what fan-out costs.
          const value = projected instanceof Promise ? await projected : projected;
          if (value !== null) return { done: false, value };
          continue;
        }
        if (ended) return { done: true, value: undefined };
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    },
    async return() {
      await end();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
