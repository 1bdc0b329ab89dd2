import { Redis } from 'ioredis';
import type { ApprovalChange } from '../app/events.js';
import type { ApprovalView } from '../app/views.js';
import { FeedGapError, type ChangeFeed, type ChangeStream, type FeedChange } from './feed.js';
import { InProcessChangeFeed } from './in-process.js';

export interface RedisChangeFeedOptions {
  /** `redis://host:6379` (or `rediss://` for TLS). */
  url: string;
  /** Prefix of every key and channel; instances sharing a database must share it. */
  prefix?: string;
  /** Redis errors (failed publishes, lost connections, unreadable messages): the metrics count them. */
  onError?: (error: unknown) => void;
}

/**
 * Numbers the change and publishes it in one step, so that Redis hands changes to every instance
 * in the order it numbered them: HINCRBY on the tenant's counter, then PUBLISH "<seq>\n<change>".
 */
const PUBLISH_SCRIPT = `
local seq = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PUBLISH', ARGV[2], seq .. '\\n' .. ARGV[3])
return seq
`;

interface FeedCommands {
  publishChange(seqKey: string, tenant: string, channel: string, message: string): Promise<number>;
}

/**
 * The change feed shared by every instance through Redis pub/sub.
 *
 * Numbering: each tenant's changes are numbered by Redis (a counter per tenant, incremented by the
 * script that publishes), so `seq` is one sequence across all instances, without gaps, and every
 * instance receives the changes in that order. Changes of one approval are committed one after the
 * other under the database's writer lock and each is published as its transaction commits, so they
 * are numbered in commit order too; changes of different approvals committed at the same moment
 * on two instances are numbered in the order their publishes reach Redis.
 *
 * Listening: one connection per instance subscribes to the feed's channel before the feed is
 * returned, and every change (this instance's own included) reaches local subscribers as Redis
 * hands it back. `subscribe` therefore listens from the moment it returns, as the in-process feed
 * does: a `current: true` subscriber that reads the state after subscribing misses nothing, on
 * whichever instance it lands.
 *
 * Pub/sub keeps no history, so resuming after a position is served from the changes this instance
 * has received (the in-process feed's retention), and refused with {@link FeedGapError} for a
 * position before them. When the connection drops, changes published meanwhile are lost to this
 * instance: every local stream is ended, so clients resubscribe (with `current: true`) instead of
 * silently missing them. Decision tokens never cross Redis: the feed carries none.
 */
export class RedisChangeFeed implements ChangeFeed {
  private readonly local = new InProcessChangeFeed();
  /** Every open stream, with its tenant. */
  private readonly streams = new Map<ChangeStream, string>();
  /** Per tenant, every change numbered above this has been (or is being) received here. */
  private readonly receivedAfter = new Map<string, number>();
  private readonly seqKey: string;
  private readonly channel: string;
  private listening = false;
  private started = false;
  private closed = false;

  private constructor(
    private readonly options: RedisChangeFeedOptions,
    private readonly publisher: Redis & FeedCommands,
    private readonly subscriber: Redis,
  ) {
    const prefix = options.prefix ?? 'countersign:';
    this.seqKey = `${prefix}feed:seq`;
    this.channel = `${prefix}feed:changes`;
  }

