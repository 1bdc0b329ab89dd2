import type { EntityManager, MikroORM } from '@mikro-orm/core';
import type { Committer } from '../db/committer.js';
import { NotificationChannel } from '../db/entities/notification-channel.entity.js';
import { NotificationDelivery, type NotificationDeliveryStatus } from '../db/entities/notification-delivery.entity.js';
import { selectData } from '../db/fast-paths.js';
import { findData } from '../db/orm.js';
import type { ChangeFeed, ChangeStream } from '../feed/feed.js';
import type { NotifyConfig } from './config.js';
import { claimDue, recordedAttempt, releaseLease, renewLease, writeOutcome, type RecordedAttempt } from './delivery-queue.js';
import { CursorMovedError, Outbox, type ChannelRow } from './outbox.js';
import { channelSecretAad, type SecretBox } from './secret-box.js';
import { ChannelConnections } from './http-post.js';
import { Senders, type AttemptOutcome } from './senders.js';

export interface DispatcherOptions {
  orm: MikroORM;
  /**
   * The database's one writer: the dispatcher's writes (new deliveries and the cursor, claims,
   * outcomes) are jobs in its batches, so they share the commits of the requests' writes instead
   * of each adding a commit (with SQLite, an fsync that holds up the event loop).
   */
  committer: Committer;
  config: NotifyConfig;
  secrets: SecretBox;
  /**
   * Receives a line per attempt and per dispatcher failure. The lines of attempts recorded
   * together come in one call, a line each (so that a burst of deliveries costs one write).
   */
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

/** A delivery leased by this dispatcher, waiting for a free slot of its channel. */
interface Claimed {
  delivery: NotificationDelivery;
  leaseToken: string;
  leaseUntil: number;
}

/** One channel's share of the dispatcher. */
interface Lane {
  channel: ChannelRow;
  /** The channel's signing secret, opened once per sealed value. */
  opened: { sealed: string; secret: string } | null;
  /** The channel's kept-alive connections, closed when the lane is given up and its last attempt is done. */
  connections: ChannelConnections;
  /** Deliveries claimed and not yet attempted, the longest waiting first. */
  queue: Claimed[];
  /** Attempts being sent. */
  inFlight: number;
  /** Attempts sent whose outcomes are not written yet. */
  recording: number;
  /** The database may hold due deliveries of this channel that nobody has claimed. */
  due: boolean;
  /** Counts the times `due` was set, so that a claim that began before one does not clear it. */
  dueMarks: number;
  /** A claim or a lease renewal is under way (one at a time per channel). */
  busy: boolean;
  retryTimer: NodeJS.Timeout | undefined;
  retryAt: number;
}

/** The shortest pause between two passes that a wake-up may cause: under load, wake-ups coalesce. */
const MIN_PASS_GAP_MS = 20;
/** A channel holds at most this many claimed deliveries (queued and in flight), or four per slot if more. */
const MIN_CLAIM_BATCH = 16;
/** An attempt starts only while its lease outlasts the timeout by this much (recording the outcome takes a moment). */
const LEASE_MARGIN_MS = 500;
/** How much longer than the timeout a claim or a renewal leases for: the time a claimed delivery may wait for a slot. */
const LEASE_QUEUE_MS = 2_000;

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
 * Delivering is per channel (a lane): a channel with a free slot and due work claims a batch of
 * its due deliveries, the longest waiting first, through an index of owed deliveries, leasing
 * them under one token; they wait in the lane's queue and are attempted as slots come free. A
 * finished attempt starts the next queued one and claims more only for its own channel, and only
 * when the queue runs low: the work per delivery is a share of one claim and the record of its
 * attempt, whatever the backlog. A channel at its concurrency limit reads nothing. A lane learns
 * of due work from a pass that wrote deliveries for it, from its own retries falling due, and
 * from the poll (work of other instances, leases that ran out).
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
  private readonly secrets: SecretBox;
  private readonly log: (line: string) => void;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly senders: Senders;
  private readonly outbox: Outbox;
  private readonly changes: ChangeFeed | undefined;
  private readonly onAttempt: DispatcherOptions['onAttempt'];
  /** Claimed deliveries a channel holds at most, queued and in flight together. */
  private readonly claimBatch: number;
  /** The feed streams followed, one per tenant with an enabled channel. */
  private readonly followed = new Map<string, ChangeStream>();
  /** One lane per enabled channel, as the last pass found them. */
  private readonly lanes = new Map<string, Lane>();
  private stopped = true;
  private passing = false;
  private passAgain = false;
  /** The next pass should look at every channel's due deliveries, not only the ones it writes. */
  private sweep = false;
  private lastPassEnded = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly attempts = new Set<Promise<void>>();
  private readonly claims = new Set<Promise<void>>();
  /** Outcomes waiting to be written, with their log lines. */
  private readonly unrecorded: { deliveryId: string; leaseToken: string; recorded: RecordedAttempt; line: string }[] = [];
  private flushing: Promise<void> | null = null;

