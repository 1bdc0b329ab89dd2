import type { EntityManager, MikroORM } from '@mikro-orm/core';
import type { Committer } from '../db/committer.js';
import { NotificationChannel } from '../db/entities/notification-channel.entity.js';
import { NotificationDelivery } from '../db/entities/notification-delivery.entity.js';
import { selectData } from '../db/fast-paths.js';
import { findData } from '../db/orm.js';
import type { ChangeFeed, ChangeStream } from '../feed/feed.js';
import type { NotifyConfig } from './config.js';
import { CursorMovedError, Outbox, type ChannelRow } from './outbox.js';
import { ChannelLanes, type LaneOptions } from './channel-lanes.js';

export interface DispatcherOptions extends Omit<LaneOptions, 'now' | 'random'> {
  orm: MikroORM;
  /**
   * The change feed: a committed change of a tenant with channels wakes a pass at once (with a
   * shared feed, a change made on any instance). Without it, passes run at the poll interval.
   */
  changes?: ChangeFeed;
  now?: () => Date;
  random?: () => number;
}

/** The shortest pause between two passes that a wake-up may cause: under load, wake-ups coalesce. */
const MIN_PASS_GAP_MS = 20;

/**
 * Turns the audit trail into notifications and delivers them.
 *
 * The audit trail is the outbox: every state change writes its audit event in its own
 * transaction, ordered per tenant by `seq`. A pass reads each tenant's events after a durable
 * cursor, writes one delivery per (channel, event) — unique, so nothing is created twice — and
 * advances the cursor with a compare-and-set in the same transaction. Passes are woken by the
 * change feed (each tenant with an enabled channel is followed, so a change committed on any
 * instance sharing the feed wakes every dispatcher) and by a poll (the fallback: the feed is a
 * wake-up, never the source of what is sent); wake-ups coalesce into one pending pass, and passes
 * never run inside a request.
 *
 * Delivering is per channel, by {@link ChannelLanes}. A lane learns of due work from a pass that
 * wrote deliveries for it, from its own retries falling due, and from the poll (work of other
 * instances, leases that ran out).
 *
 * Sending happens outside any transaction, and each outcome is recorded with the attempt. A crash
 * at any point loses nothing: unread events are read after the restart, and a claimed delivery's
 * lease runs out. Several dispatchers can share one database: the cursor's compare-and-set and
 * the lease make each event become one delivery and each attempt be made by one of them (at
 * least once, never twice at the same moment). An attempt starts only under a lease that outlasts
 * its timeout; a queued delivery whose lease is getting short has it renewed first.
 */
export class NotificationDispatcher {
  private readonly orm: MikroORM;
  private readonly committer: Committer;
  private readonly config: NotifyConfig;
  private readonly log: (line: string) => void;
  private readonly now: () => Date;
  private readonly outbox: Outbox;
  private readonly changes: ChangeFeed | undefined;
  private readonly lanes: ChannelLanes;
  /** The feed streams followed, one per tenant with an enabled channel. */
  private readonly followed = new Map<string, ChangeStream>();
  private stopped = true;
  private passing = false;
  private passAgain = false;
  /** The next pass should look at every channel's due deliveries, not only the ones it writes. */
  private sweep = false;
  private lastPassEnded = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;

  constructor(options: DispatcherOptions) {
    this.orm = options.orm;
    this.committer = options.committer;
    this.config = options.config;
    this.log = options.log;
    this.now = options.now ?? (() => new Date());
    this.outbox = new Outbox(options.config.publicUrl);
    this.changes = options.changes;
    this.lanes = new ChannelLanes({ ...options, now: this.now, random: options.random ?? Math.random });
  }

