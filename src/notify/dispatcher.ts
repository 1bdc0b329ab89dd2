import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { NotificationAttempt } from '../db/entities/notification-attempt.entity.js';
import { NotificationChannel } from '../db/entities/notification-channel.entity.js';
import { NotificationDelivery, type NotificationDeliveryStatus } from '../db/entities/notification-delivery.entity.js';
import { findData } from '../db/orm.js';
import type { ChangeFeed, ChangeStream } from '../feed/feed.js';
import type { NotifyConfig } from './config.js';
import { dueDeliveries, lease, nextRetryAt, recordedAttempt } from './delivery-queue.js';
import { CursorMovedError, Outbox, type ChannelRow } from './outbox.js';
import { channelSecretAad, type SecretBox } from './secret-box.js';
import { Senders, type AttemptOutcome } from './senders.js';

export interface DispatcherOptions {
  orm: MikroORM;
  config: NotifyConfig;
  secrets: SecretBox;
  /** Receives one line per attempt and per dispatcher failure. */
  log: (line: string) => void;
  /**
   * The change feed: a committed change of a tenant with channels wakes a pass at once (with a
   * shared feed, a change made on any instance). Without it, passes run at the poll interval.
   */
  changes?: ChangeFeed;
  /** Hears of every recorded attempt (the deliveries-by-status metric). */
  onAttempt?: (channelKind: string, status: NotificationDeliveryStatus) => void;
  now?: () => Date;
  random?: () => number;
}

type DeliveryRow = NotificationDelivery;

/** Due deliveries claimed per pass. */
const CLAIMS_PER_PASS = 256;
/** The shortest pause between two passes that a wake-up may cause: under load, wake-ups coalesce. */
const MIN_PASS_GAP_MS = 20;

/**
 * Turns the audit trail into notifications and delivers them.
 *
 * The audit trail is the outbox: every state change writes its audit event in its own
 * transaction, ordered per tenant by `seq`. A pass reads each tenant's events after a durable
 * cursor, writes one delivery per (channel, event) — unique, so nothing is created twice — and
 * advances the cursor with a compare-and-set in the same transaction; then it claims due
 * deliveries with a lease token. Sending happens outside any transaction, and each outcome is
 * recorded with the attempt. A crash at any point loses nothing: unread events are read after the
 * restart, and a claimed delivery's lease runs out. Several dispatchers can share one database:
 * the cursor's compare-and-set and the lease make each event become one delivery and each
 * attempt be made by one of them (at least once, never twice at the same moment).
 *
 * Passes are woken by the change feed (each tenant with an enabled channel is followed, so a
 * change committed on any instance sharing the feed wakes every dispatcher: low latency) and by a
 * poll (the fallback: the feed is a wake-up, never the source of what is sent), and never run
 * inside a request.
 */
export class NotificationDispatcher {
  private readonly orm: MikroORM;
  private readonly config: NotifyConfig;
  private readonly secrets: SecretBox;
  private readonly log: (line: string) => void;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly senders: Senders;
  private readonly outbox: Outbox;
  private readonly changes: ChangeFeed | undefined;
  private readonly onAttempt: DispatcherOptions['onAttempt'];
  /** The feed streams followed, one per tenant with an enabled channel. */
  private readonly followed = new Map<string, ChangeStream>();
  private stopped = true;
  private passing = false;
  private passAgain = false;
  private lastPassEnded = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = Number.POSITIVE_INFINITY;
  /** Attempts in flight per channel. */
  private readonly inFlight = new Map<string, number>();
  private readonly attempts = new Set<Promise<void>>();
  /** Outcomes waiting to be written, with their log lines. */
  private readonly unrecorded: {
    deliveryId: string;
    leaseToken: string;
    update: Record<string, unknown>;
    attempt: NotificationAttempt;
    line: string;
  }[] = [];
  private flushing: Promise<void> | null = null;
  /** A due delivery waited because its channel had no free slot: a finished attempt should look again. */
  private starved = false;

  constructor(options: DispatcherOptions) {
    this.orm = options.orm;
    this.config = options.config;
    this.secrets = options.secrets;
    this.log = options.log;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.senders = new Senders(options.config);
    this.outbox = new Outbox(options.config.publicUrl);
    this.changes = options.changes;
    this.onAttempt = options.onAttempt;
  }

