/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type ApprovalChangeKind =
  | 'approved'
  | 'completed'
  /** The approval as it stood when the subscription started (only with current: true). */
  | 'current'
  | 'denied'
  | 'executed'
  | 'expired'
  | 'reissued'
  | 'rejected'
  | 'requested'
  | 'voted';

export type ApprovalStatus =
  | 'APPROVED'
  | 'DENIED'
  | 'EXECUTED'
  | 'EXPIRED'
  | 'FAILED'
  | 'PENDING'
  | 'REJECTED';

export type CompleteExecutionInput = {
  executionId: string;
  outcome: ExecutionOutcome;
  result?: unknown;
};

export type CreateNotificationChannelInput = {
  /** Recipients of an email channel. */
  emailTo?: Array<string> | null | undefined;
  events: Array<string>;
  /** Lead time of approval.expiring (default COUNTERSIGN_NOTIFY_EXPIRING_SECONDS, 300). */
  expiringBeforeSeconds?: number | null | undefined;
  includeContext?: boolean | null | undefined;
  kind: NotificationChannelKind;
  name: string;
  /** The webhook URL, or the Slack incoming-webhook URL. */
  url?: string | null | undefined;
};

export type DecideInput = {
  approvalId: string;
  comment?: string | null | undefined;
  decision: Decision;
};

export type DecideManyInput = {
  /** The requests to decide, 1 to 100 distinct ids. */
  approvalIds: Array<string>;
  /** Recorded with every vote of the batch. */
  comment?: string | null | undefined;
  decision: Decision;
};

export type Decision =
  | 'APPROVE'
  | 'REJECT';

/** Stable codes of expected failures; match on these, not on messages. */
export type ErrorCode =
  | 'ALREADY_DECIDED'
  | 'CONTEXT_MISMATCH'
  | 'EXPIRED'
  | 'FORBIDDEN'
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'SELF_APPROVAL'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_INVALID'
  | 'TOKEN_REPLAYED'
  | 'UNAUTHENTICATED';

export type ExecuteInput = {
  action: string;
  context: unknown;
  /** Verify the token and context without consuming the token. */
  dryRun?: boolean | null | undefined;
  /** Report the outcome at once instead of with completeExecution. */
  outcome?: ExecutionOutcome | null | undefined;
  resource?: string | null | undefined;
  result?: unknown;
  token: string;
};

export type ExecutionOutcome =
  | 'FAILED'
  | 'SUCCEEDED';

export type ExecutionStatus =
  | 'FAILED'
  | 'STARTED'
  | 'SUCCEEDED';

export type NotificationAttemptOutcome =
  | 'DELIVERED'
  | 'FAILED';

/** WEBHOOK: signed JSON (Standard Webhooks); SLACK: a Block Kit message to an incoming webhook; EMAIL: over SMTP. */
export type NotificationChannelKind =
  | 'EMAIL'
  | 'SLACK'
  | 'WEBHOOK';

/** PENDING: due; RETRYING: an attempt failed, another is scheduled; DELIVERED; DEAD: every attempt failed (replay it). */
export type NotificationDeliveryStatus =
  | 'DEAD'
  | 'DELIVERED'
  | 'PENDING'
  | 'RETRYING';

export type PendingApprovalEventKind =
  /** The request became pending. */
  | 'ADDED'
  /** The request was already pending when the subscription started (only with current: true). */
  | 'CURRENT'
  /** The request left pending: approved, rejected or expired. */
  | 'REMOVED'
  /** An approver decided; more approvals are still needed. */
  | 'UPDATED';

export type Priority =
  | 'critical'
  | 'high'
  | 'low'
  | 'normal';

export type RequestApprovalInput = {
  /** The action type, e.g. payment or delete_records. */
  action: string;
  agent?: string | null | undefined;
  /** The agent's confidence, from 0 to 1. */
  confidence?: number | null | undefined;
  /** The exact context the action will run with. */
  context: unknown;
  estimatedDurationMinutes?: number | null | undefined;
  /** Repeating a key returns the original request. */
  idempotencyKey?: string | null | undefined;
  priority?: Priority | null | undefined;
  resource?: string | null | undefined;
  sessionId?: string | null | undefined;
  /** Where the request came from, e.g. internal or external. */
  source?: string | null | undefined;
  /** The annotations of the MCP tool this action calls, if any. */
  toolHints?: ToolHintsInput | null | undefined;
  /** Shortens the request's lifetime below the policy's. */
  ttlSeconds?: number | null | undefined;
};

/** An MCP tool's annotations, as the caller reports them. Untrusted: the policy lets them raise the risk, never lower it. */
export type ToolHintsInput = {
  destructiveHint?: boolean | null | undefined;
  idempotentHint?: boolean | null | undefined;
  openWorldHint?: boolean | null | undefined;
  readOnlyHint?: boolean | null | undefined;
};

/** Fields left out stay as they are. */
export type UpdateNotificationChannelInput = {
  emailTo?: Array<string> | null | undefined;
  enabled?: boolean | null | undefined;
  events?: Array<string> | null | undefined;
  expiringBeforeSeconds?: number | null | undefined;
  id: string;
  includeContext?: boolean | null | undefined;
  name?: string | null | undefined;
  url?: string | null | undefined;
};

export type ApprovalFieldsFragment = { id: string, status: ApprovalStatus, action: string, resource: string | null, context: unknown, contextHash: string, agent: string | null, sessionId: string | null, requester: string, confidence: number | null, estimatedDurationMinutes: number | null, priority: string | null, source: string | null, riskScore: number, riskLevel: string, requiredApprovals: number, remainingApprovals: number, approverRoles: Array<string>, escalated: boolean, expiresAt: string, decidedAt: string | null, tokenExpiresAt: string | null, policyRevision: string, createdAt: string, updatedAt: string, decisionToken: string | null, reasons: Array<{ ruleId: string, message: string, fields: Array<string> }>, decisions: Array<{ approver: string, decision: Decision, comment: string | null, decidedAt: string }> };

export type ExecutionFieldsFragment = { id: string, approvalId: string, status: ExecutionStatus, executor: string, result: unknown, createdAt: string, completedAt: string | null };

type CallerErrorFields_AlreadyDecidedError_Fragment = { code: ErrorCode, message: string };

