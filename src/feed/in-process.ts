import type { ApprovalChange } from '../app/events.js';
import type { ChangeFeed, ChangeStream, StreamedChange } from './feed.js';

/** Changes buffered for one subscriber that is not reading before its stream is ended. */
const MAX_BUFFERED_CHANGES = 10_000;

/**
 * The in-process change feed, one topic per tenant so that no event can cross tenants.
 *
 * Unlike a lazily started iterator, `subscribe` registers its listener before it returns: a
 * subscription that reads the current state after subscribing cannot miss a change made between
 * the two, because that change is buffered.
 */
export class InProcessChangeFeed implements ChangeFeed {
  private readonly listeners = new Map<string, Set<(change: StreamedChange) => void>>();

  publish(change: ApprovalChange): void {
    for (const listener of this.listeners.get(change.approval.tenant) ?? []) listener(change);
  }

  subscribe(tenant: string): ChangeStream {
    const buffer: StreamedChange[] = [];
    const waiting: ((result: IteratorResult<StreamedChange>) => void)[] = [];
    let closed = false;
    const listener = (change: StreamedChange): void => {
      const reader = waiting.shift();
      if (reader) reader({ done: false, value: change });
      // A subscriber that stopped reading must not grow the server's memory without bound: its
      // stream ends, and it resubscribes with `current: true` to catch up.
      else if (buffer.length >= MAX_BUFFERED_CHANGES) void stream.return();
      else buffer.push(change);
    };
    const topic = this.listeners.get(tenant) ?? new Set();
    topic.add(listener);
    this.listeners.set(tenant, topic);

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
          topic.delete(listener);
          if (topic.size === 0 && this.listeners.get(tenant) === topic) this.listeners.delete(tenant);
          buffer.length = 0;
          for (const reader of waiting.splice(0)) reader({ done: true, value: undefined });
        }
        return Promise.resolve({ done: true, value: undefined });
      },
      prepend(changes) {
        for (const change of [...changes].reverse()) {
          const reader = waiting.shift();
          if (reader) reader({ done: false, value: change });
          else buffer.unshift(change);
        }
      },
      [Symbol.asyncIterator]() {
        return stream;
      },
    };
    return stream;
  }

  subscriberCount(tenant: string): number {
    return this.listeners.get(tenant)?.size ?? 0;
  }
}
