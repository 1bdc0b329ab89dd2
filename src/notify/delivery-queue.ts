import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { NotificationAttempt } from '../db/entities/notification-attempt.entity.js';
import { NotificationDelivery, type NotificationDeliveryStatus } from '../db/entities/notification-delivery.entity.js';
import { findData } from '../db/orm.js';
import { retryDelayMs } from './backoff.js';
import type { AttemptOutcome } from './senders.js';

/** The statuses of a delivery still owed to its channel. */
export const DUE_STATUSES: NotificationDeliveryStatus[] = ['PENDING', 'RETRYING'];

/** A due delivery, as much as deciding whether to claim it needs. */
export interface DueDelivery {
  id: string;
  channelId: string;
  leaseUntil: Date | null;
}

/** Deliveries of these channels due at `now`, the longest waiting first. */
export async function dueDeliveries(tx: EntityManager, channelIds: string[], now: Date, limit: number): Promise<DueDelivery[]> {
  const rows = (await (tx as SqlEntityManager)
    .createQueryBuilder(NotificationDelivery)
    .select(['id', 'channelId', 'leaseUntil'])
    .where({ status: { $in: DUE_STATUSES }, nextAttemptAt: { $lte: now }, channelId: { $in: channelIds } })
    .orderBy({ nextAttemptAt: 'asc' })
    .limit(limit)
    .execute('all')) as { id: string; channelId: string; leaseUntil: unknown }[];
  return rows.map((row) => ({ ...row, leaseUntil: toDate(row.leaseUntil) }));
}

/**
 * Leases the deliveries among `ids` that nobody holds (or whose lease ran out) under a new token
 * until `leaseUntil`, and returns those this caller won: another dispatcher's lease is never taken.
 */
export async function lease(tx: EntityManager, ids: string[], now: Date, leaseUntil: Date): Promise<{ leaseToken: string; leased: NotificationDelivery[] }> {
  const leaseToken = randomUUID();
  await tx.nativeUpdate(
    NotificationDelivery,
    { id: { $in: ids }, status: { $in: DUE_STATUSES }, $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] },
    { leaseToken, leaseUntil },
  );
  const leased = (await findData(tx, NotificationDelivery, { leaseToken }, { orderBy: [{ nextAttemptAt: 'asc' }] })) as NotificationDelivery[];
  return { leaseToken, leased };
}

/** When the earliest unclaimed retry after `now` falls due, if any. */
export async function nextRetryAt(tx: EntityManager, now: Date): Promise<Date | null> {
  const next = (await (tx as SqlEntityManager)
    .createQueryBuilder(NotificationDelivery)
    .select(['nextAttemptAt'])
    .where({ status: { $in: DUE_STATUSES }, nextAttemptAt: { $gt: now }, $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] })
    .orderBy({ nextAttemptAt: 'asc' })
    .limit(1)
    .execute('get')) as { nextAttemptAt: unknown } | undefined;
  return next ? toDate(next.nextAttemptAt) : null;
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

export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value as number | string);
}
