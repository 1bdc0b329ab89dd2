import type { EntityManager } from '@mikro-orm/core';
import type { Committer } from '../db/committer.js';
import type { NotificationDelivery, NotificationDeliveryStatus } from '../db/entities/notification-delivery.entity.js';
import type { NotifyConfig } from './config.js';
import { claimDue, recordedAttempt, releaseLease, renewLease, writeOutcome, type RecordedAttempt } from './delivery-queue.js';
import { laneSecret, newLane, type Claimed, type Lane } from './channel-lane.js';
import type { ChannelRow } from './outbox.js';
import type { SecretBox } from './secret-box.js';
import { Senders, type AttemptOutcome } from './senders.js';

/** What the lanes take of the dispatcher's options. */
export interface LaneOptions {
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
  /** Hears of every recorded attempt (the deliveries-by-status metric). */
  onAttempt?: ((channelKind: string, status: NotificationDeliveryStatus) => void) | undefined;
  now: () => Date;
  random: () => number;
}

/** A channel holds at most this many claimed deliveries (queued and in flight), or four per slot if more. */
const MIN_CLAIM_BATCH = 16;
/** An attempt starts only while its lease outlasts the timeout by this much (recording the outcome takes a moment). */
const LEASE_MARGIN_MS = 500;
/** How much longer than the timeout a claim or a renewal leases for: the time a claimed delivery may wait for a slot. */
const LEASE_QUEUE_MS = 2_000;

/**
 * The delivering half of the dispatcher: one lane per enabled channel. A channel with a free slot
 * and due work claims a batch of its due deliveries, the longest waiting first, through an index
 * of owed deliveries, leasing them under one token; they wait in the lane's queue and are
 * attempted as slots come free. A finished attempt starts the next queued one and claims more
 * only for its own channel, and only when the queue runs low: the work per delivery is a share of
 * one claim and the record of its attempt, whatever the backlog. A channel at its concurrency
 * limit reads nothing. Sending happens outside any transaction; an attempt starts only under a
 * lease that outlasts its timeout, and a queued delivery whose lease is getting short has it
 * renewed first.
 */
export class ChannelLanes {
  private readonly committer: Committer;
  private readonly config: NotifyConfig;
  private readonly secrets: SecretBox;
  private readonly log: (line: string) => void;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly onAttempt: LaneOptions['onAttempt'];
  private readonly senders: Senders;
  /** Claimed deliveries a channel holds at most, queued and in flight together. */
  private readonly claimBatch: number;
  /** One lane per enabled channel, as the last pass found them. */
  private readonly lanes = new Map<string, Lane>();
  private stopped = true;
  private readonly attempts = new Set<Promise<void>>();
  private readonly claims = new Set<Promise<void>>();
  /** Outcomes waiting to be written, with their log lines. */
  private readonly unrecorded: { deliveryId: string; leaseToken: string; recorded: RecordedAttempt; line: string }[] = [];
  private flushing: Promise<void> | null = null;

  constructor(options: LaneOptions) {
    this.committer = options.committer;
    this.config = options.config;
    this.secrets = options.secrets;
    this.log = options.log;
    this.now = options.now;
    this.random = options.random;
    this.onAttempt = options.onAttempt;
    this.senders = new Senders(options.config);
    this.claimBatch = Math.max(MIN_CLAIM_BATCH, 4 * options.config.concurrencyPerChannel);
  }

  /** How many channels have a lane (none: the last pass found no enabled channel). */
  get size(): number {
    return this.lanes.size;
  }

  start(): void {
    this.stopped = false;
  }

  /**
   * Stops claims, waits for the attempts in flight (each bounded by the timeout) and their
   * outcomes, and gives the deliveries still queued back, so that a restart or another instance
   * takes them at once rather than when their leases run out.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.claims]);
    await Promise.allSettled([...this.attempts]);
    await this.flushing;
    const lanes = [...this.lanes.values()];
    this.lanes.clear();
    await Promise.allSettled(lanes.map((lane) => this.detach(lane)));
    this.senders.close();
  }

  /** Marks due the lanes of the channels `owed` says may have due work. */
  markOwed(owed: (channelId: string) => boolean): void {
    for (const lane of this.lanes.values()) if (owed(lane.channel.id)) this.markDue(lane);
  }

  /** Keeps one lane per enabled channel, with the channel as last read; a channel gone or disabled gives its queue back. */
  sync(channels: ChannelRow[]): void {
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
        this.lanes.set(channel.id, newLane(channel, this.config));
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

  /** Runs `work` as one job of the committer: in the transaction of its next batch, all or nothing. */
  private write<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.committer.run(async (unit) => work(unit.em));
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
          secret: laneSecret(lane, this.secrets),
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