  /**
   * Starts dispatching. Deliveries waiting for a retry are brought forward to now: after a
   * restart they resume within seconds rather than at their next backoff step.
   */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.orm.em
      .fork()
      .nativeUpdate(NotificationDelivery, { status: 'RETRYING', nextAttemptAt: { $gt: this.now() } }, { nextAttemptAt: this.now() });
    this.pollTimer = setInterval(() => this.wake(), this.config.pollMs);
    this.pollTimer.unref();
    this.wake();
  }

  /** Stops passes and timers, then waits for the attempts in flight (each bounded by the timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.wakeTimer);
    clearTimeout(this.retryTimer);
    this.wakeTimer = undefined;
    this.follow(new Set());
    await Promise.allSettled([...this.attempts]);
    await this.flushing;
    this.senders.close();
  }

  /** Asks for a pass soon; never waits for it. Called after every committed change. */
  wake(): void {
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
        const claimed = await this.ingestAndClaim();
        for (const item of claimed) this.attempt(item.delivery, item.channel, item.leaseToken);
      } while (this.passAgain);
    } catch (error) {
      if (!(error instanceof CursorMovedError)) this.log(`notify: dispatcher pass failed: ${(error as Error).message}`);
      else this.passAgain = true;
    } finally {
      this.passing = false;
      this.lastPassEnded = Date.now();
    }
    if (this.passAgain) this.wake();
  }

  /** One transaction: new audit events become deliveries, lapsing requests become `approval.expiring`, due deliveries are leased. */
  private async ingestAndClaim(): Promise<{ delivery: DeliveryRow; channel: ChannelRow; leaseToken: string }[]> {
    const now = this.now();
    // Without a channel there is nothing to do: no transaction, so a server without channels pays nothing.
    const anyChannel = await this.orm.em.fork().count(NotificationChannel, { enabled: true });
    if (anyChannel === 0) {
      this.follow(new Set());
      return [];
    }
    return this.orm.em.fork().transactional(async (tx) => {
      const channels = ((await findData(tx, NotificationChannel, { enabled: true }, { orderBy: [{ createdAt: 'asc' }] })) as ChannelRow[]).map(
        normaliseChannel,
      );
      this.follow(new Set(channels.map((channel) => channel.tenant)));
      const byTenant = new Map<string, ChannelRow[]>();
      for (const channel of channels) byTenant.set(channel.tenant, [...(byTenant.get(channel.tenant) ?? []), channel]);
      for (const [tenant, tenantChannels] of byTenant) {
        if (await this.outbox.ingestTenant(tx, tenant, tenantChannels, now)) this.passAgain = true;
      }
      await this.outbox.deriveExpiring(tx, byTenant, now);
      const claimed = await this.claim(tx, channels, now);
      await this.scheduleNextRetry(tx, now);
      return claimed;
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
        for await (const _change of stream) this.wake();
        if (this.followed.get(tenant) === stream) {
          this.followed.delete(tenant);
          this.wake();
        }
      })().catch((error: unknown) => this.log(`notify: the change feed of ${tenant} failed: ${(error as Error).message}`));
    }
  }

  /** Leases due deliveries of enabled channels, no more per channel than its free attempt slots. */
  private async claim(tx: EntityManager, channels: ChannelRow[], now: Date): Promise<{ delivery: DeliveryRow; channel: ChannelRow; leaseToken: string }[]> {
    if (channels.length === 0) return [];
    const byId = new Map(channels.map((channel) => [channel.id, channel]));
    const free = (lease: { leaseUntil: Date | null }) => lease.leaseUntil === null || lease.leaseUntil < now;
    const due = await dueDeliveries(tx, [...byId.keys()], now, CLAIMS_PER_PASS);
    if (due.length === CLAIMS_PER_PASS) this.passAgain = true;
    const slots = new Map<string, number>();
    const chosen: string[] = [];
    for (const row of due) {
      if (!free(row)) continue;
      const left = slots.get(row.channelId) ?? this.config.concurrencyPerChannel - (this.inFlight.get(row.channelId) ?? 0);
      if (left <= 0) {
        this.starved = true;
        continue;
      }
      slots.set(row.channelId, left - 1);
      chosen.push(row.id);
    }
    if (chosen.length === 0) return [];
    // The lease outlasts one attempt; whoever finds it run out may take the delivery over.
    const { leaseToken, leased } = await lease(tx, chosen, now, new Date(now.getTime() + this.config.timeoutMs + 1_000));
    return leased.map((delivery) => ({ delivery, channel: byId.get(delivery.channelId) as ChannelRow, leaseToken }));
  }

  /** Sets a timer for the earliest retry due before the next poll, so short backoffs are kept. */
  private async scheduleNextRetry(tx: EntityManager, now: Date): Promise<void> {
    const next = await nextRetryAt(tx, now);
    if (!next) return;
    const at = next.getTime();
    if (at >= now.getTime() + this.config.pollMs || at >= this.retryAt) return;
    clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryAt = Number.POSITIVE_INFINITY;
      this.wake();
    }, Math.max(0, at - now.getTime()));
    this.retryTimer.unref();
  }

  private attempt(delivery: DeliveryRow, channel: ChannelRow, leaseToken: string): void {
    this.inFlight.set(channel.id, (this.inFlight.get(channel.id) ?? 0) + 1);
    const started = this.now();
    const run = (async () => {
      let outcome: AttemptOutcome;
      try {
        const secret = channel.sealedSecret === null ? null : this.secrets.open(channel.sealedSecret, channelSecretAad(channel.id));
        outcome = await this.senders.for(channel.kind)({ deliveryId: delivery.id, body: delivery.body, url: channel.url, secret, now: started });
      } catch (error) {
        outcome = { delivered: false, statusCode: null, result: (error as Error).message };
      }
      await this.record(delivery, channel, leaseToken, started, outcome);
    })()
      .catch((error: unknown) => this.log(`notify: recording delivery ${delivery.id} failed: ${(error as Error).message}`))
      .finally(() => {
        this.inFlight.set(channel.id, (this.inFlight.get(channel.id) ?? 1) - 1);
        this.attempts.delete(run);
        // A slot came free: deliveries that waited for it are due.
        if (this.starved) {
          this.starved = false;
          this.wake();
        }
      });
    this.attempts.add(run);
  }

  /** Writes the attempt and the delivery's new state, then says so in the log. */
  private async record(delivery: DeliveryRow, channel: ChannelRow, leaseToken: string, started: Date, outcome: AttemptOutcome): Promise<void> {
    const finished = this.now();
    const { status, nextAttemptAt, attempt, update } = recordedAttempt(delivery, started, finished, outcome, {
      maxAttempts: this.config.maxAttempts,
      retryBaseMs: this.config.retryBaseMs,
      random: this.random,
    });
    const number = attempt.number;
    const scheduled = update.scheduleAttempts as number;
    const result = attempt.result;
    this.onAttempt?.(channel.kind.toLowerCase(), status);
    const what = `notify: ${delivery.eventType} ${delivery.id} to ${channel.kind.toLowerCase()} "${channel.name}" (${channel.id}) attempt ${number}`;
    const line =
      status === 'DELIVERED'
        ? `${what}: delivered in ${attempt.durationMs} ms (${result})`
        : status === 'DEAD'
          ? `${what}: failed (${result}); dead after ${scheduled} attempts, replay with replayNotificationDelivery`
          : `${what}: failed (${result}); retry at ${nextAttemptAt?.toISOString()}`;
    this.unrecorded.push({ deliveryId: delivery.id, leaseToken, update, attempt, line });
    await this.flush();
    if (nextAttemptAt) this.wake();
  }

  /**
   * Writes the outcomes gathered so far in one transaction (outcomes that finish together share a
   * commit), then logs them; resolves once the outcomes queued before the call are written.
   */
  private flush(): Promise<void> {
    this.flushing ??= (async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.unrecorded.length > 0) {
        const batch = this.unrecorded.splice(0);
        try {
          await this.orm.em.fork().transactional(async (tx) => {
            for (const item of batch) {
              await tx.nativeUpdate(NotificationDelivery, { id: item.deliveryId, leaseToken: item.leaseToken }, item.update);
              await tx.insert(NotificationAttempt, item.attempt);
            }
          });
          for (const item of batch) this.log(item.line);
        } catch (error) {
          // The leases run out and the deliveries are attempted again: at least once, never lost.
          this.log(`notify: recording ${batch.length} attempt(s) failed: ${(error as Error).message}`);
        }
      }
    })().finally(() => {
      this.flushing = null;
      if (this.unrecorded.length > 0) void this.flush();
    });
    return this.flushing;
  }
}

/** Booleans come back from SQLite as 0 and 1 in plain rows. */
function normaliseChannel(channel: ChannelRow): ChannelRow {
  return { ...channel, enabled: Boolean(channel.enabled), includeContext: Boolean(channel.includeContext) };
}