  /** Connects (one connection publishes, one listens) and is listening when it resolves. */
  static async connect(options: RedisChangeFeedOptions): Promise<RedisChangeFeed> {
    // No offline queue: a publish while Redis is unreachable fails at once (and ends the tenant's
    // streams) rather than arriving later out of order.
    const common = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 } as const;
    const publisher = new Redis(options.url, { ...common, connectionName: 'countersign-publish' }) as Redis & FeedCommands;
    const subscriber = new Redis(options.url, { ...common, connectionName: 'countersign-feed' });
    publisher.defineCommand('publishChange', { numberOfKeys: 1, lua: PUBLISH_SCRIPT });
    const feed = new RedisChangeFeed(options, publisher, subscriber);
    for (const connection of [publisher, subscriber]) connection.on('error', (error: unknown) => feed.options.onError?.(error));
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === feed.channel) feed.receive(message);
    });
    // Changes published while the connection was down never arrive: end what may have missed them.
    subscriber.on('close', () => {
      if (feed.listening) feed.endStreams();
      feed.listening = false;
    });
    // ioredis subscribes again on reconnect; the positions received must be read again after that
    // (through the publishing connection, which may come back a little later).
    for (const connection of [subscriber, publisher]) {
      connection.on('ready', () => {
        // Before `connect` has finished, it resynchronises itself.
        if (feed.started && !feed.closed && !feed.listening && subscriber.status === 'ready' && publisher.status === 'ready') {
          void feed.resynchronise();
        }
      });
    }
    try {
      await Promise.all([publisher.connect(), subscriber.connect()]);
      await subscriber.subscribe(feed.channel);
      await feed.resynchronise();
      if (!feed.listening) throw new Error('could not read the change feed positions from Redis');
      feed.started = true;
    } catch (error) {
      publisher.disconnect();
      subscriber.disconnect();
      throw error;
    }
    return feed;
  }

  publish(change: ApprovalChange): void {
    if (this.closed) return;
    const tenant = change.approval.tenant;
    // The feed never carries a token; this holds even for a caller that passed one by mistake.
    const message = JSON.stringify({ ...change, approval: { ...change.approval, decisionToken: null } });
    this.publisher.publishChange(this.seqKey, tenant, this.channel, message).catch((error: unknown) => {
      this.options.onError?.(error);
      // Nobody, here or elsewhere, will hear of this change: the tenant's subscribers start over.
      this.endStreams(tenant);
    });
  }

  subscribe(tenant: string, options: { afterSeq?: number; approvalId?: string } = {}): ChangeStream {
    if (options.afterSeq !== undefined) {
      const from = this.listening ? (this.receivedAfter.get(tenant) ?? 0) : Number.POSITIVE_INFINITY;
      if (options.afterSeq < from) throw new FeedGapError(options.afterSeq, Number.isFinite(from) ? from + 1 : this.local.lastSeq(tenant) + 1);
    }
    const stream = this.local.subscribe(tenant, options);
    const end = stream.return.bind(stream);
    this.streams.set(stream, tenant);
    stream.return = () => {
      this.streams.delete(stream);
      return end();
    };
    return stream;
  }

  lastSeq(tenant: string): number {
    return Math.max(this.local.lastSeq(tenant), this.receivedAfter.get(tenant) ?? 0);
  }

  subscriberCount(tenant: string): number {
    return this.local.subscriberCount(tenant);
  }

  /** Both connections are up and listening (readiness). */
  get connected(): boolean {
    return this.listening && this.publisher.status === 'ready' && this.subscriber.status === 'ready';
  }

  /** Round trip to Redis (readiness); rejects when it is unreachable. */
  async ping(): Promise<void> {
    if (!this.connected) throw new Error('not connected to Redis');
    await this.publisher.ping();
  }

  /** Ends every stream and closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.endStreams();
    await Promise.allSettled([this.subscriber.quit(), this.publisher.quit()]);
  }

  /** After (re)subscribing: every change numbered above the current counters will arrive here. */
  private async resynchronise(): Promise<void> {
    try {
      const counters = await this.publisher.hgetall(this.seqKey);
      this.receivedAfter.clear();
      for (const [tenant, seq] of Object.entries(counters)) this.receivedAfter.set(tenant, Number(seq));
      // Streams opened while the connection was down may have missed changes.
      this.endStreams();
      this.listening = true;
    } catch (error) {
      this.options.onError?.(error);
      // Either connection dropped again: its next 'ready' tries once more.
    }
  }

  private receive(message: string): void {
    let change: FeedChange;
    try {
      const newline = message.indexOf('\n');
      const parsed = JSON.parse(message.slice(newline + 1)) as ApprovalChange;
      change = { ...parsed, approval: reviveDates(parsed.approval), seq: Number(message.slice(0, newline)) };
      if (!Number.isSafeInteger(change.seq) || typeof change.approval?.tenant !== 'string') throw new Error('malformed change');
    } catch (error) {
      this.options.onError?.(new Error(`unreadable change on the feed: ${(error as Error).message}`));
      return;
    }
    this.local.deliver(change);
  }

  private endStreams(tenant?: string): void {
    for (const [stream, of] of [...this.streams]) if (tenant === undefined || of === tenant) void stream.return();
  }
}

/** JSON carries instants as ISO strings; the views hold Dates. */
function reviveDates(approval: ApprovalView & { decisionToken: null }): ApprovalView & { decisionToken: null } {
  const at = (value: unknown): Date | null => (value === null || value === undefined ? null : new Date(value as string));
  return {
    ...approval,
    expiresAt: at(approval.expiresAt) as Date,
    createdAt: at(approval.createdAt) as Date,
    updatedAt: at(approval.updatedAt) as Date,
    decidedAt: at(approval.decidedAt),
    tokenExpiresAt: at(approval.tokenExpiresAt),
    decisions: approval.decisions.map((vote) => ({ ...vote, decidedAt: at(vote.decidedAt) as Date })),
  };
}
