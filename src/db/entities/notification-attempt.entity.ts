import { EntitySchema } from '@mikro-orm/core';

/** How one attempt ended. */
export type NotificationAttemptOutcome = 'DELIVERED' | 'FAILED';

/** One attempt to hand a delivery to its destination, kept as its history. */
export class NotificationAttempt {
  constructor(
    public id: string,
    public deliveryId: string,
    public tenant: string,
    /** 1 for the first attempt, counting across replays. */
    public number: number,
    public startedAt: Date,
    public durationMs: number,
    public outcome: NotificationAttemptOutcome,
    /** The HTTP status or the SMTP reply code, when the destination answered. */
    public statusCode: number | null,
    /** The destination's answer or the failure, in words. */
    public result: string,
    /** When the next attempt is due, if one is scheduled. */
    public nextAttemptAt: Date | null,
  ) {}
}

export const NotificationAttemptSchema = new EntitySchema<NotificationAttempt>({
  class: NotificationAttempt,
  tableName: 'notification_attempt',
  indexes: [{ properties: ['deliveryId', 'number'] }],
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    deliveryId: { type: 'string', length: 40 },
    tenant: { type: 'string', length: 128 },
    number: { type: 'integer' },
    startedAt: { type: 'datetime' },
    durationMs: { type: 'integer' },
    outcome: { type: 'string', length: 16 },
    statusCode: { type: 'integer', nullable: true },
    result: { type: 'text' },
    nextAttemptAt: { type: 'datetime', nullable: true },
  },
});
