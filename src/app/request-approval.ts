import type { ApprovalStatus } from '../domain/approval-state.js';
import { contextHash } from '../domain/context-hash.js';
import { insertNew } from '../db/orm.js';
import { Approval } from '../db/entities/approval.entity.js';
import { policyToolHints, type PolicyDecision } from '../policy/index.js';
import { tokenFor, viewFor } from './access.js';
import { auditStatus, SYSTEM_ACTOR } from './audit-trail.js';
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
  if (status === 'APPROVED') {
    approval.decidedAt = now;
    // Announced, so that a batch starting while this request signs waits for it (group commit).
    const arrived = deps.committer.expect();
    try {
      await issueToken(deps, approval, now);
    } finally {
      arrived();
    }
  }

  return deps.committer.run(async (unit) => {
    if (idempotencyKey !== null) {
      const existing = await unit.em.findOne(
        Approval,
        { tenant: caller.tenant, requesterSubject: caller.subject, idempotencyKey },
        { populate: ['decisions', 'decisionToken'] },
      );
      if (existing) {
        return { approval: viewFor(existing, caller), token: tokenFor(existing, caller), replayed: true };
      }
    }
    // A new request is only inserted here: written at once, past the unit of work (see insertNew).
    await insertNew(unit.em, approval);
    await unit.audit({
      tenant: caller.tenant,
      type: 'requested',
      approvalId: approval.id,
      actor: caller.subject,
      previousStatus: null,
      newStatus: status,
      details: requestDetails(decision, hash),
      occurredAt: now,
    });
    if (status === 'DENIED') {
      await auditStatus(unit, approval, 'denied', SYSTEM_ACTOR, null, now, { reasons: decision.reasons });
    }
    if (status === 'APPROVED') {
      await auditStatus(unit, approval, 'token_issued', SYSTEM_ACTOR, status, now, {
        jti: approval.tokenJti,
        expiresAt: approval.tokenExpiresAt?.toISOString(),
      });
    }
    const view = viewFor(approval, caller, []);
    unit.afterCommit(() =>
      deps.publisher.publish({
        approval: view,
        previousStatus: null,
        kind: status === 'PENDING' ? 'requested' : status === 'DENIED' ? 'denied' : 'approved',
      }),
    );
    return { approval: view, token: status === 'APPROVED' ? approval.decisionToken : null, replayed: false };
  });
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