type CallerErrorFields_ContextMismatchError_Fragment = { code: ErrorCode, message: string };

type CallerErrorFields_ExpiredError_Fragment = { code: ErrorCode, message: string };

type CallerErrorFields_ForbiddenError_Fragment = { requiredRoles: Array<string> | null, code: ErrorCode, message: string };

type CallerErrorFields_InvalidInputError_Fragment = { field: string, problem: string, code: ErrorCode, message: string };

type CallerErrorFields_NotFoundError_Fragment = { code: ErrorCode, message: string };

type CallerErrorFields_RateLimitedError_Fragment = { code: ErrorCode, message: string };

type CallerErrorFields_SelfApprovalError_Fragment = { code: ErrorCode, message: string };

type CallerErrorFields_TokenExpiredError_Fragment = { code: ErrorCode, message: string };

type CallerErrorFields_TokenInvalidError_Fragment = { code: ErrorCode, message: string };

type CallerErrorFields_TokenReplayedError_Fragment = { code: ErrorCode, message: string };

type CallerErrorFields_UnauthenticatedError_Fragment = { code: ErrorCode, message: string };

export type CallerErrorFieldsFragment =
  | CallerErrorFields_AlreadyDecidedError_Fragment
  | CallerErrorFields_ContextMismatchError_Fragment
  | CallerErrorFields_ExpiredError_Fragment
  | CallerErrorFields_ForbiddenError_Fragment
  | CallerErrorFields_InvalidInputError_Fragment
  | CallerErrorFields_NotFoundError_Fragment
  | CallerErrorFields_RateLimitedError_Fragment
  | CallerErrorFields_SelfApprovalError_Fragment
  | CallerErrorFields_TokenExpiredError_Fragment
  | CallerErrorFields_TokenInvalidError_Fragment
  | CallerErrorFields_TokenReplayedError_Fragment
  | CallerErrorFields_UnauthenticatedError_Fragment
;

export type AuditEventFieldsFragment = { id: string, seq: number, type: string, approvalId: string | null, actor: string, previousStatus: string | null, newStatus: string | null, details: unknown, occurredAt: string, previousHash: string, hash: string };

export type RequestApprovalMutationVariables = Exact<{
  input: RequestApprovalInput;
}>;


export type RequestApprovalMutation = { requestApproval:
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'RateLimitedError', code: ErrorCode, message: string }
    | { __typename: 'RequestApprovalPayload', token: string | null, replayed: boolean, approval: { id: string, status: ApprovalStatus, action: string, resource: string | null, context: unknown, contextHash: string, agent: string | null, sessionId: string | null, requester: string, confidence: number | null, estimatedDurationMinutes: number | null, priority: string | null, source: string | null, riskScore: number, riskLevel: string, requiredApprovals: number, remainingApprovals: number, approverRoles: Array<string>, escalated: boolean, expiresAt: string, decidedAt: string | null, tokenExpiresAt: string | null, policyRevision: string, createdAt: string, updatedAt: string, decisionToken: string | null, reasons: Array<{ ruleId: string, message: string, fields: Array<string> }>, decisions: Array<{ approver: string, decision: Decision, comment: string | null, decidedAt: string }> } }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type ApprovalQueryVariables = Exact<{
  id: string;
}>;


