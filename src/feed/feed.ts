import type { ApprovalChange, ChangePublisher } from '../app/events.js';

/**
 * What a subscription stream carries: a committed change, or (kind `current`) the state of an
 * approval read after the stream started listening, so that a late subscriber misses nothing.
 */
export interface StreamedChange extends Omit<ApprovalChange, 'kind'> {
  kind: ApprovalChange['kind'] | 'current';
}

/** An async iterator that is already listening when it is returned. */
export interface ChangeStream extends AsyncIterableIterator<StreamedChange> {
  /** Puts changes ahead of everything buffered so far (the snapshot of a `current` subscription). */
  prepend(changes: readonly StreamedChange[]): void;
  return(): Promise<IteratorResult<StreamedChange>>;
}

/**
 * The change feed: the gate publishes committed changes to it, and consumers (GraphQL
 * subscriptions today) subscribe per tenant. It depends on nothing but the change's shape, so
 * another adapter (a broker shared by several instances) can stand in for the in-process one.
 */
export interface ChangeFeed extends ChangePublisher {
  /** Changes of `tenant` from this call on, buffered until read; `return()` stops listening. */
  subscribe(tenant: string): ChangeStream;
  /** How many streams are listening to `tenant`. */
  subscriberCount(tenant: string): number;
}
