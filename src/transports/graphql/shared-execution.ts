import { createSourceEventStream, execute, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { visibilityKey } from '../../app/access.js';
import { PUSH, type PushableIterator } from './bounded-stream.js';
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
    const events = mapEvents(source, (event) => executeEvent(args, key, event));
    if (events.lane && typeof args.contextValue === 'object' && args.contextValue !== null) lanes.set(args.contextValue, events.lane);
    return events;
  };

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(sharedSubscribe as never);
    },
  };
}

/**
 * Delivery of a subscription's results as they are made, for a transport that writes them itself
 * (graphql-ws): results go to `deliver` synchronously, in order, with no promise per subscriber
 * and event. A result that carries errors, and every one after it, still comes out of the
 * iterator instead, through the envelop's hooks (error masking) the transport's pull goes through.
 */
export interface DirectLane {
  start(deliver: (result: ExecutionResult) => void): void;
}

/** Per subscription, by its context value: its direct lane, when its source can push. */
const lanes = new WeakMap<object, DirectLane>();

/** The direct lane of the subscription whose context value is `context`, if it has one. */
export const directLaneOf = (context: unknown): DirectLane | undefined =>
  typeof context === 'object' && context !== null ? lanes.get(context) : undefined;

/** `source` mapped event by event; `return()` reaches the source at once, even during a `next()`. */
function mapEvents(
  source: AsyncIterable<unknown>,
  map: (event: unknown) => MaybePromise<ExecutionResult>,
): AsyncIterableIterator<ExecutionResult> & { lane?: DirectLane } {
  const inner = source[Symbol.asyncIterator]();
  const pushable = PUSH in inner ? (inner as PushableIterator<unknown>) : null;

  // Once the lane has started, next() serves only what the lane hands back to the pull.
  let laneStarted = false;
  const pulled: ExecutionResult[] = [];
  let pullEnded = false;
  let pullFailure: { error: unknown } | null = null;
  let pullWaiter: (() => void) | null = null;
  const wakePull = (): void => pullWaiter?.();

  const lane: DirectLane | undefined = pushable
    ? {
        start(deliver) {
          laneStarted = true;
          let throughPull = false;
          /** Results still to settle, in order; while any is, later ones queue behind it. */
          let unsettled = 0;
          let tail: Promise<unknown> = Promise.resolve();
          const offer = (result: ExecutionResult): void => {
            if (pullFailure !== null || pullEnded) return;
            // Errors go the way the envelop masks them; everything after them too, to keep the order.
            if (throughPull || result.errors !== undefined) {
              throughPull = true;
              pulled.push(result);
              return wakePull();
            }
            deliver(result);
          };
          const settle = (then: () => void): void => {
            if (unsettled === 0) return then();
            tail = tail.then(then);
          };
          pushable[PUSH]({
            next(event) {
              let mapped: MaybePromise<ExecutionResult>;
              try {
                mapped = map(event);
              } catch (error) {
                return this.fail(error);
              }
              if (unsettled === 0 && !(mapped instanceof Promise)) return offer(mapped);
              unsettled += 1;
              tail = tail.then(
                () => mapped,
              ).then(
                (result) => {
                  unsettled -= 1;
                  offer(result);
                },
                (error: unknown) => {
                  unsettled -= 1;
                  pullFailure ??= { error };
                  wakePull();
                },
              );
            },
            fail(error) {
              settle(() => {
                pullFailure ??= { error };
                wakePull();
              });
            },
            end() {
              settle(() => {
                pullEnded = true;
                wakePull();
              });
            },
          });
        },
      }
    : undefined;

  const nextPulled = async (): Promise<IteratorResult<ExecutionResult>> => {
    for (;;) {
      const result = pulled.shift();
      if (result !== undefined) return { done: false, value: result };
      if (pullFailure !== null) {
        const { error } = pullFailure;
        pullFailure = null;
        pullEnded = true;
        throw error;
      }
      if (pullEnded) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (pullWaiter = resolve));
      pullWaiter = null;
    }
  };

  const iterator: AsyncIterableIterator<ExecutionResult> & { lane?: DirectLane } = endingWithSource<ExecutionResult>(inner, async () => {
    if (laneStarted) return nextPulled();
    const result = await inner.next();
    if (result.done) return { done: true, value: undefined };
    const mapped = map(result.value);
    return { done: false, value: mapped instanceof Promise ? await mapped : mapped };
  });
  // return() ends the source, whose end wakes a pull waiting on the lane.
  if (lane) iterator.lane = lane;
  return iterator;
}
