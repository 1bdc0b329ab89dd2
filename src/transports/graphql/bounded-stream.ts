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

/** The method by which a subscriber's values are pushed to it instead of pulled (see {@link PushSink}). */
export const PUSH = Symbol('countersign.push');

/**
 * Where a subscriber's values go once they are pushed: in order, synchronously when they are ready.
 * A waiting pull holds a promise chain that each event re-creates for every subscriber; with
 * thousands of subscribers those chains outlive young-generation collections, are copied and
 * promoted, and the collections' cost grows faster than the subscribers. Pushed, a waiting
 * subscriber holds nothing new between events.
 */
export interface PushSink<T> {
  next(value: T): void;
  fail(error: unknown): void;
  end(): void;
}

/** An iterator that can also push its values (after which its `next()` must not be used). */
export interface PushableIterator<T> extends AsyncIterableIterator<T> {
  [PUSH](sink: PushSink<T>): void;
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
): PushableIterator<T> {
  const buffer: StreamedChange[] = [];
  let bufferedBytes = 0;
  let wake = null as (() => void) | null;
  let ended = false;

  let sink: PushSink<T> | null = null;
  /** A projection still to settle (the requester's token read): later changes wait behind it. */
  let projecting = false;

  const end = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    buffer.length = 0;
    bufferedBytes = 0;
    wake?.();
    sink?.end();
    await source.return();
  };

  const fail = (error: unknown): void => {
    const failed = sink;
    sink = null;
    void end();
    failed?.fail(error);
  };

  /**
   * Pushes what is buffered, in order; an asynchronous projection holds the rest until it settles.
   * It runs inside the feed's loop over every subscriber of the tenant: a failure ends this
   * subscription alone.
   */
  const push = (): void => {
    try {
      while (sink !== null && !projecting && !ended) {
        const change = buffer.shift();
        if (change === undefined) return;
        bufferedBytes -= sizeOf(change);
        const projected = project(change);
        if (projected instanceof Promise) {
          projecting = true;
          projected.then(
            (value) => {
              projecting = false;
              try {
                if (value !== null && !ended) sink?.next(value);
              } catch (error) {
                return fail(error);
              }
              push();
            },
            (error: unknown) => fail(error),
          );
          return;
        }
        if (projected !== null) sink.next(projected);
      }
    } catch (error) {
      fail(error);
    }
  };

  // Taken from the feed as it delivers (no promise per change), into a buffer bounded in bytes.
  source.listen((change) => {
    if (ended) return;
    bufferedBytes += sizeOf(change);
    if (bufferedBytes > maxBufferedBytes) return void end();
    buffer.push(change);
    if (sink !== null) return push();
    wake?.();
  }, () => void end());

  const iterator: PushableIterator<T> = {
    [PUSH](pushTo) {
      sink = pushTo;
      if (ended) return pushTo.end();
      push();
    },
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
