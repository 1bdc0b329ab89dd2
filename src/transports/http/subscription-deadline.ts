import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isAsyncIterable } from '../graphql/event-streams.js';

/** What the context factory knows of the caller's token: when it stops being valid. */
export interface CallerDeadline {
  /** Epoch milliseconds at which the caller's token expires (clock tolerance included); null when unauthenticated. */
  callerExpiresAtMs?: number | null;
  /** Aborts, with the refusal as its reason, when the token is revoked before it expires. */
  callerRevoked?: AbortSignal | null;
  /**
   * Set by a transport that ends the subscription itself at the deadline (graphql-ws closes the
   * connection, 4403, and checks the token at each delivery), so results are not wrapped twice.
   */
  deadlineHeldByTransport?: boolean;
}

const EXPIRED = 'The caller token has expired; subscribe again with a fresh token.';

/**
 * A subscription's results until `deadlineMs`, or until `revoked` aborts; then one result
 * carrying an UNAUTHENTICATED error and the end of the stream. The source stops at once, even
 * while a `next()` is waiting.
 */
export function untilDeadline(
  source: AsyncIterable<ExecutionResult>,
  deadlineMs: number,
  now: () => number = Date.now,
  revoked?: AbortSignal | null,
): AsyncIterableIterator<ExecutionResult> {
  const inner = source[Symbol.asyncIterator]();
  let finished = false;
  let over = false;
  let timer: NodeJS.Timeout | undefined;
  let onRevoked: (() => void) | undefined;
  /*
   * Ends the next() in progress. A promise of its own per next(), not a race against one
   * long-lived "expired" promise: each race would leave a reaction on that promise, holding the
   * result it delivered, for as long as the subscription lives.
   */
  let interrupt: (() => void) | undefined;
  const end = (): void => {
    over = true;
    interrupt?.();
  };
  const wait = (): void => {
    const remaining = deadlineMs - now();
    if (remaining <= 0) return end();
    timer = setTimeout(wait, Math.min(remaining, 2 ** 31 - 1));
    timer.unref();
  };
  wait();
  if (revoked) {
    onRevoked = end;
    if (revoked.aborted) end();
    else revoked.addEventListener('abort', onRevoked, { once: true });
  }
  const ended = (): boolean => now() >= deadlineMs || revoked?.aborted === true;
  const stop = async (): Promise<IteratorResult<ExecutionResult>> => {
    finished = true;
    clearTimeout(timer);
    if (onRevoked) revoked?.removeEventListener('abort', onRevoked);
    await inner.return?.();
    return { done: true, value: undefined };
  };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (finished) return { done: true, value: undefined };
      const result = over
        ? 'expired'
        : await new Promise<IteratorResult<ExecutionResult> | 'expired'>((resolve, reject) => {
            interrupt = () => resolve('expired');
            inner.next().then(resolve, reject);
          });
      interrupt = undefined;
      // Checked again at delivery: a timer can fire late, an event must never be sent after expiry.
      if (result !== 'expired' && (result.done || !ended())) {
        if (result.done) await stop();
        return result;
      }
      const message = revoked?.aborted ? `${(revoked.reason as Error | undefined)?.message ?? 'The caller token was revoked.'} Subscribe again with a valid token.` : EXPIRED;
      await stop();
      return { done: false, value: { errors: [new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } })] } };
    },
    return: stop,
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * Ends every subscription when its caller's token expires or is revoked (its signing key
 * withdrawn by the identity provider), over SSE and graphql-ws alike (the graphql-ws connection
 * itself is also closed with 4403 then): an approver whose token lapsed or was revoked must stop
 * receiving pending requests and their contexts.
 */
export function useSubscriptionDeadline(now: () => number = Date.now): Plugin {
  return {
    onSubscribe({ args }) {
      const { callerExpiresAtMs: deadline, callerRevoked, deadlineHeldByTransport } = args.contextValue as CallerDeadline;
      if (typeof deadline !== 'number' || deadlineHeldByTransport === true) return;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable<ExecutionResult>(result)) setResult(untilDeadline(result, deadline, now, callerRevoked));
        },
      };
    },
  };
}
