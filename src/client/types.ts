import type { ApprovalStatus } from '../domain/approval-state.js';

/** Where an approval stands: PENDING, APPROVED, REJECTED, DENIED, EXPIRED, EXECUTED or FAILED. */
export type { ApprovalStatus };

/** Instants are ISO 8601 strings in UTC, as the API sends them. */
export type IsoDateTime = string;

/** Why the policy decided as it did, with the stable id of the rule. */
export interface Reason {
  ruleId: string;
  message: string;
}

/** One approver's recorded decision. */
export interface ApproverDecision {
  approver: string;
  decision: 'APPROVE' | 'REJECT';
  comment: string | null;
  decidedAt: IsoDateTime;
}

/** An approval request, the policy's decision on it and its life since. */
export interface Approval {
  id: string;
  status: ApprovalStatus;
  action: string;
  resource: string | null;
  context: unknown;
  /** Lowercase hex SHA-256 of the canonical {tenant, action, resource, context}. */
  contextHash: string;
  agent: string | null;
  sessionId: string | null;
  requester: string;
  confidence: number | null;
  estimatedDurationMinutes: number | null;
  priority: string | null;
  source: string | null;
  riskScore: number;
  riskLevel: string;
  reasons: Reason[];
  requiredApprovals: number;
  /** How many more approvals a pending request needs (0 once it has left pending). */
  remainingApprovals: number;
  approverRoles: string[];
  escalated: boolean;
  decisions: ApproverDecision[];
  expiresAt: IsoDateTime;
  decidedAt: IsoDateTime | null;
  tokenExpiresAt: IsoDateTime | null;
  policyRevision: string;
  createdAt: IsoDateTime;
  updatedAt: IsoDateTime;
  /** The signed decision token; only the requester sees it, once approved. */
  decisionToken: string | null;
}

/** How urgent a request is; the policy shortens the lifetime of urgent ones. */
export type Priority = 'low' | 'normal' | 'high' | 'critical';

/** What an agent asks to do. `context` must be exactly what the action will run with. */
export interface ApprovalRequest {
  /** The action type, e.g. `payment` or `delete_records`. */
  action: string;
  resource?: string | null;
  /** The exact parameters of the action (a JSON object); the decision token is bound to them. */
  context: Record<string, unknown>;
  agent?: string | null;
  sessionId?: string | null;
  /** The agent's confidence, from 0 to 1. */
  confidence?: number | null;
  estimatedDurationMinutes?: number | null;
  priority?: Priority | null;
  /** Where the request came from, e.g. internal or external. */
  source?: string | null;
  /** Repeating a key returns the original request instead of making a new one. */
  idempotencyKey?: string | null;
  /** Shortens the request's lifetime below the policy's. */
  ttlSeconds?: number | null;
}

/** The answer to a request: the stored approval and, when allowed outright, its token. */
export interface RequestApprovalPayload {
  approval: Approval;
  /** The decision token, when the policy allowed the action outright. */
  token: string | null;
  /** True when the idempotency key returned an earlier request. */
  replayed: boolean;
}

/** How an execution ended, as its executor reports it. */
export type ExecutionOutcome = 'SUCCEEDED' | 'FAILED';

/** The one use of a decision token, and the outcome the executor reported. */
export interface Execution {
  id: string;
  approvalId: string;
  status: 'STARTED' | 'SUCCEEDED' | 'FAILED';
  executor: string;
  result: unknown;
  createdAt: IsoDateTime;
  completedAt: IsoDateTime | null;
}

/** What `execute` redeems: the token and the exact action it was issued for. */
export interface ExecuteInput {
  token: string;
  action: string;
  resource?: string | null;
  context: Record<string, unknown>;
  /** Report the outcome at once instead of with `completeExecution`. */
  outcome?: ExecutionOutcome | null;
  result?: unknown;
  /** Verify the token and context without consuming the token. */
  dryRun?: boolean | null;
}

/** The result of `execute` and `completeExecution`. */
export interface ExecutePayload {
  approval: Approval;
  /** Null for a dry run. */
  execution: Execution | null;
  dryRun: boolean;
}

/** The outcome of a started execution, reported by its executor. */
export interface CompleteExecutionInput {
  executionId: string;
  outcome: ExecutionOutcome;
  result?: unknown;
}

/** An approver's vote on a pending request. */
export interface DecideInput {
  approvalId: string;
  decision: 'APPROVE' | 'REJECT';
  comment?: string | null;
}

/** Where a page ends and whether another follows. */
export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

/** One page of a listing; pass `pageInfo.endCursor` as `after` for the next. */
export interface Page<T> {
  nodes: T[];
  pageInfo: PageInfo;
}

/** Which approvals to list (requesters only ever see their own). */
export interface ApprovalFilter {
  status?: ApprovalStatus | null;
  action?: string | null;
  agent?: string | null;
  sessionId?: string | null;
  /** Page size, 1 to 200 (default 50). */
  first?: number | null;
  after?: string | null;
}

/** One link of the tenant's tamper-evident audit chain. */
export interface AuditEvent {
  id: string;
  seq: number;
  type: string;
  approvalId: string | null;
  actor: string;
  previousStatus: string | null;
  newStatus: string | null;
  details: unknown;
  occurredAt: IsoDateTime;
  previousHash: string;
  hash: string;
}

/** Which audit events to list. */
export interface AuditFilter {
  approvalId?: string | null;
  type?: string | null;
  actor?: string | null;
  /** Inclusive lower bound. */
  since?: Date | IsoDateTime | null;
  /** Exclusive upper bound. */
  until?: Date | IsoDateTime | null;
  first?: number | null;
  after?: string | null;
}

/** The verdict on the tenant's audit chain. */
export interface AuditChainVerification {
  ok: boolean;
  /** Events verified before the first break, or all of them. */
  checked: number;
  brokenAt: { seq: number; id: string; reason: string } | null;
}

/** An event of the `pendingApprovals` subscription. */
export interface PendingApprovalEvent {
  /** CURRENT: pending when the subscription started; ADDED, UPDATED (a vote), REMOVED (decided or expired). */
  kind: 'CURRENT' | 'ADDED' | 'UPDATED' | 'REMOVED';
  approval: Approval;
}

/** An event of the `approvalUpdated` subscription. */
export interface ApprovalUpdate {
  kind: 'current' | 'requested' | 'voted' | 'approved' | 'rejected' | 'denied' | 'expired' | 'executed' | 'completed';
  previousStatus: ApprovalStatus | null;
  approval: Approval;
  /** The decision token, for the requester, when the change approved the request. */
  token: string | null;
}
