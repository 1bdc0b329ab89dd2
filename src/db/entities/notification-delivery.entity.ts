import { EntitySchema, type Opt } from '@mikro-orm/core';

/**
 * Where a delivery stands. PENDING: due, not yet attempted (or replayed); RETRYING: an attempt
 * failed and another is scheduled; DELIVERED: the destination accepted it; DEAD: the last
 * attempt failed, kept for inspection and replay.
 */
export type NotificationDeliveryStatus = 'PENDING' | 'RETRYING' | 'DELIVERED' | 'DEAD';

/** The fields a delivery is created with. */
export interface NotificationDeliveryFields {
  /** Also the `webhook-id` a receiver deduplicates by: the same on every attempt. */
  id: string;
  tenant: string;
  channelId: string;
  /** What the delivery is of: the event type and the audit event (or approval) it came from; unique per channel. */
  eventKey: string;
  eventType: string;
  approvalId: string | null;
  /** The rendered message, fixed when the delivery is created so that every attempt sends the same. */
  body: string;
  occurredAt: Date;
  nextAttemptAt: Date;
  createdAt: Date;
}

/** The class carries the fields of {@link NotificationDeliveryFields} without restating them (declaration merging). */
export interface NotificationDelivery extends NotificationDeliveryFields {}

/**
 * One event owed to one channel: the outbox row. Created from the audit trail, claimed with a
 * lease so that any number of dispatchers can share the work, and kept after delivery as the record.
 */
export class NotificationDelivery {
  status: NotificationDeliveryStatus & Opt = 'PENDING';
  /** Attempts made so far, all of them. */
  attempts: number & Opt = 0;
  /** Attempts since creation or the last replay: the position in the retry schedule. */
  scheduleAttempts: number & Opt = 0;
  lastAttemptAt: Date | null = null;
  /** The HTTP status, or the SMTP reply code, of the last attempt. */
  lastStatusCode: number | null = null;
  /** The destination's answer (HTTP reason, SMTP reply) or why the attempt failed. */
  lastResult: string | null = null;
  deliveredAt: Date | null = null;
  /** Who holds the delivery while attempting it, and until when; an expired lease is free. */
  leaseToken: string | null = null;
  leaseUntil: Date | null = null;

  constructor(fields: NotificationDeliveryFields) {
    Object.assign(this, fields);
  }
}

export const NotificationDeliverySchema = new EntitySchema<NotificationDelivery>({
  class: NotificationDelivery,
  tableName: 'notification_delivery',
  uniques: [{ properties: ['channelId', 'eventKey'] }],
  indexes: [
    { properties: ['status', 'nextAttemptAt'] },
    { properties: ['tenant', 'channelId', 'createdAt'] },
    { properties: ['leaseToken'] },
    // What a dispatcher claims from: owed deliveries only, per channel, by due time (partial, so
    // written out; migrations create it per dialect).
    {
      name: 'notification_delivery_due_index',
      expression: "create index notification_delivery_due_index on notification_delivery (channel_id, next_attempt_at) where status in ('PENDING', 'RETRYING')",
    },
  ],
  properties: {
    id: { type: 'string', primary: true, length: 40 },
    tenant: { type: 'string', length: 128 },
    channelId: { type: 'string', length: 36 },
    eventKey: { type: 'string', length: 96 },
    eventType: { type: 'string', length: 32 },
    approvalId: { type: 'string', length: 36, nullable: true },
    body: { type: 'text' },
    occurredAt: { type: 'datetime' },
    createdAt: { type: 'datetime' },
    status: { type: 'string', length: 16 },
    attempts: { type: 'integer' },
    scheduleAttempts: { type: 'integer' },
    nextAttemptAt: { type: 'datetime' },
    lastAttemptAt: { type: 'datetime', nullable: true },
    lastStatusCode: { type: 'integer', nullable: true },
    lastResult: { type: 'text', nullable: true },
    deliveredAt: { type: 'datetime', nullable: true },
    leaseToken: { type: 'string', length: 36, nullable: true },
    leaseUntil: { type: 'datetime', nullable: true },
  },
});
