import type { ApprovalStatus } from '../domain/approval-state.js';
import { contextHash } from '../domain/context-hash.js';
import { requested } from '../domain/transitions.js';
import { Approval } from '../db/entities/approval.entity.js';
import { policyToolHints, type PolicyDecision } from '../policy/index.js';
import { viewFor, viewWithToken } from './access.js';
import { requireRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import {
  contextObject,
  MAX_TTL_SECONDS,
  name,
  optionalInteger,
  optionalNumber,
  optionalText,
  priority,
  type RequestApprovalInput,
} from './inputs.js';
import { changeBy, record } from './record.js';
import { issueToken } from './tokens.js';
import type { RequestApprovalResult } from './views.js';

/**
 * Asks the policy whether an agent's action may run, stores the request with the decision and,
 * when the policy allows it outright, signs its decision token.
 */
export async function requestApproval(deps: GateDeps, caller: Caller, input: RequestApprovalInput): Promise<RequestApprovalResult> {
  requireRole(caller, 'agent');
  const action = name('action', input.action);
  const resource = optionalText('resource', input.resource);
  const context = contextObject('context', input.context);
  const agent = optionalText('agent', input.agent, 256);
  const sessionId = optionalText('sessionId', input.sessionId, 256);
  const confidence = optionalNumber('confidence', input.confidence, 0, 1);
  const estimatedDurationMinutes = optionalNumber('estimatedDurationMinutes', input.estimatedDurationMinutes, 0, 525_600);
  const requestedPriority = priority(input.priority);
  const source = optionalText('source', input.source, 64);
  const idempotencyKey = optionalText('idempotencyKey', input.idempotencyKey, 256);
  const ttlSeconds = optionalInteger('ttlSeconds', input.ttlSeconds, 1, MAX_TTL_SECONDS);
  const hints = policyToolHints(input.toolHints);
  const hash = contextHash({ tenant: caller.tenant, action, resource, context });

  // A repeated request returns the original before anything is evaluated or signed.
  if (idempotencyKey !== null) {
    const existing = await deps.stores.approvals.findByIdempotencyKey(caller.tenant, caller.subject, idempotencyKey);
    if (existing) return replayOf(deps, existing, caller);
  }

  // Settings changed or keys rotated by another instance apply from this decision on.
  await deps.currentState(caller.tenant);
  const decision = deps.evaluator.evaluate({
    tenant: caller.tenant,
    requester: { subject: caller.subject, roles: [...caller.roles] },
    agent,
    action,
    resource,
    context,
    confidence,
    estimated_duration_minutes: estimatedDurationMinutes,
    priority: requestedPriority,
    source,
    ...(hints && { tool_hints: hints }),
  });
  const now = deps.now();
  const status: ApprovalStatus =
    decision.outcome === 'allow' ? 'APPROVED' : decision.outcome === 'deny' ? 'DENIED' : 'PENDING';
  const lifetime = Math.min(decision.requestTtlSeconds, ttlSeconds ?? MAX_TTL_SECONDS);
  const approval = new Approval({
    tenant: caller.tenant,
    action,
    resource,
    context,
    contextHash: hash,
    agent,
    sessionId,
    requesterSubject: caller.subject,
    confidence,
    estimatedDurationMinutes,
    priority: requestedPriority,
    source,
    idempotencyKey,
    status,
    riskScore: decision.riskScore,
    riskLevel: decision.riskLevel,
    reasons: decision.reasons,
    requiredApprovals: decision.outcome === 'require_approval' ? decision.requiredApprovals : 0,
    approverRoles: decision.outcome === 'require_approval' ? decision.approverRoles : [],
    escalated: decision.escalated,
    expiresAt: new Date(now.getTime() + lifetime * 1000),
    tokenTtlSeconds: decision.tokenTtlSeconds,
    policyRevision: decision.policyRevision,
  });
  approval.createdAt = now;
  approval.updatedAt = now;
  // Signing needs no lock: do it before queueing so concurrent requests sign in parallel.
  let token: string | null = null;
  if (status === 'APPROVED') {
    approval.decidedAt = now;
    // Announced, so that a batch starting while this request signs waits for it (group commit).
    const arrived = deps.committer.expect();
    try {
      token = await issueToken(deps, approval, now);
    } finally {
      arrived();
    }
  }

  return deps.committer.run(async (unit) => {
    // Checked again in the transaction: a concurrent request with the same key may have won.
    if (idempotencyKey !== null) {
      const existing = await deps.stores.approvals.findByIdempotencyKey(caller.tenant, caller.subject, idempotencyKey, unit.em);
      if (existing) return replayOf(deps, existing, caller);
    }
    await deps.stores.approvals.insert(unit.em, approval);
    const transition = requested({
      ...changeBy(caller, approval, now),
      status,
      decision: requestDetails(decision, hash),
      reasons: decision.reasons,
      token: status === 'APPROVED' ? { jti: approval.tokenJti, expiresAt: approval.tokenExpiresAt } : null,
    });
    const view = viewFor(approval, caller, [], token);
    await record(deps, unit, transition, view);
    return { approval: view, token, replayed: false };
  });
}

/** The original request, its token re-created for its requester (the same token: see decisionTokenOf). */
async function replayOf(deps: GateDeps, existing: Approval, caller: Caller): Promise<RequestApprovalResult> {
  const approval = await viewWithToken(deps, existing, caller);
  return { approval, token: approval.decisionToken, replayed: true };
}

function requestDetails(decision: PolicyDecision, hash: string): Record<string, unknown> {
  return {
    outcome: decision.outcome,
    riskScore: decision.riskScore,
    riskLevel: decision.riskLevel,
    ruleIds: decision.reasons.map((reason) => reason.ruleId),
    requiredApprovals: decision.requiredApprovals,
    approverRoles: decision.approverRoles,
    policyRevision: decision.policyRevision,
    failSafe: decision.failSafe,
    contextHash: hash,
  };
}
