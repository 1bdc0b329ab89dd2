import type { EntityManager, FilterQuery } from '@mikro-orm/core';
import { NotificationAttempt } from '../db/entities/notification-attempt.entity.js';
import { NotificationDelivery, type NotificationDeliveryStatus } from '../db/entities/notification-delivery.entity.js';
import { findData } from '../db/orm.js';
import { decodeCursor, encodeCursor, pageSize, toPage, type Page } from '../app/pagination.js';

export interface DeliveryFilter {
  channelId?: string | null;
  status?: NotificationDeliveryStatus | null;
  first?: number | null;
  after?: string | null;
}

export interface AttemptView {
  number: number;
  at: Date;
  durationMs: number;
  outcome: 'DELIVERED' | 'FAILED';
  statusCode: number | null;
  result: string;
  nextAttemptAt: Date | null;
}

export interface DeliveryView {
  id: string;
  channelId: string;
  eventType: string;
  approvalId: string | null;
  status: NotificationDeliveryStatus;
  attempts: number;
  occurredAt: Date;
  createdAt: Date;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastResult: string | null;
  deliveredAt: Date | null;
  attemptLog: AttemptView[];
}
/** A tenant's deliveries, newest first, each with its attempts. */
export async function listDeliveries(em: EntityManager, tenant: string, filter: DeliveryFilter): Promise<Page<DeliveryView>> {
  const limit = pageSize(filter.first);
  const after = decodeCursor(filter.after, 2);
  const where: FilterQuery<NotificationDelivery> = { tenant };
  if (filter.channelId) where.channelId = filter.channelId;
  if (filter.status) where.status = filter.status;
  if (after) {
    const [createdAt, id] = after as [number, string];
    where.$or = [{ createdAt: { $lt: new Date(createdAt) } }, { createdAt: new Date(createdAt), id: { $lt: id } }];
  }
  const rows = (await findData(em, NotificationDelivery, where, { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: limit + 1 })) as NotificationDelivery[];
  const page = toPage(rows, limit, (row) => encodeCursor([row.createdAt.getTime(), row.id]));
  const attempts = await attemptsOf(em, page.items.map(({ node }) => node.id));
  return { ...page, items: page.items.map(({ node, cursor }) => ({ node: deliveryView(node, attempts.get(node.id) ?? []), cursor })) };
}

/** One delivery with its attempts. */
export async function deliveryWithAttempts(em: EntityManager, delivery: NotificationDelivery): Promise<DeliveryView> {
  return deliveryView(delivery, (await attemptsOf(em, [delivery.id])).get(delivery.id) ?? []);
}

/** Puts a delivery back at the start of its retry schedule, due now and claimed by no dispatcher. */
export function rescheduleFromStart(delivery: NotificationDelivery): void {
  delivery.status = 'PENDING';
  delivery.scheduleAttempts = 0;
  delivery.nextAttemptAt = new Date();
  delivery.leaseToken = null;
  delivery.leaseUntil = null;
}

async function attemptsOf(em: EntityManager, deliveryIds: string[]): Promise<Map<string, AttemptView[]>> {
  const byDelivery = new Map<string, AttemptView[]>();
  if (deliveryIds.length === 0) return byDelivery;
  const attempts = (await findData(em, NotificationAttempt, { deliveryId: { $in: deliveryIds } }, { orderBy: [{ number: 'asc' }] })) as NotificationAttempt[];
  for (const attempt of attempts) {
    const log = byDelivery.get(attempt.deliveryId) ?? [];
    log.push({
      number: attempt.number,
      at: attempt.startedAt,
      durationMs: attempt.durationMs,
      outcome: attempt.outcome,
      statusCode: attempt.statusCode,
      result: attempt.result,
      nextAttemptAt: attempt.nextAttemptAt,
    });
    byDelivery.set(attempt.deliveryId, log);
  }
  return byDelivery;
}

function deliveryView(delivery: NotificationDelivery, attemptLog: AttemptView[]): DeliveryView {
  const waiting = delivery.status === 'PENDING' || delivery.status === 'RETRYING';
  return {
    id: delivery.id,
    channelId: delivery.channelId,
    eventType: delivery.eventType,
    approvalId: delivery.approvalId,
    status: delivery.status,
    attempts: delivery.attempts,
    occurredAt: delivery.occurredAt,
    createdAt: delivery.createdAt,
    nextAttemptAt: waiting ? delivery.nextAttemptAt : null,
    lastAttemptAt: delivery.lastAttemptAt,
    lastStatusCode: delivery.lastStatusCode,
    lastResult: delivery.lastResult,
    deliveredAt: delivery.deliveredAt,
    attemptLog,
  };
}