  /**
   * Starts dispatching. Deliveries waiting for a retry are brought forward to now: after a
   * restart they resume within seconds rather than at their next backoff step.
   */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.lanes.start();
    await this.orm.em
      .fork()
      .nativeUpdate(NotificationDelivery, { status: 'RETRYING', nextAttemptAt: { $gt: this.now() } }, { nextAttemptAt: this.now() });
    this.pollTimer = setInterval(() => this.wake(), this.config.pollMs);
    this.pollTimer.unref();
    this.wake();
  }

  /**
   * Stops passes, claims and timers, waits for the attempts in flight and gives the deliveries
   * still queued back (see {@link ChannelLanes.stop}).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.follow(new Set());
    await this.lanes.stop();
  }

  /**
   * Asks for a pass soon that also looks at every channel's due deliveries; never waits for it.
   * Called when channels or deliveries changed (an admin's change, a replay) and by the poll.
   */
  wake(): void {
    this.sweep = true;
    this.passSoon();
  }

  /** Asks for a pass soon, unless one is already asked for: any number of wake-ups make one pass. */
  private passSoon(): void {
    if (this.stopped || this.wakeTimer) return;
    const gap = Math.max(0, this.lastPassEnded + MIN_PASS_GAP_MS - Date.now());
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      void this.pass();
    }, gap);
  }

  private async pass(): Promise<void> {
    if (this.passing) {
      this.passAgain = true;
      return;
    }
    this.passing = true;
    try {
      do {
        this.passAgain = false;
        if (this.stopped) break;
        const sweep = this.sweep;
        this.sweep = false;
        const owed = await this.ingest();
        this.lanes.markOwed((channelId) => sweep || owed.has(channelId));
      } while (this.passAgain);
    } catch (error) {
      if (!(error instanceof CursorMovedError)) this.log(`notify: dispatcher pass failed: ${(error as Error).message}`);
      else this.passAgain = true;
    } finally {
      this.passing = false;
      this.lastPassEnded = Date.now();
    }
    if (this.passAgain) this.passSoon();
  }

  /**
   * One transaction: new audit events become deliveries, lapsing requests become
   * `approval.expiring`. Returns the channels that were owed something.
   */
  private async ingest(): Promise<Set<string>> {
    const now = this.now();
    // Without a channel there is nothing to do: no transaction, so a server without channels pays
    // nothing. With lanes, the last pass found channels: the transaction reads them anyway.
    if (this.lanes.size === 0 && (await this.orm.em.fork().count(NotificationChannel, { enabled: true })) === 0) {
      this.follow(new Set());
      return new Set();
    }
    return this.write(async (tx) => {
      const channels = (
        ((await selectData(tx, NotificationChannel, 'where `enabled` = 1 order by `created_at`', [])) ??
          (await findData(tx, NotificationChannel, { enabled: true }, { orderBy: [{ createdAt: 'asc' }] }))) as ChannelRow[]
      ).map(normaliseChannel);
      this.follow(new Set(channels.map((channel) => channel.tenant)));
      this.lanes.sync(channels);
      const byTenant = new Map<string, ChannelRow[]>();
      for (const channel of channels) byTenant.set(channel.tenant, [...(byTenant.get(channel.tenant) ?? []), channel]);
      const owed = new Set<string>();
      for (const [tenant, tenantChannels] of byTenant) {
        const ingested = await this.outbox.ingestTenant(tx, tenant, tenantChannels, now);
        for (const id of ingested.owed) owed.add(id);
        if (ingested.more) this.passAgain = true;
      }
      for (const id of await this.outbox.deriveExpiring(tx, byTenant, now, this.config.pollMs)) owed.add(id);
      return owed;
    });
  }

  /**
   * Follows the feed of each tenant in `tenants` and stops following the others. A stream that
   * ends (the shared feed lost its connection) is dropped and a pass is asked for, which follows
   * the tenant again and reads whatever was committed meanwhile from the audit trail.
   */
  private follow(tenants: Set<string>): void {
    for (const [tenant, stream] of this.followed) {
      if (tenants.has(tenant) && !this.stopped) continue;
      this.followed.delete(tenant);
      void stream.return();
    }
    if (!this.changes || this.stopped) return;
    for (const tenant of tenants) {
      if (this.followed.has(tenant)) continue;
      let stream: ChangeStream;
      try {
        stream = this.changes.subscribe(tenant);
      } catch (error) {
        this.log(`notify: following the change feed of ${tenant} failed: ${(error as Error).message}`);
        continue;
      }
      this.followed.set(tenant, stream);
      void (async () => {
        for await (const _change of stream) this.passSoon();
        if (this.followed.get(tenant) === stream) {
          this.followed.delete(tenant);
          this.wake();
        }
      })().catch((error: unknown) => this.log(`notify: the change feed of ${tenant} failed: ${(error as Error).message}`));
    }
  }

  /** Runs `work` as one job of the committer: in the transaction of its next batch, all or nothing. */
  private write<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.committer.run(async (unit) => work(unit.em));
  }
}

/** Booleans come back from SQLite as 0 and 1 in plain rows. */
function normaliseChannel(channel: ChannelRow): ChannelRow {
  return { ...channel, enabled: Boolean(channel.enabled), includeContext: Boolean(channel.includeContext) };
}
