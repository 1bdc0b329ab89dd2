import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * How far the notification dispatcher has read a tenant's audit trail: every event up to
 * `lastSeq` has been turned into deliveries. Advanced in the transaction that writes them, with
 * a compare-and-set on `lastSeq`, so a crash loses nothing and two dispatchers never both advance it.
 */
export const NotificationCursorSchema = defineEntity({
  name: 'NotificationCursor',
  tableName: 'notification_cursor',
  properties: (p) => ({
    tenant: p.string().primary().length(128),
    lastSeq: p.integer(),
    updatedAt: p.datetime(),
  }),
});

/** A row of the cursor table; its type is inferred from the schema, which states each field once. */
export type NotificationCursor = InferEntity<typeof NotificationCursorSchema>;