  constructor(options: DispatcherOptions) {
    this.orm = options.orm;
    this.committer = options.committer;
    this.config = options.config;
    this.secrets = options.secrets;
    this.log = options.log;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.senders = new Senders(options.config);
    this.outbox = new Outbox(options.config.publicUrl);
    this.changes = options.changes;
    this.onAttempt = options.onAttempt;
    this.claimBatch = Math.max(MIN_CLAIM_BATCH, 4 * options.config.concurrencyPerChannel);
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

  /**
   * Stops passes, claims and timers, waits for the attempts in flight (each bounded by the
   * timeout) and gives the deliveries still queued back, so that a restart or another instance
   * takes them at once rather than when their leases run out.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.follow(new Set());
    await Promise.allSettled([...this.claims]);
    await Promise.allSettled([...this.attempts]);
    await this.flushing;
    const lanes = [...this.lanes.values()];
    this.lanes.clear();
    await Promise.allSettled(lanes.map((lane) => this.detach(lane)));
    this.senders.close();
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
        for (const lane of this.lanes.values()) {
          if (sweep || owed.has(lane.channel.id)) this.markDue(lane);
        }
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
      this.syncLanes(channels);
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

  /** Keeps one lane per enabled channel, with the channel as last read; a channel gone or disabled gives its queue back. */
  private syncLanes(channels: ChannelRow[]): void {
    const enabled = new Map(channels.map((channel) => [channel.id, channel]));
    for (const [id, lane] of this.lanes) {
      if (enabled.has(id)) continue;
      this.lanes.delete(id);
      void this.detach(lane);
    }
    for (const channel of channels) {
      const lane = this.lanes.get(channel.id);
      if (lane) lane.channel = channel;
      else {
        this.lanes.set(channel.id, {
          channel,
          opened: null,
          connections: new ChannelConnections(this.config.concurrencyPerChannel, this.config.allowPrivate),
          queue: [],
          inFlight: 0,
          recording: 0,
          due: true,
          dueMarks: 0,
          busy: false,
          retryTimer: undefined,
          retryAt: Number.POSITIVE_INFINITY,
        });
      }
    }
  }

  /**
   * Releases what a lane no longer in use had queued; its attempts in flight finish and are
   * recorded, then its connections close (at once when none is in flight).
   */
  private async detach(lane: Lane): Promise<void> {
    clearTimeout(lane.retryTimer);
    if (lane.inFlight === 0) lane.connections.close();
    const queued = lane.queue.splice(0);
    const byToken = new Map<string, string[]>();
    for (const item of queued) byToken.set(item.leaseToken, [...(byToken.get(item.leaseToken) ?? []), item.delivery.id]);
    try {
      await this.write(async (tx) => {
        for (const [leaseToken, ids] of byToken) await releaseLease(tx, leaseToken, ids);
      });
    } catch (error) {
      // Their leases run out instead.
      this.log(`notify: releasing ${queued.length} claimed deliveries failed: ${(error as Error).message}`);
    }
  }

  /** The lane may have due work: claim it if there is room. */
  private markDue(lane: Lane): void {
    lane.due = true;
    lane.dueMarks += 1;
    this.pump(lane);
  }

  /**
   * Starts queued deliveries while the channel has free slots, and claims more when the queue
   * runs low and the channel may have due work. Called whenever one of those changes.
   */
  private pump(lane: Lane): void {
    if (this.stopped || this.lanes.get(lane.channel.id) !== lane) return;
    const slots = this.config.concurrencyPerChannel;
    const now = this.now().getTime();
    while (lane.inFlight < slots && lane.queue.length > 0) {
      const next = lane.queue[0] as Claimed;
      if (next.leaseUntil < now + this.config.timeoutMs + LEASE_MARGIN_MS) {
        // The renewal pumps again when it is done.
        if (!lane.busy) this.track(this.renew(lane, next.leaseToken));
        return;
      }
      lane.queue.shift();
      this.attempt(lane, next);
    }
    const held = lane.queue.length + lane.inFlight + lane.recording;
    if (!lane.busy && lane.due && lane.queue.length < slots && held < this.claimBatch) this.track(this.claim(lane, this.claimBatch - held));
  }

  private track(work: Promise<void>): void {
    this.claims.add(work);
    void work.finally(() => this.claims.delete(work));
  }

  /** Claims up to `limit` due deliveries of the lane's channel into its queue. */
  private async claim(lane: Lane, limit: number): Promise<void> {
    lane.busy = true;
    const marks = lane.dueMarks;
    let claimed = false;
    try {
      const now = this.now();
      const leaseUntil = now.getTime() + this.config.timeoutMs + LEASE_QUEUE_MS;
      const claim = await this.write((tx) => claimDue(tx, lane.channel.id, now, limit, new Date(leaseUntil)));
      for (const delivery of claim.leased) lane.queue.push({ delivery, leaseToken: claim.leaseToken, leaseUntil });
      // Fewer found than asked for: nothing more is due now, unless something said otherwise meanwhile.
      if (claim.found < limit && lane.dueMarks === marks) lane.due = false;
      claimed = true;
    } catch (error) {
      // No retry at once (a failing database would make it spin): the next pass or poll tries again.
      this.log(`notify: claiming deliveries of channel ${lane.channel.id} failed: ${(error as Error).message}`);
    } finally {
      lane.busy = false;
    }
    if (this.lanes.get(lane.channel.id) !== lane || this.stopped) await this.detach(lane);
    else if (claimed) this.pump(lane);
  }

  /** Extends the lease of the deliveries queued under `leaseToken`; those another dispatcher took over leave the queue. */
  private async renew(lane: Lane, leaseToken: string): Promise<void> {
    lane.busy = true;
    try {
      const leaseUntil = this.now().getTime() + this.config.timeoutMs + LEASE_QUEUE_MS;
      const held = await this.write((tx) => renewLease(tx, leaseToken, new Date(leaseUntil)));
      lane.queue = lane.queue.flatMap((item) =>
        item.leaseToken !== leaseToken ? [item] : held.has(item.delivery.id) ? [{ ...item, leaseUntil }] : [],
      );
    } catch (error) {
      // Let the leases run out: the deliveries are claimed again then, here or elsewhere.
      lane.queue = lane.queue.filter((item) => item.leaseToken !== leaseToken);
      this.log(`notify: renewing the lease of deliveries of channel ${lane.channel.id} failed: ${(error as Error).message}`);
    } finally {
      lane.busy = false;
    }
    if (this.lanes.get(lane.channel.id) !== lane || this.stopped) await this.detach(lane);
    else this.pump(lane);
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

  /** The channel's signing secret (or Slack URL), opened from its sealed form. */
  private secretOf(lane: Lane): string | null {
    const sealed = lane.channel.sealedSecret;
    if (sealed === null) return null;
    if (lane.opened?.sealed !== sealed) lane.opened = { sealed, secret: this.secrets.open(sealed, channelSecretAad(lane.channel.id)) };
    return lane.opened.secret;
  }

  /**
   * Sends one claimed delivery, then writes its outcome. The slot comes free as soon as the
   * destination has answered (or the attempt failed), not when the outcome is written: the next
   * queued delivery goes out meanwhile, and the outcomes of attempts that end while one write
   * commits share the next write. Until then the delivery stays leased, so nobody else sends it.
   */
  private attempt(lane: Lane, claimed: Claimed): void {
    lane.inFlight += 1;
    const { delivery, leaseToken } = claimed;
    const channel = lane.channel;
    const started = this.now();
    let sending = true;
    const sent = (): void => {
      if (!sending) return;
      sending = false;
      lane.inFlight -= 1;
      lane.recording += 1;
      if (lane.inFlight === 0 && (this.stopped || this.lanes.get(lane.channel.id) !== lane)) lane.connections.close();
      // A slot came free: the next queued delivery of this channel, and of no other, may start.
      this.pump(lane);
    };
    const run = (async () => {
      let outcome: AttemptOutcome;
      try {
        outcome = await this.senders.for(channel.kind)({
          deliveryId: delivery.id,
          body: delivery.body,
          url: channel.url,
          secret: this.secretOf(lane),
          now: started,
          connections: lane.connections,
        });
      } catch (error) {
        outcome = { delivered: false, statusCode: null, result: (error as Error).message };
      }
      sent();
      const retryAt = await this.record(delivery, channel, leaseToken, started, outcome);
      if (retryAt) this.retryAt(lane, retryAt);
    })()
      .catch((error: unknown) => this.log(`notify: recording delivery ${delivery.id} failed: ${(error as Error).message}`))
      .finally(() => {
        sent();
        lane.recording -= 1;
        this.attempts.delete(run);
        // Room for another claim, if the lane was full.
        this.pump(lane);
      });
    this.attempts.add(run);
  }

  /** Marks the lane due when the earliest of its own retries falls due, so that short backoffs are kept between polls. */
  private retryAt(lane: Lane, at: Date): void {
    if (this.stopped || at.getTime() >= lane.retryAt) return;
    clearTimeout(lane.retryTimer);
    lane.retryAt = at.getTime();
    lane.retryTimer = setTimeout(() => {
      lane.retryAt = Number.POSITIVE_INFINITY;
      lane.retryTimer = undefined;
      this.markDue(lane);
    }, Math.max(0, at.getTime() - this.now().getTime()));
    lane.retryTimer.unref();
  }

  /** Writes the attempt and the delivery's new state, then says so in the log; returns when a retry is due, if one is. */
  private async record(delivery: NotificationDelivery, channel: ChannelRow, leaseToken: string, started: Date, outcome: AttemptOutcome): Promise<Date | null> {
    const finished = this.now();
    const recorded = recordedAttempt(delivery, started, finished, outcome, {
      maxAttempts: this.config.maxAttempts,
      retryBaseMs: this.config.retryBaseMs,
      random: this.random,
    });
    const { status, nextAttemptAt, attempt, update } = recorded;
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
    this.unrecorded.push({ deliveryId: delivery.id, leaseToken, recorded, line });
    await this.flush();
    return nextAttemptAt;
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
          await this.write(async (tx) => {
            for (const item of batch) await writeOutcome(tx, item.deliveryId, item.leaseToken, item.recorded);
          });
          this.log(batch.map((item) => item.line).join('\n'));
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
