import { createSourceEventStream, execute, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { visibilityKey } from '../../app/access.js';
import type { Context } from './context.js';
import { endingWithSource, isAsyncIterable } from './event-streams.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * Executes a subscription's selection once per distinct (event, document, operation, variables,
 * visibility) and hands every subscriber of that group the same result object.
 *
 * graphql-js runs the selection of every event once per subscriber: with 1,000 approvers following
 * `pendingApprovals` one new request costs 1,000 identical executions, and those dominate the
 * fan-out. Here each subscriber still runs its own subscribe resolver (its caller, its filter), but
 * the events it yields are shared objects (the feed's change, or one event made per change), so
 * the first subscriber to pull an event executes it and the others reuse that result.
 *
 * Sharing is sound because what a subscription's fields resolve to depends only on the event
 * and on what `visibilityKey` keeps of the caller: an event that carries something for one caller
 * alone (the requester's decision token) is a distinct object of that subscriber's stream, and so
 * is never shared. Results are kept in a WeakMap on the event and go with it.
 */
export function useSharedSubscriptionExecution(): Plugin<Context> {
  const results = new WeakMap<object, Map<string, MaybePromise<ExecutionResult>>>();
  const documentTexts = new WeakMap<DocumentNode, string>();

  /** The document's source text (or its printed form when parsed without locations). */
  const documentText = (document: DocumentNode): string => {
    let text = documentTexts.get(document);
    if (text === undefined) documentTexts.set(document, (text = document.loc?.source.body ?? print(document)));
    return text;
  };

  const executeEvent = (args: ExecutionArgs, key: string, event: unknown): MaybePromise<ExecutionResult> => {
    if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
    let byKey = results.get(event);
    if (!byKey) results.set(event, (byKey = new Map()));
    let result = byKey.get(key);
    if (result === undefined) {
      result = execute({ ...args, rootValue: event });
      byKey.set(key, result);
    }
    return result;
  };

  const sharedSubscribe = async (args: ExecutionArgs): Promise<ExecutionResult | AsyncIterableIterator<ExecutionResult>> => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const context = args.contextValue as Partial<Context> | undefined;
    const caller = context?.caller && !(context.caller instanceof Error) ? context.caller : null;
    const key = [documentText(args.document), args.operationName ?? '', JSON.stringify(args.variableValues ?? {}), visibilityKey(caller)].join('\u0000');
    return mapEvents(source, (event) => executeEvent(args, key, event));
  };

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(sharedSubscribe as never);
    },
  };
}

/** `source` mapped event by event; `return()` reaches the source at once, even during a `next()`. */
function mapEvents(source: AsyncIterable<unknown>, map: (event: unknown) => MaybePromise<ExecutionResult>): AsyncIterableIterator<ExecutionResult> {
  const inner = source[Symbol.asyncIterator]();
  return endingWithSource<ExecutionResult>(inner, async () => {
    const result = await inner.next();
    if (result.done) return { done: true, value: undefined };
    const mapped = map(result.value);
    return { done: false, value: mapped instanceof Promise ? await mapped : mapped };
  });
}
