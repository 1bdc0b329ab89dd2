import { EntitySchema } from '@mikro-orm/core';

/**
 * How far the notification dispatcher has read a tenant's audit trail: every event up to
 * `lastSeq` has been turned into deliveries. Advanced in the transaction that writes them, with
 * a compare-and-set on `lastSeq`, so a crash loses nothing and two dispatchers never both advance it.
 */
export class NotificationCursor {
  constructor(
    public tenant: string,
    public lastSeq: number,
    public updatedAt: Date,
  ) {}
}

export const NotificationCursorSchema = new EntitySchema<NotificationCursor>({
  class: NotificationCursor,
  tableName: 'notification_cursor',
  properties: {
    tenant: { type: 'string', primary: true, length: 128 },
    lastSeq: { type: 'integer' },
    updatedAt: { type: 'datetime' },
  },
});
