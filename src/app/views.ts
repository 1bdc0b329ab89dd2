import type { Vote } from '../domain/approval-state.js';
import type { ExecutionStatus } from '../domain/transitions.js';
import type { Approval, ApprovalRequestFields } from '../db/entities/approval.entity.js';
import type { Execution } from '../db/entities/execution.entity.js';
import type { TenantSettings } from '../db/entities/tenant-settings.entity.js';

/** One approver's recorded decision. */
export interface VoteView {
  approver: string;
  decision: Vote;
  comment: string | null;
  decidedAt: Date;
}

/**
 * An approval as the API shows it: a detached snapshot, safe to hand to many subscribers. It shows
 * what was requested and decided, except the requester's idempotency key and the token lifetime.
 */
export interface ApprovalView extends Omit<ApprovalRequestFields, 'requesterSubject' | 'idempotencyKey' | 'tokenTtlSeconds'> {
  id: string;
  requester: string;
  decisions: VoteView[];
  decidedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  tokenExpiresAt: Date | null;
  /** The decision token, present only in views meant for the requester. */
  decisionToken: string | null;
}

export function approvalView(approval: Approval, votes: VoteView[], decisionToken: string | null = null): ApprovalView {
  return {
    id: approval.id,
    tenant: approval.tenant,
    status: approval.status,
    action: approval.action,
    resource: approval.resource,
    context: approval.context,
    contextHash: approval.contextHash,
    agent: approval.agent,
    sessionId: approval.sessionId,
    requester: approval.requesterSubject,
    confidence: approval.confidence,
    estimatedDurationMinutes: approval.estimatedDurationMinutes,
    priority: approval.priority,
    source: approval.source,
    riskScore: approval.riskScore,
    riskLevel: approval.riskLevel,
    reasons: approval.reasons,
    requiredApprovals: approval.requiredApprovals,
    approverRoles: approval.approverRoles,
    escalated: approval.escalated,
    decisions: votes,
    expiresAt: approval.expiresAt,
    decidedAt: approval.decidedAt,
    policyRevision: approval.policyRevision,
    createdAt: approval.createdAt,
    updatedAt: approval.updatedAt,
    tokenExpiresAt: approval.tokenExpiresAt,
    decisionToken,
  };
}

/** The votes of an approval whose `decisions` are loaded, in the order they were cast. */
export const voteViews = (approval: Approval): VoteView[] =>
  approval.decisions.isInitialized()
    ? approval.decisions.getItems().map((vote) => ({
        approver: vote.approver,
        decision: vote.decision,
        comment: vote.comment,
        decidedAt: vote.createdAt,
      }))
    : [];

export interface RequestApprovalResult {
  approval: ApprovalView;
  /** Present when the policy allowed the action outright. */
  token: string | null;
  /** True when an earlier request with the same idempotency key was returned. */
  replayed: boolean;
}

export interface ExecutionView {
  id: string;
  approvalId: string;
  status: ExecutionStatus;
  executor: string;
  result: unknown;
  createdAt: Date;
  completedAt: Date | null;
}

export const executionView = (execution: Execution): ExecutionView => ({
  id: execution.id,
  approvalId: execution.approvalId,
  status: execution.status,
  executor: execution.executor,
  result: execution.result,
  createdAt: execution.createdAt,
  completedAt: execution.completedAt,
});

export interface ExecuteResult {
  /** Null for a dry run, which consumes nothing. */
  execution: ExecutionView | null;
  approval: ApprovalView;
  dryRun: boolean;
}

/** How many more approvals a pending request needs. */
export function remainingApprovals(view: ApprovalView): number {
  if (view.status !== 'PENDING') return 0;
  const approvals = view.decisions.filter((vote) => vote.decision === 'APPROVE').length;
  return Math.max(0, view.requiredApprovals - approvals);
}

/** A tenant's settings with the policy defaults they override. */
export interface TenantSettingsView {
  tenant: string;
  threshold: number | null;
  allowlist: string[];
  denylist: string[];
  requestTtlSeconds: number | null;
  tokenTtlSeconds: number | null;
  updatedAt: Date | null;
  updatedBy: string | null;
}

export function tenantSettingsView(tenant: string, settings: TenantSettings | null): TenantSettingsView {
  return {
    tenant,
    threshold: settings?.threshold ?? null,
    allowlist: settings?.allowlist ?? [],
    denylist: settings?.denylist ?? [],
    requestTtlSeconds: settings?.requestTtlSeconds ?? null,
    tokenTtlSeconds: settings?.tokenTtlSeconds ?? null,
    updatedAt: settings?.updatedAt ?? null,
    updatedBy: settings?.updatedBy ?? null,
  };
}
