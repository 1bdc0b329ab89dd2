/** Every event a channel can subscribe to. */
export const NOTIFICATION_EVENT_TYPES = [
  'approval.required',
  'approval.approved',
  'approval.rejected',
  'approval.expired',
  'approval.denied',
  'approval.escalated',
  'approval.expiring',
  'execution.completed',
  'execution.failed',
] as const;

export type NotificationEventType = (typeof NOTIFICATION_EVENT_TYPES)[number];

export function isNotificationEventType(value: string): value is NotificationEventType {
  return (NOTIFICATION_EVENT_TYPES as readonly string[]).includes(value);
}

/** The part of an audit event the mapping reads. */
export interface AuditFacts {
  type: string;
  newStatus: string | null;
  details: Record<string, unknown>;
}

/**
 * The notification events an audit event stands for. The audit trail is the outbox: it is written
 * in the transaction of every state change, so deriving notifications from it loses none.
 * `escalated` is the approval's flag (set by the policy when the request was made).
 * `approval.expiring` has no audit event: the dispatcher derives it from pending requests' expiry.
 */
export function notificationEventsOf(event: AuditFacts, escalated: boolean): NotificationEventType[] {
  switch (event.type) {
    case 'requested':
      if (event.newStatus !== 'PENDING') return [];
      return escalated ? ['approval.required', 'approval.escalated'] : ['approval.required'];
    case 'approved':
      return ['approval.approved'];
    case 'rejected':
      return ['approval.rejected'];
    case 'expired':
      return ['approval.expired'];
    case 'denied':
      return ['approval.denied'];
    case 'execution_completed':
      return event.details['outcome'] === 'FAILED' ? ['execution.failed'] : ['execution.completed'];
    default:
      return [];
  }
}
