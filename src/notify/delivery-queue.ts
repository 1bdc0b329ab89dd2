import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { NotificationAttempt } from '../db/entities/notification-attempt.entity.js';
import { NotificationDelivery, type NotificationDeliveryStatus } from '../db/entities/notification-delivery.entity.js';
import { insertNew, runPrepared, runPreparedCounted, runPreparedEach, selectData, selectPrepared } from '../db/fast-paths.js';
import { findData } from '../db/orm.js';
import { retryDelayMs } from './backoff.js';
import type { AttemptOutcome } from './senders.js';

/** The statuses of a delivery still owed to its channel. */
export const DUE_STATUSES: NotificationDeliveryStatus[] = ['PENDING', 'RETRYING'];

/**
 * The condition of the due-deliveries index (`notification_delivery_due_index`: channel, due
 * time, over owed deliveries only), spelled as in the index's definition: both SQLite and
 * PostgreSQL use a partial index only when the query states its condition with the same literals.
 */
const OWED = "status in ('PENDING', 'RETRYING')";

/*
 * The claim's statements on SQLite, prepared once per connection (a claim is made for every batch
 * of deliveries): the same conditions as the MikroORM queries beside them, which other drivers run.
 */
const CLAIM_FIND_SQL =
  `select \`id\` from \`notification_delivery\` where ${OWED} and \`channel_id\` = ? and \`next_attempt_at\` <= ? ` +
  'and (`lease_until` is null or `lease_until` < ?) order by `next_attempt_at` limit ?';
/** One row at a time, by primary key: with a list of ids, SQLite may walk every owed delivery instead. */
const CLAIM_LEASE_SQL =
  "update `notification_delivery` set `lease_token` = ?, `lease_until` = ? where `id` = ? and `status` in ('PENDING', 'RETRYING') " +
  'and (`lease_until` is null or `lease_until` < ?)';
const RENEW_SQL = "update `notification_delivery` set `lease_until` = ? where `lease_token` = ? and `status` in ('PENDING', 'RETRYING')";
const HELD_SQL = "select `id` from `notification_delivery` where `lease_token` = ? and `status` in ('PENDING', 'RETRYING')";

/** A lease that is free at `now`: never taken, released, or run out. */
const freeAt = (now: Date) => ({ $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] });

/** Deliveries a claim leased: the rows, and the lease they are held under. */
export interface Claim {
  leaseToken: string;
  leased: NotificationDelivery[];
  /** How many due deliveries the claim found free (some may have gone to another dispatcher meanwhile). */
  found: number;
}

/**
 * Leases up to `limit` deliveries of one channel that are due at `now` and held by nobody, the
 * longest waiting first, under a new token until `leaseUntil`. The read walks the due-deliveries
 * index from its oldest entry and stops after `limit` free ones: its cost is the batch, not the
 * backlog. Another dispatcher's lease is never taken (the update re-checks each row).
 */
export async function claimDue(em: EntityManager, channelId: string, now: Date, limit: number, leaseUntil: Date): Promise<Claim> {
  const leaseToken = randomUUID();
  const candidates = await selectPrepared(em, CLAIM_FIND_SQL, [channelId, now, now, limit]);
  if (candidates) {
    const found = candidates;
    if (found.length === 0) return { leaseToken, leased: [], found: 0 };
    await runPreparedEach(em, CLAIM_LEASE_SQL, found.map((row) => [leaseToken, leaseUntil, row[0], now]));
    const leased = (await selectData(em, NotificationDelivery, 'where `lease_token` = ? order by `next_attempt_at`', [leaseToken])) as NotificationDelivery[];
    return { leaseToken, leased, found: found.length };
  }
  const found = (await (em as SqlEntityManager)
    .createQueryBuilder(NotificationDelivery)
    .select(['id'])
    .where(OWED)
    .andWhere({ channelId, nextAttemptAt: { $lte: now }, ...freeAt(now) })
    .orderBy({ nextAttemptAt: 'asc' })
    .limit(limit)
    .execute('all')) as { id: string }[];
  if (found.length === 0) return { leaseToken, leased: [], found: 0 };
  await em.nativeUpdate(
    NotificationDelivery,
    { id: { $in: found.map((row) => row.id) }, status: { $in: DUE_STATUSES }, ...freeAt(now) },
    { leaseToken, leaseUntil },
  );
  const leased = (await findData(em, NotificationDelivery, { leaseToken }, { orderBy: [{ nextAttemptAt: 'asc' }] })) as NotificationDelivery[];
  return { leaseToken, leased, found: found.length };
}

