import { ApprovalSchema } from './approval.entity.js';
import { CallerRevocationSchema } from './caller-revocation.entity.js';
import { AuditEventSchema } from './audit-event.entity.js';
import { BaseRecordSchema } from './base.entity.js';
import { ExecutionSchema } from './execution.entity.js';
import { NotificationAttemptSchema } from './notification-attempt.entity.js';
import { NotificationChannelSchema } from './notification-channel.entity.js';
import { NotificationCursorSchema } from './notification-cursor.entity.js';
import { NotificationDeliverySchema } from './notification-delivery.entity.js';
import { ServerLeaseSchema } from './server-lease.entity.js';
import { SigningKeySchema } from './signing-key.entity.js';
import { TenantSettingsSchema } from './tenant-settings.entity.js';
import { VoteSchema } from './vote.entity.js';

export * from './approval.entity.js';
export * from './audit-event.entity.js';
export * from './base.entity.js';
export * from './caller-revocation.entity.js';
export * from './execution.entity.js';
export * from './notification-attempt.entity.js';
export * from './notification-channel.entity.js';
export * from './notification-cursor.entity.js';
export * from './notification-delivery.entity.js';
export * from './server-lease.entity.js';
export * from './signing-key.entity.js';
export * from './tenant-settings.entity.js';
export * from './vote.entity.js';

/** Every entity the ORM maps. */
export const entitySchemas = [
  BaseRecordSchema,
  ApprovalSchema,
  VoteSchema,
  ExecutionSchema,
  AuditEventSchema,
  SigningKeySchema,
  TenantSettingsSchema,
  NotificationChannelSchema,
  NotificationDeliverySchema,
  NotificationAttemptSchema,
  NotificationCursorSchema,
  ServerLeaseSchema,
  CallerRevocationSchema,
];
