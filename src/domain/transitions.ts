import type { ApprovalStatus, ExecutionOutcome, Vote } from './vocabulary.js';

/** The actor of what the gate does on its own: policy outcomes, expiry, token issue. */
export const SYSTEM_ACTOR = 'system:countersign';

/** What subscribers hear happened to an approval: one kind per transition. */
export const CHANGE_KINDS = ['requested', 'voted', 'approved', 'reissued', 'rejected', 'denied', 'expired', 'executed', 'completed'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** The types of audit events: the trail's whole vocabulary. */
export const AUDIT_EVENT_TYPES = [
  'requested',
  'decided',
  'approved',
  'rejected',
  'denied',
  'token_issued',
  'token_reissued',
  'expired',
  'executed',
  'execution_completed',
  'token_refused',
  'replay_refused',
  'context_mismatch',
  'settings_changed',
  'notification_channel_created',
  'notification_channel_updated',
  'notification_channel_deleted',
  'notification_secret_rotated',
  'notification_delivery_replayed',
  'caller_tokens_revoked',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export {
  EXECUTION_OUTCOMES,
  EXECUTION_STATUSES,
  PRIORITIES,
  type ExecutionOutcome,
  type ExecutionStatus,
  type Priority,
} from './vocabulary.js';

/** One audit row, before the audit log chains it. */
export interface AuditEntry {
  type: AuditEventType;
  actor: string;
  previousStatus: string | null;
  newStatus: string | null;
  details: Record<string, unknown>;
}

/**
 * One state change of one approval, as a single typed event: it yields the audit rows that
 * record it ({@link Transition.audit}, written in the transaction that makes the change) and the
 * change the feed announces after commit ({@link Transition.kind}). It carries no secret.
 */
export interface Transition {
  kind: ChangeKind;
  tenant: string;
  approvalId: string;
  previousStatus: ApprovalStatus | null;
  status: ApprovalStatus;
  occurredAt: Date;
  audit: AuditEntry[];
}

interface Subject {
  tenant: string;
  approvalId: string;
  occurredAt: Date;
}

/** The id and expiry of a decision token just signed (never the token itself). */
export interface TokenIssue {
  jti: string | null;
  expiresAt: Date | null;
}

const tokenIssued = (token: TokenIssue): AuditEntry => ({
  type: 'token_issued',
  actor: SYSTEM_ACTOR,
  previousStatus: 'APPROVED',
  newStatus: 'APPROVED',
  details: { jti: token.jti, expiresAt: token.expiresAt?.toISOString() },
});

/** A new request, decided by the policy: pending, allowed outright (with its token) or denied. */
export function requested(
  subject: Subject & { actor: string; status: ApprovalStatus; decision: Record<string, unknown>; reasons: unknown; token: TokenIssue | null },
): Transition {
  const audit: AuditEntry[] = [
    { type: 'requested', actor: subject.actor, previousStatus: null, newStatus: subject.status, details: subject.decision },
  ];
  if (subject.status === 'DENIED') {
    audit.push({ type: 'denied', actor: SYSTEM_ACTOR, previousStatus: null, newStatus: 'DENIED', details: { reasons: subject.reasons } });
  }
  if (subject.status === 'APPROVED' && subject.token) audit.push(tokenIssued(subject.token));
  const kind: ChangeKind = subject.status === 'PENDING' ? 'requested' : subject.status === 'DENIED' ? 'denied' : 'approved';
  return { ...pick(subject), kind, previousStatus: null, status: subject.status, audit };
}

/** An approver's vote, and the approval or rejection it settles, if any. */
export function voted(
  subject: Subject & {
    actor: string;
    previousStatus: ApprovalStatus;
    status: ApprovalStatus;
    decision: Vote;
    comment: string | null;
    approvals: number;
    remaining: number;
    approvers: string[];
    token: TokenIssue | null;
  },
): Transition {
  const { actor, previousStatus, status, comment } = subject;
  const audit: AuditEntry[] = [
    {
      type: 'decided',
      actor,
      previousStatus,
      newStatus: status,
      details: { decision: subject.decision, comment, approvals: subject.approvals, remaining: subject.remaining },
    },
  ];
  let kind: ChangeKind = 'voted';
  if (status === 'APPROVED') {
    kind = 'approved';
    audit.push({ type: 'approved', actor, previousStatus, newStatus: status, details: { approvers: subject.approvers } });
    if (subject.token) audit.push(tokenIssued(subject.token));
  } else if (status === 'REJECTED') {
    kind = 'rejected';
    audit.push({ type: 'rejected', actor, previousStatus, newStatus: status, details: { comment } });
  }
  return { ...pick(subject), kind, previousStatus, status, audit };
}

/**
 * A fresh decision token for an approved request whose token expired unused, asked for by its
 * requester within the request's window; the previous token's id is no longer the approval's, so
 * that token is dead.
 */
export function tokenReissued(subject: Subject & { actor: string; previousJti: string | null; token: TokenIssue }): Transition {
  return recordedAs(subject, 'reissued', 'APPROVED', 'APPROVED', {
    type: 'token_reissued',
    actor: subject.actor,
    details: { previousJti: subject.previousJti, jti: subject.token.jti, expiresAt: subject.token.expiresAt?.toISOString() },
  });
}

/** A pending request whose lifetime passed. */
export function expired(subject: Subject & { expiresAt: Date }): Transition {
  return recordedAs(subject, 'expired', 'PENDING', 'EXPIRED', {
    type: 'expired',
    actor: SYSTEM_ACTOR,
    details: { expiresAt: subject.expiresAt.toISOString() },
  });
}

/** The outcome of an execution, as one audit row (part of `executed` or of `completed`). */
export interface Completion {
  executionId: string;
  outcome: ExecutionOutcome;
  result: unknown;
}

const completionEntry = (actor: string, previousStatus: ApprovalStatus, completion: Completion): AuditEntry => ({
  type: 'execution_completed',
  actor,
  previousStatus,
  newStatus: completion.outcome === 'FAILED' ? 'FAILED' : previousStatus,
  details: { executionId: completion.executionId, outcome: completion.outcome, result: completion.result },
});

/** The single use of a decision token; with `completion`, its outcome reported at once. */
export function executed(
  subject: Subject & { actor: string; previousStatus: ApprovalStatus; executionId: string; jti: string; completion: Completion | null },
): Transition {
  const audit: AuditEntry[] = [
    {
      type: 'executed',
      actor: subject.actor,
      previousStatus: subject.previousStatus,
      newStatus: 'EXECUTED',
      details: { executionId: subject.executionId, jti: subject.jti },
    },
  ];
  if (subject.completion) audit.push(completionEntry(subject.actor, 'EXECUTED', subject.completion));
  const status: ApprovalStatus = subject.completion?.outcome === 'FAILED' ? 'FAILED' : 'EXECUTED';
  return { ...pick(subject), kind: 'executed', previousStatus: subject.previousStatus, status, audit };
}

/** The outcome of an execution, reported after it started. */
export function completed(subject: Subject & { actor: string; previousStatus: ApprovalStatus; completion: Completion }): Transition {
  const entry = completionEntry(subject.actor, subject.previousStatus, subject.completion);
  return {
    ...pick(subject),
    kind: 'completed',
    previousStatus: subject.previousStatus,
    status: entry.newStatus as ApprovalStatus,
    audit: [entry],
  };
}

/** An execution the gate refused; audited in the tenant that presented the token, no transition. */
export function refusal(actor: string, code: string, message: string, details: Record<string, unknown>): AuditEntry {
  const type: AuditEventType = code === 'TOKEN_REPLAYED' ? 'replay_refused' : code === 'CONTEXT_MISMATCH' ? 'context_mismatch' : 'token_refused';
  return { type, actor, previousStatus: null, newStatus: null, details: { code, message, ...details } };
}

const pick = (subject: Subject): Subject => ({ tenant: subject.tenant, approvalId: subject.approvalId, occurredAt: subject.occurredAt });

/** A transition recorded by one audit row, whose statuses are the transition's own. */
function recordedAs(
  subject: Subject,
  kind: ChangeKind,
  previousStatus: ApprovalStatus,
  status: ApprovalStatus,
  entry: Omit<AuditEntry, 'previousStatus' | 'newStatus'>,
): Transition {
  return { ...pick(subject), kind, previousStatus, status, audit: [{ type: entry.type, actor: entry.actor, previousStatus, newStatus: status, details: entry.details }] };
}