/**
 * Extends a claim's lease to `leaseUntil` for the deliveries still held under it and still owed;
 * returns their ids. A delivery whose lease ran out and that another dispatcher took over has
 * another token by then, so it is not among them.
 */
export async function renewLease(em: EntityManager, leaseToken: string, leaseUntil: Date): Promise<Set<string>> {
  if ((await runPreparedCounted(em, RENEW_SQL, [leaseUntil, leaseToken])) !== null) {
    const held = (await selectPrepared(em, HELD_SQL, [leaseToken])) as unknown[][];
    return new Set(held.map((row) => row[0] as string));
  }
  await em.nativeUpdate(NotificationDelivery, { leaseToken, status: { $in: DUE_STATUSES } }, { leaseUntil });
  const held = (await (em as SqlEntityManager)
    .createQueryBuilder(NotificationDelivery)
    .select(['id'])
    .where({ leaseToken, status: { $in: DUE_STATUSES } })
    .execute('all')) as { id: string }[];
  return new Set(held.map((row) => row.id));
}

/** Gives claimed deliveries that will not be attempted here back, due at once for any dispatcher. */
export async function releaseLease(em: EntityManager, leaseToken: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await em.nativeUpdate(NotificationDelivery, { id: { $in: ids }, leaseToken }, { leaseToken: null, leaseUntil: null });
}

/** One attempt's outcome as it is written: the attempt row and the delivery's new state. */
export interface RecordedAttempt {
  status: NotificationDeliveryStatus;
  nextAttemptAt: Date | null;
  attempt: NotificationAttempt;
  update: Partial<NotificationDelivery>;
}

/** What an attempt's outcome makes of the delivery: delivered, dead after the last attempt, or retried after a backoff. */
export function recordedAttempt(
  delivery: NotificationDelivery,
  started: Date,
  finished: Date,
  outcome: AttemptOutcome,
  schedule: { maxAttempts: number; retryBaseMs: number; random: () => number },
): RecordedAttempt {
  const number = delivery.attempts + 1;
  const scheduled = delivery.scheduleAttempts + 1;
  const status: NotificationDeliveryStatus = outcome.delivered ? 'DELIVERED' : scheduled >= schedule.maxAttempts ? 'DEAD' : 'RETRYING';
  const nextAttemptAt = status === 'RETRYING' ? new Date(finished.getTime() + retryDelayMs(schedule.retryBaseMs, scheduled, schedule.random)) : null;
  const result = outcome.result.slice(0, 1000);
  const attempt = new NotificationAttempt(
    randomUUID(),
    delivery.id,
    delivery.tenant,
    number,
    started,
    finished.getTime() - started.getTime(),
    outcome.delivered ? 'DELIVERED' : 'FAILED',
    outcome.statusCode,
    result,
    nextAttemptAt,
  );
  const update: Partial<NotificationDelivery> = {
    status,
    attempts: number,
    scheduleAttempts: scheduled,
    lastAttemptAt: started,
    lastStatusCode: outcome.statusCode,
    lastResult: result,
    ...(outcome.delivered && { deliveredAt: finished }),
    ...(nextAttemptAt && { nextAttemptAt }),
    leaseToken: null,
    leaseUntil: null,
  };
  return { status, nextAttemptAt, attempt, update };
}

/** An outcome's write, as one prepared statement on SQLite: what is not given (delivery time, next attempt) is kept. */
const OUTCOME_SQL =
  'update `notification_delivery` set `status` = ?, `attempts` = ?, `schedule_attempts` = ?, `last_attempt_at` = ?, `last_status_code` = ?, ' +
  '`last_result` = ?, `delivered_at` = coalesce(?, `delivered_at`), `next_attempt_at` = coalesce(?, `next_attempt_at`), ' +
  '`lease_token` = null, `lease_until` = null where `id` = ? and `lease_token` = ?';

/**
 * Writes an attempt and the delivery's new state in `em`'s transaction, if the delivery is still
 * held under `leaseToken` (the state; the attempt is written either way, as it was made).
 */
export async function writeOutcome(em: EntityManager, deliveryId: string, leaseToken: string, recorded: RecordedAttempt): Promise<void> {
  const { update } = recorded;
  const values = [
    update.status,
    update.attempts,
    update.scheduleAttempts,
    update.lastAttemptAt,
    update.lastStatusCode ?? null,
    update.lastResult ?? null,
    update.deliveredAt ?? null,
    update.nextAttemptAt ?? null,
    deliveryId,
    leaseToken,
  ];
  if (!(await runPrepared(em, OUTCOME_SQL, values))) await em.nativeUpdate(NotificationDelivery, { id: deliveryId, leaseToken }, update);
  await insertNew(em, recorded.attempt);
}