export type ApprovalQuery = { approval:
    | { __typename: 'Approval', id: string, status: ApprovalStatus, action: string, resource: string | null, context: unknown, contextHash: string, agent: string | null, sessionId: string | null, requester: string, confidence: number | null, estimatedDurationMinutes: number | null, priority: string | null, source: string | null, riskScore: number, riskLevel: string, requiredApprovals: number, remainingApprovals: number, approverRoles: Array<string>, escalated: boolean, expiresAt: string, decidedAt: string | null, tokenExpiresAt: string | null, policyRevision: string, createdAt: string, updatedAt: string, decisionToken: string | null, reasons: Array<{ ruleId: string, message: string, fields: Array<string> }>, decisions: Array<{ approver: string, decision: Decision, comment: string | null, decidedAt: string }> }
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'NotFoundError', entity: string, code: ErrorCode, message: string }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type ApprovalsQueryVariables = Exact<{
  status?: ApprovalStatus | null | undefined;
  action?: string | null | undefined;
  agent?: string | null | undefined;
  sessionId?: string | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type ApprovalsQuery = { approvals:
    | { __typename: 'ApprovalConnection', nodes: Array<{ id: string, status: ApprovalStatus, action: string, resource: string | null, context: unknown, contextHash: string, agent: string | null, sessionId: string | null, requester: string, confidence: number | null, estimatedDurationMinutes: number | null, priority: string | null, source: string | null, riskScore: number, riskLevel: string, requiredApprovals: number, remainingApprovals: number, approverRoles: Array<string>, escalated: boolean, expiresAt: string, decidedAt: string | null, tokenExpiresAt: string | null, policyRevision: string, createdAt: string, updatedAt: string, decisionToken: string | null, reasons: Array<{ ruleId: string, message: string, fields: Array<string> }>, decisions: Array<{ approver: string, decision: Decision, comment: string | null, decidedAt: string }> }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } }
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type DecideMutationVariables = Exact<{
  input: DecideInput;
}>;


export type DecideMutation = { decide:
    | { __typename: 'AlreadyDecidedError', code: ErrorCode, message: string, reason: string, status: ApprovalStatus, executionStatus: ExecutionStatus | null }
    | { __typename: 'Approval', id: string, status: ApprovalStatus, action: string, resource: string | null, context: unknown, contextHash: string, agent: string | null, sessionId: string | null, requester: string, confidence: number | null, estimatedDurationMinutes: number | null, priority: string | null, source: string | null, riskScore: number, riskLevel: string, requiredApprovals: number, remainingApprovals: number, approverRoles: Array<string>, escalated: boolean, expiresAt: string, decidedAt: string | null, tokenExpiresAt: string | null, policyRevision: string, createdAt: string, updatedAt: string, decisionToken: string | null, reasons: Array<{ ruleId: string, message: string, fields: Array<string> }>, decisions: Array<{ approver: string, decision: Decision, comment: string | null, decidedAt: string }> }
    | { __typename: 'ExpiredError', expiresAt: string, code: ErrorCode, message: string }
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'NotFoundError', entity: string, code: ErrorCode, message: string }
    | { __typename: 'SelfApprovalError', code: ErrorCode, message: string }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type ReissueTokenMutationVariables = Exact<{
  approvalId: string;
}>;


export type ReissueTokenMutation = { reissueToken:
    | { __typename: 'ExpiredError', expiresAt: string, code: ErrorCode, message: string }
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'NotFoundError', entity: string, code: ErrorCode, message: string }
    | { __typename: 'ReissueTokenPayload', token: string, approval: { id: string, status: ApprovalStatus, action: string, resource: string | null, context: unknown, contextHash: string, agent: string | null, sessionId: string | null, requester: string, confidence: number | null, estimatedDurationMinutes: number | null, priority: string | null, source: string | null, riskScore: number, riskLevel: string, requiredApprovals: number, remainingApprovals: number, approverRoles: Array<string>, escalated: boolean, expiresAt: string, decidedAt: string | null, tokenExpiresAt: string | null, policyRevision: string, createdAt: string, updatedAt: string, decisionToken: string | null, reasons: Array<{ ruleId: string, message: string, fields: Array<string> }>, decisions: Array<{ approver: string, decision: Decision, comment: string | null, decidedAt: string }> } }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type ExecuteMutationVariables = Exact<{
  input: ExecuteInput;
}>;


export type ExecuteMutation = { execute:
    | { __typename: 'ContextMismatchError', expectedHash: string, presentedHash: string, code: ErrorCode, message: string }
    | { __typename: 'ExecutePayload', dryRun: boolean, approval: { id: string, status: ApprovalStatus, action: string, resource: string | null, context: unknown, contextHash: string, agent: string | null, sessionId: string | null, requester: string, confidence: number | null, estimatedDurationMinutes: number | null, priority: string | null, source: string | null, riskScore: number, riskLevel: string, requiredApprovals: number, remainingApprovals: number, approverRoles: Array<string>, escalated: boolean, expiresAt: string, decidedAt: string | null, tokenExpiresAt: string | null, policyRevision: string, createdAt: string, updatedAt: string, decisionToken: string | null, reasons: Array<{ ruleId: string, message: string, fields: Array<string> }>, decisions: Array<{ approver: string, decision: Decision, comment: string | null, decidedAt: string }> }, execution: { id: string, approvalId: string, status: ExecutionStatus, executor: string, result: unknown, createdAt: string, completedAt: string | null } | null }
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'RateLimitedError', code: ErrorCode, message: string }
    | { __typename: 'TokenExpiredError', expiredAt: string, code: ErrorCode, message: string }
    | { __typename: 'TokenInvalidError', reason: string, code: ErrorCode, message: string }
    | { __typename: 'TokenReplayedError', code: ErrorCode, message: string }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type CompleteExecutionMutationVariables = Exact<{
  input: CompleteExecutionInput;
}>;


export type CompleteExecutionMutation = { completeExecution:
    | { __typename: 'AlreadyDecidedError', code: ErrorCode, message: string, reason: string, status: ApprovalStatus, executionStatus: ExecutionStatus | null }
    | { __typename: 'ExecutePayload', dryRun: boolean, approval: { id: string, status: ApprovalStatus, action: string, resource: string | null, context: unknown, contextHash: string, agent: string | null, sessionId: string | null, requester: string, confidence: number | null, estimatedDurationMinutes: number | null, priority: string | null, source: string | null, riskScore: number, riskLevel: string, requiredApprovals: number, remainingApprovals: number, approverRoles: Array<string>, escalated: boolean, expiresAt: string, decidedAt: string | null, tokenExpiresAt: string | null, policyRevision: string, createdAt: string, updatedAt: string, decisionToken: string | null, reasons: Array<{ ruleId: string, message: string, fields: Array<string> }>, decisions: Array<{ approver: string, decision: Decision, comment: string | null, decidedAt: string }> }, execution: { id: string, approvalId: string, status: ExecutionStatus, executor: string, result: unknown, createdAt: string, completedAt: string | null } | null }
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'NotFoundError', entity: string, code: ErrorCode, message: string }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type AuditEventsQueryVariables = Exact<{
  approvalId?: string | null | undefined;
  type?: string | null | undefined;
  actor?: string | null | undefined;
  since?: string | null | undefined;
  until?: string | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type AuditEventsQuery = { auditEvents:
    | { __typename: 'AuditEventConnection', nodes: Array<{ id: string, seq: number, type: string, approvalId: string | null, actor: string, previousStatus: string | null, newStatus: string | null, details: unknown, occurredAt: string, previousHash: string, hash: string }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } }
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type VerifyAuditChainQueryVariables = Exact<{
  checkpoint?: string | null | undefined;
}>;


export type VerifyAuditChainQuery = { verifyAuditChain:
    | { __typename: 'AuditChainVerification', ok: boolean, chainOk: boolean, checked: number, stateMismatchCount: number, brokenAt: { seq: number, id: string, reason: string } | null, checkpoint: { size: number, headHash: string, time: string, chainSize: number, hashAtSize: string | null, problem: string | null } | null, stateMismatches: Array<{ approvalId: string, status: string | null, trailStatus: string | null }> }
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type AuditCheckpointQueryVariables = Exact<{ [key: string]: never; }>;


export type AuditCheckpointQuery = { auditCheckpoint:
    | { __typename: 'AuditCheckpoint', tenant: string, origin: string, size: number, headHash: string, time: string, kid: string, keyName: string, note: string }
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type PendingApprovalsSubscriptionVariables = Exact<{
  current?: boolean | null | undefined;
}>;


export type PendingApprovalsSubscription = { pendingApprovals: { kind: PendingApprovalEventKind, approval: { id: string, status: ApprovalStatus, action: string, resource: string | null, context: unknown, contextHash: string, agent: string | null, sessionId: string | null, requester: string, confidence: number | null, estimatedDurationMinutes: number | null, priority: string | null, source: string | null, riskScore: number, riskLevel: string, requiredApprovals: number, remainingApprovals: number, approverRoles: Array<string>, escalated: boolean, expiresAt: string, decidedAt: string | null, tokenExpiresAt: string | null, policyRevision: string, createdAt: string, updatedAt: string, decisionToken: string | null, reasons: Array<{ ruleId: string, message: string, fields: Array<string> }>, decisions: Array<{ approver: string, decision: Decision, comment: string | null, decidedAt: string }> } } };

export type ApprovalUpdatedSubscriptionVariables = Exact<{
  id: string;
  current?: boolean | null | undefined;
}>;


export type ApprovalUpdatedSubscription = { approvalUpdated: { kind: ApprovalChangeKind, previousStatus: string | null, token: string | null, approval: { id: string, status: ApprovalStatus, action: string, resource: string | null, context: unknown, contextHash: string, agent: string | null, sessionId: string | null, requester: string, confidence: number | null, estimatedDurationMinutes: number | null, priority: string | null, source: string | null, riskScore: number, riskLevel: string, requiredApprovals: number, remainingApprovals: number, approverRoles: Array<string>, escalated: boolean, expiresAt: string, decidedAt: string | null, tokenExpiresAt: string | null, policyRevision: string, createdAt: string, updatedAt: string, decisionToken: string | null, reasons: Array<{ ruleId: string, message: string, fields: Array<string> }>, decisions: Array<{ approver: string, decision: Decision, comment: string | null, decidedAt: string }> } } };

export type DecideManyMutationVariables = Exact<{
  input: DecideManyInput;
}>;


export type DecideManyMutation = { decideMany:
    | { __typename: 'DecideManyPayload', results: Array<{ approvalId: string, result:
          | { __typename: 'AlreadyDecidedError', code: ErrorCode, message: string, reason: string, status: ApprovalStatus, executionStatus: ExecutionStatus | null }
          | { __typename: 'Approval', id: string, status: ApprovalStatus, action: string, resource: string | null, context: unknown, contextHash: string, agent: string | null, sessionId: string | null, requester: string, confidence: number | null, estimatedDurationMinutes: number | null, priority: string | null, source: string | null, riskScore: number, riskLevel: string, requiredApprovals: number, remainingApprovals: number, approverRoles: Array<string>, escalated: boolean, expiresAt: string, decidedAt: string | null, tokenExpiresAt: string | null, policyRevision: string, createdAt: string, updatedAt: string, decisionToken: string | null, reasons: Array<{ ruleId: string, message: string, fields: Array<string> }>, decisions: Array<{ approver: string, decision: Decision, comment: string | null, decidedAt: string }> }
          | { __typename: 'ExpiredError', expiresAt: string, code: ErrorCode, message: string }
          | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
          | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
          | { __typename: 'NotFoundError', entity: string, code: ErrorCode, message: string }
          | { __typename: 'SelfApprovalError', code: ErrorCode, message: string }
          | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
         }> }
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type ExecutePayloadFieldsFragment = { dryRun: boolean, approval: { id: string, status: ApprovalStatus, action: string, resource: string | null, context: unknown, contextHash: string, agent: string | null, sessionId: string | null, requester: string, confidence: number | null, estimatedDurationMinutes: number | null, priority: string | null, source: string | null, riskScore: number, riskLevel: string, requiredApprovals: number, remainingApprovals: number, approverRoles: Array<string>, escalated: boolean, expiresAt: string, decidedAt: string | null, tokenExpiresAt: string | null, policyRevision: string, createdAt: string, updatedAt: string, decisionToken: string | null, reasons: Array<{ ruleId: string, message: string, fields: Array<string> }>, decisions: Array<{ approver: string, decision: Decision, comment: string | null, decidedAt: string }> }, execution: { id: string, approvalId: string, status: ExecutionStatus, executor: string, result: unknown, createdAt: string, completedAt: string | null } | null };

export type AlreadyDecidedFieldsFragment = { reason: string, status: ApprovalStatus, executionStatus: ExecutionStatus | null };

export type NotificationChannelFieldsFragment = { id: string, kind: NotificationChannelKind, name: string, url: string | null, emailTo: Array<string>, events: Array<string>, enabled: boolean, includeContext: boolean, expiringBeforeSeconds: number, createdAt: string, updatedAt: string };

export type NotificationDeliveryFieldsFragment = { id: string, channelId: string, eventType: string, approvalId: string | null, status: NotificationDeliveryStatus, attempts: number, occurredAt: string, createdAt: string, nextAttemptAt: string | null, lastAttemptAt: string | null, lastStatusCode: number | null, lastResult: string | null, deliveredAt: string | null, attemptLog: Array<{ number: number, at: string, outcome: NotificationAttemptOutcome, statusCode: number | null, result: string, durationMs: number, nextAttemptAt: string | null }> };

export type NotificationChannelsQueryVariables = Exact<{ [key: string]: never; }>;


export type NotificationChannelsQuery = { notificationChannels:
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'NotificationChannelList', channels: Array<{ id: string, kind: NotificationChannelKind, name: string, url: string | null, emailTo: Array<string>, events: Array<string>, enabled: boolean, includeContext: boolean, expiringBeforeSeconds: number, createdAt: string, updatedAt: string }> }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type CreateNotificationChannelMutationVariables = Exact<{
  input: CreateNotificationChannelInput;
}>;


export type CreateNotificationChannelMutation = { createNotificationChannel:
    | { __typename: 'CreateNotificationChannelPayload', signingSecret: string | null, channel: { id: string, kind: NotificationChannelKind, name: string, url: string | null, emailTo: Array<string>, events: Array<string>, enabled: boolean, includeContext: boolean, expiringBeforeSeconds: number, createdAt: string, updatedAt: string } }
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type UpdateNotificationChannelMutationVariables = Exact<{
  input: UpdateNotificationChannelInput;
}>;


export type UpdateNotificationChannelMutation = { updateNotificationChannel:
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'NotFoundError', code: ErrorCode, message: string }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
    | { __typename: 'UpdateNotificationChannelPayload', channel: { id: string, kind: NotificationChannelKind, name: string, url: string | null, emailTo: Array<string>, events: Array<string>, enabled: boolean, includeContext: boolean, expiringBeforeSeconds: number, createdAt: string, updatedAt: string } }
   };

export type DeleteNotificationChannelMutationVariables = Exact<{
  id: string;
}>;


export type DeleteNotificationChannelMutation = { deleteNotificationChannel:
    | { __typename: 'DeleteNotificationChannelPayload', deletedId: string }
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'NotFoundError', code: ErrorCode, message: string }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type RotateNotificationSecretMutationVariables = Exact<{
  id: string;
}>;


export type RotateNotificationSecretMutation = { rotateNotificationSecret:
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'NotFoundError', code: ErrorCode, message: string }
    | { __typename: 'RotateNotificationSecretPayload', signingSecret: string, channel: { id: string, kind: NotificationChannelKind, name: string, url: string | null, emailTo: Array<string>, events: Array<string>, enabled: boolean, includeContext: boolean, expiringBeforeSeconds: number, createdAt: string, updatedAt: string } }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type NotificationDeliveriesQueryVariables = Exact<{
  channelId?: string | null | undefined;
  status?: NotificationDeliveryStatus | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type NotificationDeliveriesQuery = { notificationDeliveries:
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'NotificationDeliveryConnection', nodes: Array<{ id: string, channelId: string, eventType: string, approvalId: string | null, status: NotificationDeliveryStatus, attempts: number, occurredAt: string, createdAt: string, nextAttemptAt: string | null, lastAttemptAt: string | null, lastStatusCode: number | null, lastResult: string | null, deliveredAt: string | null, attemptLog: Array<{ number: number, at: string, outcome: NotificationAttemptOutcome, statusCode: number | null, result: string, durationMs: number, nextAttemptAt: string | null }> }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export type ReplayNotificationDeliveryMutationVariables = Exact<{
  id: string;
}>;


export type ReplayNotificationDeliveryMutation = { replayNotificationDelivery:
    | { __typename: 'ForbiddenError', requiredRoles: Array<string> | null, code: ErrorCode, message: string }
    | { __typename: 'InvalidInputError', field: string, problem: string, code: ErrorCode, message: string }
    | { __typename: 'NotFoundError', code: ErrorCode, message: string }
    | { __typename: 'ReplayNotificationDeliveryPayload', delivery: { id: string, channelId: string, eventType: string, approvalId: string | null, status: NotificationDeliveryStatus, attempts: number, occurredAt: string, createdAt: string, nextAttemptAt: string | null, lastAttemptAt: string | null, lastStatusCode: number | null, lastResult: string | null, deliveredAt: string | null, attemptLog: Array<{ number: number, at: string, outcome: NotificationAttemptOutcome, statusCode: number | null, result: string, durationMs: number, nextAttemptAt: string | null }> } }
    | { __typename: 'UnauthenticatedError', code: ErrorCode, message: string }
   };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const CallerErrorFieldsFragmentDoc = new TypedDocumentString(`
    fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}
    `, {"fragmentName":"CallerErrorFields"}) as unknown as TypedDocumentString<CallerErrorFieldsFragment, unknown>;
export const AuditEventFieldsFragmentDoc = new TypedDocumentString(`
    fragment AuditEventFields on AuditEvent {
  id
  seq
  type
  approvalId
  actor
  previousStatus
  newStatus
  details
  occurredAt
  previousHash
  hash
}
    `, {"fragmentName":"AuditEventFields"}) as unknown as TypedDocumentString<AuditEventFieldsFragment, unknown>;
export const ApprovalFieldsFragmentDoc = new TypedDocumentString(`
    fragment ApprovalFields on Approval {
  id
  status
  action
  resource
  context
  contextHash
  agent
  sessionId
  requester
  confidence
  estimatedDurationMinutes
  priority
  source
  riskScore
  riskLevel
  reasons {
    ruleId
    message
    fields
  }
  requiredApprovals
  remainingApprovals
  approverRoles
  escalated
  decisions {
    approver
    decision
    comment
    decidedAt
  }
  expiresAt
  decidedAt
  tokenExpiresAt
  policyRevision
  createdAt
  updatedAt
  decisionToken
}
    `, {"fragmentName":"ApprovalFields"}) as unknown as TypedDocumentString<ApprovalFieldsFragment, unknown>;
export const ExecutionFieldsFragmentDoc = new TypedDocumentString(`
    fragment ExecutionFields on Execution {
  id
  approvalId
  status
  executor
  result
  createdAt
  completedAt
}
    `, {"fragmentName":"ExecutionFields"}) as unknown as TypedDocumentString<ExecutionFieldsFragment, unknown>;
export const ExecutePayloadFieldsFragmentDoc = new TypedDocumentString(`
    fragment ExecutePayloadFields on ExecutePayload {
  dryRun
  approval {
    ...ApprovalFields
  }
  execution {
    ...ExecutionFields
  }
}
    fragment ApprovalFields on Approval {
  id
  status
  action
  resource
  context
  contextHash
  agent
  sessionId
  requester
  confidence
  estimatedDurationMinutes
  priority
  source
  riskScore
  riskLevel
  reasons {
    ruleId
    message
    fields
  }
  requiredApprovals
  remainingApprovals
  approverRoles
  escalated
  decisions {
    approver
    decision
    comment
    decidedAt
  }
  expiresAt
  decidedAt
  tokenExpiresAt
  policyRevision
  createdAt
  updatedAt
  decisionToken
}
fragment ExecutionFields on Execution {
  id
  approvalId
  status
  executor
  result
  createdAt
  completedAt
}`, {"fragmentName":"ExecutePayloadFields"}) as unknown as TypedDocumentString<ExecutePayloadFieldsFragment, unknown>;
export const AlreadyDecidedFieldsFragmentDoc = new TypedDocumentString(`
    fragment AlreadyDecidedFields on AlreadyDecidedError {
  reason
  status
  executionStatus
}
    `, {"fragmentName":"AlreadyDecidedFields"}) as unknown as TypedDocumentString<AlreadyDecidedFieldsFragment, unknown>;
export const NotificationChannelFieldsFragmentDoc = new TypedDocumentString(`
    fragment NotificationChannelFields on NotificationChannel {
  id
  kind
  name
  url
  emailTo
  events
  enabled
  includeContext
  expiringBeforeSeconds
  createdAt
  updatedAt
}
    `, {"fragmentName":"NotificationChannelFields"}) as unknown as TypedDocumentString<NotificationChannelFieldsFragment, unknown>;
export const NotificationDeliveryFieldsFragmentDoc = new TypedDocumentString(`
    fragment NotificationDeliveryFields on NotificationDelivery {
  id
  channelId
  eventType
  approvalId
  status
  attempts
  occurredAt
  createdAt
  nextAttemptAt
  lastAttemptAt
  lastStatusCode
  lastResult
  deliveredAt
  attemptLog {
    number
    at
    outcome
    statusCode
    result
    durationMs
    nextAttemptAt
  }
}
    `, {"fragmentName":"NotificationDeliveryFields"}) as unknown as TypedDocumentString<NotificationDeliveryFieldsFragment, unknown>;
export const RequestApprovalDocument = new TypedDocumentString(`
    mutation RequestApproval($input: RequestApprovalInput!) {
  requestApproval(input: $input) {
    __typename
    ... on RequestApprovalPayload {
      token
      replayed
      approval {
        ...ApprovalFields
      }
    }
    ...CallerErrorFields
  }
}
    fragment ApprovalFields on Approval {
  id
  status
  action
  resource
  context
  contextHash
  agent
  sessionId
  requester
  confidence
  estimatedDurationMinutes
  priority
  source
  riskScore
  riskLevel
  reasons {
    ruleId
    message
    fields
  }
  requiredApprovals
  remainingApprovals
  approverRoles
  escalated
  decisions {
    approver
    decision
    comment
    decidedAt
  }
  expiresAt
  decidedAt
  tokenExpiresAt
  policyRevision
  createdAt
  updatedAt
  decisionToken
}
fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}`) as unknown as TypedDocumentString<RequestApprovalMutation, RequestApprovalMutationVariables>;
export const ApprovalDocument = new TypedDocumentString(`
    query Approval($id: ID!) {
  approval(id: $id) {
    __typename
    ...ApprovalFields
    ...CallerErrorFields
    ... on NotFoundError {
      entity
    }
  }
}
    fragment ApprovalFields on Approval {
  id
  status
  action
  resource
  context
  contextHash
  agent
  sessionId
  requester
  confidence
  estimatedDurationMinutes
  priority
  source
  riskScore
  riskLevel
  reasons {
    ruleId
    message
    fields
  }
  requiredApprovals
  remainingApprovals
  approverRoles
  escalated
  decisions {
    approver
    decision
    comment
    decidedAt
  }
  expiresAt
  decidedAt
  tokenExpiresAt
  policyRevision
  createdAt
  updatedAt
  decisionToken
}
fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}`) as unknown as TypedDocumentString<ApprovalQuery, ApprovalQueryVariables>;
export const ApprovalsDocument = new TypedDocumentString(`
    query Approvals($status: ApprovalStatus, $action: String, $agent: String, $sessionId: String, $first: Int, $after: String) {
  approvals(
    status: $status
    action: $action
    agent: $agent
    sessionId: $sessionId
    first: $first
    after: $after
  ) {
    __typename
    ... on ApprovalConnection {
      nodes {
        ...ApprovalFields
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
    ...CallerErrorFields
  }
}
    fragment ApprovalFields on Approval {
  id
  status
  action
  resource
  context
  contextHash
  agent
  sessionId
  requester
  confidence
  estimatedDurationMinutes
  priority
  source
  riskScore
  riskLevel
  reasons {
    ruleId
    message
    fields
  }
  requiredApprovals
  remainingApprovals
  approverRoles
  escalated
  decisions {
    approver
    decision
    comment
    decidedAt
  }
  expiresAt
  decidedAt
  tokenExpiresAt
  policyRevision
  createdAt
  updatedAt
  decisionToken
}
fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}`) as unknown as TypedDocumentString<ApprovalsQuery, ApprovalsQueryVariables>;
export const DecideDocument = new TypedDocumentString(`
    mutation Decide($input: DecideInput!) {
  decide(input: $input) {
    __typename
    ...ApprovalFields
    ...CallerErrorFields
    ... on NotFoundError {
      entity
    }
    ...AlreadyDecidedFields
    ... on ExpiredError {
      expiresAt
    }
  }
}
    fragment ApprovalFields on Approval {
  id
  status
  action
  resource
  context
  contextHash
  agent
  sessionId
  requester
  confidence
  estimatedDurationMinutes
  priority
  source
  riskScore
  riskLevel
  reasons {
    ruleId
    message
    fields
  }
  requiredApprovals
  remainingApprovals
  approverRoles
  escalated
  decisions {
    approver
    decision
    comment
    decidedAt
  }
  expiresAt
  decidedAt
  tokenExpiresAt
  policyRevision
  createdAt
  updatedAt
  decisionToken
}
fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}
fragment AlreadyDecidedFields on AlreadyDecidedError {
  reason
  status
  executionStatus
}`) as unknown as TypedDocumentString<DecideMutation, DecideMutationVariables>;
export const ReissueTokenDocument = new TypedDocumentString(`
    mutation ReissueToken($approvalId: ID!) {
  reissueToken(approvalId: $approvalId) {
    __typename
    ... on ReissueTokenPayload {
      token
      approval {
        ...ApprovalFields
      }
    }
    ...CallerErrorFields
    ... on NotFoundError {
      entity
    }
    ... on ExpiredError {
      expiresAt
    }
  }
}
    fragment ApprovalFields on Approval {
  id
  status
  action
  resource
  context
  contextHash
  agent
  sessionId
  requester
  confidence
  estimatedDurationMinutes
  priority
  source
  riskScore
  riskLevel
  reasons {
    ruleId
    message
    fields
  }
  requiredApprovals
  remainingApprovals
  approverRoles
  escalated
  decisions {
    approver
    decision
    comment
    decidedAt
  }
  expiresAt
  decidedAt
  tokenExpiresAt
  policyRevision
  createdAt
  updatedAt
  decisionToken
}
fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}`) as unknown as TypedDocumentString<ReissueTokenMutation, ReissueTokenMutationVariables>;
export const ExecuteDocument = new TypedDocumentString(`
    mutation Execute($input: ExecuteInput!) {
  execute(input: $input) {
    __typename
    ...ExecutePayloadFields
    ...CallerErrorFields
    ... on TokenInvalidError {
      reason
    }
    ... on TokenExpiredError {
      expiredAt
    }
    ... on ContextMismatchError {
      expectedHash
      presentedHash
    }
  }
}
    fragment ApprovalFields on Approval {
  id
  status
  action
  resource
  context
  contextHash
  agent
  sessionId
  requester
  confidence
  estimatedDurationMinutes
  priority
  source
  riskScore
  riskLevel
  reasons {
    ruleId
    message
    fields
  }
  requiredApprovals
  remainingApprovals
  approverRoles
  escalated
  decisions {
    approver
    decision
    comment
    decidedAt
  }
  expiresAt
  decidedAt
  tokenExpiresAt
  policyRevision
  createdAt
  updatedAt
  decisionToken
}
fragment ExecutionFields on Execution {
  id
  approvalId
  status
  executor
  result
  createdAt
  completedAt
}
fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}
fragment ExecutePayloadFields on ExecutePayload {
  dryRun
  approval {
    ...ApprovalFields
  }
  execution {
    ...ExecutionFields
  }
}`) as unknown as TypedDocumentString<ExecuteMutation, ExecuteMutationVariables>;
export const CompleteExecutionDocument = new TypedDocumentString(`
    mutation CompleteExecution($input: CompleteExecutionInput!) {
  completeExecution(input: $input) {
    __typename
    ...ExecutePayloadFields
    ...CallerErrorFields
    ... on NotFoundError {
      entity
    }
    ...AlreadyDecidedFields
  }
}
    fragment ApprovalFields on Approval {
  id
  status
  action
  resource
  context
  contextHash
  agent
  sessionId
  requester
  confidence
  estimatedDurationMinutes
  priority
  source
  riskScore
  riskLevel
  reasons {
    ruleId
    message
    fields
  }
  requiredApprovals
  remainingApprovals
  approverRoles
  escalated
  decisions {
    approver
    decision
    comment
    decidedAt
  }
  expiresAt
  decidedAt
  tokenExpiresAt
  policyRevision
  createdAt
  updatedAt
  decisionToken
}
fragment ExecutionFields on Execution {
  id
  approvalId
  status
  executor
  result
  createdAt
  completedAt
}
fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}
fragment ExecutePayloadFields on ExecutePayload {
  dryRun
  approval {
    ...ApprovalFields
  }
  execution {
    ...ExecutionFields
  }
}
fragment AlreadyDecidedFields on AlreadyDecidedError {
  reason
  status
  executionStatus
}`) as unknown as TypedDocumentString<CompleteExecutionMutation, CompleteExecutionMutationVariables>;
export const AuditEventsDocument = new TypedDocumentString(`
    query AuditEvents($approvalId: ID, $type: String, $actor: String, $since: DateTime, $until: DateTime, $first: Int, $after: String) {
  auditEvents(
    approvalId: $approvalId
    type: $type
    actor: $actor
    since: $since
    until: $until
    first: $first
    after: $after
  ) {
    __typename
    ... on AuditEventConnection {
      nodes {
        ...AuditEventFields
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
    ...CallerErrorFields
  }
}
    fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}
fragment AuditEventFields on AuditEvent {
  id
  seq
  type
  approvalId
  actor
  previousStatus
  newStatus
  details
  occurredAt
  previousHash
  hash
}`) as unknown as TypedDocumentString<AuditEventsQuery, AuditEventsQueryVariables>;
export const VerifyAuditChainDocument = new TypedDocumentString(`
    query VerifyAuditChain($checkpoint: String) {
  verifyAuditChain(checkpoint: $checkpoint) {
    __typename
    ... on AuditChainVerification {
      ok
      chainOk
      checked
      brokenAt {
        seq
        id
        reason
      }
      checkpoint {
        size
        headHash
        time
        chainSize
        hashAtSize
        problem
      }
      stateMismatches {
        approvalId
        status
        trailStatus
      }
      stateMismatchCount
    }
    ...CallerErrorFields
  }
}
    fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}`) as unknown as TypedDocumentString<VerifyAuditChainQuery, VerifyAuditChainQueryVariables>;
export const AuditCheckpointDocument = new TypedDocumentString(`
    query AuditCheckpoint {
  auditCheckpoint {
    __typename
    ... on AuditCheckpoint {
      tenant
      origin
      size
      headHash
      time
      kid
      keyName
      note
    }
    ...CallerErrorFields
  }
}
    fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}`) as unknown as TypedDocumentString<AuditCheckpointQuery, AuditCheckpointQueryVariables>;
export const PendingApprovalsDocument = new TypedDocumentString(`
    subscription PendingApprovals($current: Boolean) {
  pendingApprovals(current: $current) {
    kind
    approval {
      ...ApprovalFields
    }
  }
}
    fragment ApprovalFields on Approval {
  id
  status
  action
  resource
  context
  contextHash
  agent
  sessionId
  requester
  confidence
  estimatedDurationMinutes
  priority
  source
  riskScore
  riskLevel
  reasons {
    ruleId
    message
    fields
  }
  requiredApprovals
  remainingApprovals
  approverRoles
  escalated
  decisions {
    approver
    decision
    comment
    decidedAt
  }
  expiresAt
  decidedAt
  tokenExpiresAt
  policyRevision
  createdAt
  updatedAt
  decisionToken
}`) as unknown as TypedDocumentString<PendingApprovalsSubscription, PendingApprovalsSubscriptionVariables>;
export const ApprovalUpdatedDocument = new TypedDocumentString(`
    subscription ApprovalUpdated($id: ID!, $current: Boolean) {
  approvalUpdated(id: $id, current: $current) {
    kind
    previousStatus
    token
    approval {
      ...ApprovalFields
    }
  }
}
    fragment ApprovalFields on Approval {
  id
  status
  action
  resource
  context
  contextHash
  agent
  sessionId
  requester
  confidence
  estimatedDurationMinutes
  priority
  source
  riskScore
  riskLevel
  reasons {
    ruleId
    message
    fields
  }
  requiredApprovals
  remainingApprovals
  approverRoles
  escalated
  decisions {
    approver
    decision
    comment
    decidedAt
  }
  expiresAt
  decidedAt
  tokenExpiresAt
  policyRevision
  createdAt
  updatedAt
  decisionToken
}`) as unknown as TypedDocumentString<ApprovalUpdatedSubscription, ApprovalUpdatedSubscriptionVariables>;
export const DecideManyDocument = new TypedDocumentString(`
    mutation DecideMany($input: DecideManyInput!) {
  decideMany(input: $input) {
    __typename
    ... on DecideManyPayload {
      results {
        approvalId
        result {
          __typename
          ...ApprovalFields
          ...CallerErrorFields
          ... on NotFoundError {
            entity
          }
          ...AlreadyDecidedFields
          ... on ExpiredError {
            expiresAt
          }
        }
      }
    }
    ...CallerErrorFields
  }
}
    fragment ApprovalFields on Approval {
  id
  status
  action
  resource
  context
  contextHash
  agent
  sessionId
  requester
  confidence
  estimatedDurationMinutes
  priority
  source
  riskScore
  riskLevel
  reasons {
    ruleId
    message
    fields
  }
  requiredApprovals
  remainingApprovals
  approverRoles
  escalated
  decisions {
    approver
    decision
    comment
    decidedAt
  }
  expiresAt
  decidedAt
  tokenExpiresAt
  policyRevision
  createdAt
  updatedAt
  decisionToken
}
fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}
fragment AlreadyDecidedFields on AlreadyDecidedError {
  reason
  status
  executionStatus
}`) as unknown as TypedDocumentString<DecideManyMutation, DecideManyMutationVariables>;
export const NotificationChannelsDocument = new TypedDocumentString(`
    query NotificationChannels {
  notificationChannels {
    __typename
    ... on NotificationChannelList {
      channels {
        ...NotificationChannelFields
      }
    }
    ...CallerErrorFields
  }
}
    fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}
fragment NotificationChannelFields on NotificationChannel {
  id
  kind
  name
  url
  emailTo
  events
  enabled
  includeContext
  expiringBeforeSeconds
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<NotificationChannelsQuery, NotificationChannelsQueryVariables>;
export const CreateNotificationChannelDocument = new TypedDocumentString(`
    mutation CreateNotificationChannel($input: CreateNotificationChannelInput!) {
  createNotificationChannel(input: $input) {
    __typename
    ... on CreateNotificationChannelPayload {
      signingSecret
      channel {
        ...NotificationChannelFields
      }
    }
    ...CallerErrorFields
  }
}
    fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}
fragment NotificationChannelFields on NotificationChannel {
  id
  kind
  name
  url
  emailTo
  events
  enabled
  includeContext
  expiringBeforeSeconds
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<CreateNotificationChannelMutation, CreateNotificationChannelMutationVariables>;
export const UpdateNotificationChannelDocument = new TypedDocumentString(`
    mutation UpdateNotificationChannel($input: UpdateNotificationChannelInput!) {
  updateNotificationChannel(input: $input) {
    __typename
    ... on UpdateNotificationChannelPayload {
      channel {
        ...NotificationChannelFields
      }
    }
    ...CallerErrorFields
  }
}
    fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}
fragment NotificationChannelFields on NotificationChannel {
  id
  kind
  name
  url
  emailTo
  events
  enabled
  includeContext
  expiringBeforeSeconds
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<UpdateNotificationChannelMutation, UpdateNotificationChannelMutationVariables>;
export const DeleteNotificationChannelDocument = new TypedDocumentString(`
    mutation DeleteNotificationChannel($id: ID!) {
  deleteNotificationChannel(id: $id) {
    __typename
    ... on DeleteNotificationChannelPayload {
      deletedId
    }
    ...CallerErrorFields
  }
}
    fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}`) as unknown as TypedDocumentString<DeleteNotificationChannelMutation, DeleteNotificationChannelMutationVariables>;
export const RotateNotificationSecretDocument = new TypedDocumentString(`
    mutation RotateNotificationSecret($id: ID!) {
  rotateNotificationSecret(id: $id) {
    __typename
    ... on RotateNotificationSecretPayload {
      signingSecret
      channel {
        ...NotificationChannelFields
      }
    }
    ...CallerErrorFields
  }
}
    fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}
fragment NotificationChannelFields on NotificationChannel {
  id
  kind
  name
  url
  emailTo
  events
  enabled
  includeContext
  expiringBeforeSeconds
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<RotateNotificationSecretMutation, RotateNotificationSecretMutationVariables>;
export const NotificationDeliveriesDocument = new TypedDocumentString(`
    query NotificationDeliveries($channelId: ID, $status: NotificationDeliveryStatus, $first: Int, $after: String) {
  notificationDeliveries(
    channelId: $channelId
    status: $status
    first: $first
    after: $after
  ) {
    __typename
    ... on NotificationDeliveryConnection {
      nodes {
        ...NotificationDeliveryFields
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
    ...CallerErrorFields
  }
}
    fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}
fragment NotificationDeliveryFields on NotificationDelivery {
  id
  channelId
  eventType
  approvalId
  status
  attempts
  occurredAt
  createdAt
  nextAttemptAt
  lastAttemptAt
  lastStatusCode
  lastResult
  deliveredAt
  attemptLog {
    number
    at
    outcome
    statusCode
    result
    durationMs
    nextAttemptAt
  }
}`) as unknown as TypedDocumentString<NotificationDeliveriesQuery, NotificationDeliveriesQueryVariables>;
export const ReplayNotificationDeliveryDocument = new TypedDocumentString(`
    mutation ReplayNotificationDelivery($id: ID!) {
  replayNotificationDelivery(id: $id) {
    __typename
    ... on ReplayNotificationDeliveryPayload {
      delivery {
        ...NotificationDeliveryFields
      }
    }
    ...CallerErrorFields
  }
}
    fragment CallerErrorFields on Error {
  code
  message
  ... on ForbiddenError {
    requiredRoles
  }
  ... on InvalidInputError {
    field
    problem
  }
}
fragment NotificationDeliveryFields on NotificationDelivery {
  id
  channelId
  eventType
  approvalId
  status
  attempts
  occurredAt
  createdAt
  nextAttemptAt
  lastAttemptAt
  lastStatusCode
  lastResult
  deliveredAt
  attemptLog {
    number
    at
    outcome
    statusCode
    result
    durationMs
    nextAttemptAt
  }
}`) as unknown as TypedDocumentString<ReplayNotificationDeliveryMutation, ReplayNotificationDeliveryMutationVariables>;