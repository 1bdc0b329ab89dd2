import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** What the context factory knows of the caller's token: when it stops being valid. */
export interface CallerDeadline {
  /** Epoch milliseconds at which the caller's token expires (clock tolerance included); null when unauthenticated. */
  callerExpiresAtMs?: number | null;
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<ExecutionResult> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/**
 * A subscription's results until `deadlineMs`; then one result carrying an UNAUTHENTICATED error
 * and the end of the stream. The source stops at once, even while a `next()` is waiting.
 */
export function untilDeadline(
  source: AsyncIterable<ExecutionResult>,
  deadlineMs: number,
  now: () => number = Date.now,
): AsyncIterableIterator<ExecutionResult> {
  const inner = source[Symbol.asyncIterator]();
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    const wait = (): void => {
      const remaining = deadlineMs - now();
      if (remaining <= 0) return resolve('expired');
      timer = setTimeout(wait, Math.min(remaining, 2 ** 31 - 1));
      timer.unref();
    };
    wait();
  });
  const stop = async (): Promise<IteratorResult<ExecutionResult>> => {
    finished = true;
    clearTimeout(timer);
    await inner.return?.();
    return { done: true, value: undefined };
  };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (finished) return { done: true, value: undefined };
      const result = await Promise.race([inner.next(), expired]);
      // Checked again at delivery: a timer can fire late, an event must never be sent after expiry.
      if (result !== 'expired' && (result.done || now() < deadlineMs)) {
        if (result.done) await stop();
        return result;
      }
      await stop();
      return {
        done: false,
        value: {
          errors: [
            new GraphQLError('The caller token has expired; subscribe again with a fresh token.', { extensions: { code: 'UNAUTHENTICATED' } }),
          ],
        },
      };
    },
    return: stop,
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * Ends every subscription when its caller's token expires, over SSE and graphql-ws alike (the
 * graphql-ws connection itself is also closed with 4403 then): an approver whose token lapsed
 * must stop receiving pending requests and their contexts.
 */
export function useSubscriptionDeadline(now: () => number = Date.now): Plugin {
  return {
    onSubscribe({ args }) {
      const deadline = (args.contextValue as CallerDeadline).callerExpiresAtMs;
      if (typeof deadline !== 'number') return;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(untilDeadline(result, deadline, now));
        },
      };
    },
  };
}
