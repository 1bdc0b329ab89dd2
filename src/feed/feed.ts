import type { ApprovalChange, ChangePublisher } from '../app/events.js';
import type { ApprovalView } from '../app/views.js';

/** A committed change as the feed delivers it: numbered per tenant, in commit order. */
export interface FeedChange extends ApprovalChange {
  /** Position in the tenant's feed, from 1; a consumer resumes after the last one it handled. */
  seq: number;
}

/** The state of an approval read after a stream started listening (a `current: true` snapshot). */
export interface CurrentState {
  kind: 'current';
  approval: ApprovalView;
  previousStatus: null;
  seq?: undefined;
}

/** What a stream carries: committed changes, and any snapshot put ahead of them. */
export type StreamedChange = FeedChange | CurrentState;

/** An async iterator that is already listening when it is returned. */
export interface ChangeStream extends AsyncIterableIterator<StreamedChange> {
  /** Puts states ahead of everything buffered so far (the snapshot of a `current` subscription). */
  prepend(states: readonly CurrentState[]): void;
  /**
   * Hands what is buffered, then every change (and state prepended) as it arrives, to `listener`,
   * synchronously, in place of `next()`: a consumer that keeps its own bounded buffer (a GraphQL
   * subscriber) then spends no promise per change, which at thousands of subscribers of one
   * tenant is most of the fan-out's cost. The stream no longer buffers nor bounds anything itself;
   * `ended` is called once when it stops (its `return()`, by the consumer or by the feed).
   */
  listen(listener: (change: StreamedChange) => void, ended: () => void): void;
  return(): Promise<IteratorResult<StreamedChange>>;
}

/** Resuming after `afterSeq` is no longer possible: the feed kept changes from `oldestSeq` only. */
export class FeedGapError extends Error {
  readonly code = 'FEED_GAP';
  constructor(
    readonly afterSeq: number,
    readonly oldestSeq: number,
  ) {
    super(`changes after ${afterSeq} are no longer kept (oldest: ${oldestSeq}); read the current state instead`);
    this.name = 'FeedGapError';
  }
}

/**
 * The change feed: the gate publishes committed changes to it, and consumers (GraphQL
 * subscriptions today) subscribe per tenant, never the reverse. It depends on nothing but the
 * change's shape, so another adapter (a broker shared by several instances) can stand in for the
 * in-process one.
 */
export interface ChangeFeed extends ChangePublisher {
  /**
   * Changes of `tenant` from this call on, buffered until read; `return()` stops listening. With
   * `afterSeq`, the kept changes after that position come first (FeedGapError if some are lost).
   * With `approvalId`, only that approval's changes: a change then reaches the streams that
   * follow it, not every stream of the tenant (a hundred agents each waiting for its own decision).
   */
  subscribe(tenant: string, options?: { afterSeq?: number; approvalId?: string }): ChangeStream;
  /** The position of the tenant's latest change (0 before the first). */
  lastSeq(tenant: string): number;
  /** How many streams are listening to `tenant`. */
  subscriberCount(tenant: string): number;
}
