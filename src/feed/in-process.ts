import type { ApprovalChange } from '../app/events.js';
import { FeedGapError, type ChangeFeed, type ChangeStream, type FeedChange, type StreamedChange } from './feed.js';

/** Changes buffered for one subscriber that is not reading before its stream is ended. */
const MAX_BUFFERED_CHANGES = 10_000;
/** Changes kept per tenant for consumers that resume after a position. */
const RETAINED_CHANGES = 500;

type Listener = (change: FeedChange) => void;

interface Topic {
  seq: number;
  retained: FeedChange[];
  /** Streams of every change of the tenant. */
  listeners: Set<Listener>;
  /** Streams of one approval's changes, by its id: a change wakes its own followers only. */
  byApproval: Map<string, Set<Listener>>;
  /** Streams open, of both kinds. */
  streams: number;
}

/**
 * The in-process change feed, one topic per tenant so that no event can cross tenants. The gate
 * publishes after each commit, in commit order, and each change is numbered per tenant.
 *
 * Unlike a lazily started iterator, `subscribe` registers its listener before it returns: a
 * subscription that reads the current state after subscribing cannot miss a change made between
 * the two, because that change is buffered.
 */
export class InProcessChangeFeed implements ChangeFeed {
  private readonly topics = new Map<string, Topic>();

  publish(change: ApprovalChange): void {
    this.deliver({ ...change, seq: this.lastSeq(change.approval.tenant) + 1 });
  }

  /**
   * Hands a change numbered elsewhere (by a feed shared between instances) to this process's
   * subscribers; `numbered.seq` must follow the tenant's previous one.
   */
  deliver(numbered: FeedChange): void {
    const topic = this.topic(numbered.approval.tenant);
    topic.seq = numbered.seq;
    topic.retained.push(numbered);
    if (topic.retained.length > RETAINED_CHANGES) topic.retained.shift();
    for (const listener of topic.listeners) listener(numbered);
    const followers = topic.byApproval.get(numbered.approval.id);
    if (followers) for (const listener of followers) listener(numbered);
  }

  lastSeq(tenant: string): number {
    return this.topics.get(tenant)?.seq ?? 0;
  }

  subscribe(tenant: string, options: { afterSeq?: number; approvalId?: string } = {}): ChangeStream {
    const topic = this.topic(tenant);
    const { approvalId } = options;
    const buffer: StreamedChange[] = [];
    if (options.afterSeq !== undefined && options.afterSeq < topic.seq) {
      const oldest = topic.retained[0]?.seq ?? topic.seq + 1;
      if (options.afterSeq + 1 < oldest) throw new FeedGapError(options.afterSeq, oldest);
      buffer.push(
        ...topic.retained.filter((change) => change.seq > (options.afterSeq as number) && (approvalId === undefined || change.approval.id === approvalId)),
      );
    }
    const waiting: ((result: IteratorResult<StreamedChange>) => void)[] = [];
    let closed = false;
    let pushed: ((change: StreamedChange) => void) | null = null;
    let onEnd: (() => void) | null = null;
    const listener = (change: FeedChange): void => {
      if (pushed) return pushed(change);
      const reader = waiting.shift();
      if (reader) reader({ done: false, value: change });
      // A subscriber that stopped reading must not grow the server's memory without bound: its
      // stream ends, and it resubscribes with `current: true` to catch up.
      else if (buffer.length >= MAX_BUFFERED_CHANGES) void stream.return();
      else buffer.push(change);
    };
    let listeners = topic.listeners;
    if (approvalId !== undefined) {
      listeners = topic.byApproval.get(approvalId) ?? new Set();
      topic.byApproval.set(approvalId, listeners);
    }
    listeners.add(listener);
    topic.streams += 1;

    const stream: ChangeStream = {
      next() {
        const value = buffer.shift();
        if (value !== undefined) return Promise.resolve({ done: false, value });
        if (closed) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => waiting.push(resolve));
      },
      return: () => {
        if (!closed) {
          closed = true;
          listeners.delete(listener);
          topic.streams -= 1;
          if (listeners.size === 0 && topic.byApproval.get(approvalId as string) === listeners) topic.byApproval.delete(approvalId as string);
          buffer.length = 0;
          for (const reader of waiting.splice(0)) reader({ done: true, value: undefined });
          onEnd?.();
        }
        return Promise.resolve({ done: true, value: undefined });
      },
      prepend(states) {
        if (pushed) {
          for (const state of states) pushed(state);
          return;
        }
        for (const state of [...states].reverse()) {
          const reader = waiting.shift();
          if (reader) reader({ done: false, value: state });
          else buffer.unshift(state);
        }
      },
      listen(receive, ended) {
        pushed = receive;
        onEnd = ended;
        for (const change of buffer.splice(0)) if (!closed) receive(change);
        if (closed) ended();
      },
      [Symbol.asyncIterator]() {
        return stream;
      },
    };
    return stream;
  }

  subscriberCount(tenant: string): number {
    return this.topics.get(tenant)?.streams ?? 0;
  }

  private topic(tenant: string): Topic {
    let topic = this.topics.get(tenant);
    if (!topic) this.topics.set(tenant, (topic = { seq: 0, retained: [], listeners: new Set(), byApproval: new Map(), streams: 0 }));
    return topic;
  }
}
