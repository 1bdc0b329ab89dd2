import { ref } from '@mikro-orm/core';
import { decide as applyVote } from '../domain/approval-state.js';
import { AlreadyDecidedError, ExpiredError, InvalidInputError, NotFoundError } from '../domain/errors.js';
import { Approval } from '../db/entities/approval.entity.js';
import { Vote } from '../db/entities/vote.entity.js';
import { viewFor } from './access.js';
import { auditStatus, SYSTEM_ACTOR } from './audit-trail.js';
import { requireRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import { expireJob } from './expiry.js';
import { optionalText, type DecideInput } from './inputs.js';
import { issueToken } from './tokens.js';
import type { ApprovalView } from './views.js';

/** Records an approver's vote: the required approvals approve (and sign the token), one rejection rejects. */
export async function decide(deps: GateDeps, caller: Caller, input: DecideInput): Promise<ApprovalView> {
  requireRole(caller, 'approver', 'admin');
  const approvalId = optionalText('approvalId', input.approvalId, 64) ?? '';
  if (input.decision !== 'APPROVE' && input.decision !== 'REJECT') {
    throw new InvalidInputError('decision', 'must be APPROVE or REJECT');
  }
  const comment = optionalText('comment', input.comment, 4096);
  return deps.committer.run(async (unit) => {
    const approval = await unit.em.findOne(Approval, { id: approvalId, tenant: caller.tenant }, { populate: ['decisions'] });
    if (!approval) throw new NotFoundError('Approval', approvalId);
    const now = deps.now();
    if (approval.status === 'PENDING' && approval.expiresAt <= now) {
      // The vote is refused, and the request's expiry, which the vote revealed, is recorded.
      return unit.refuse(new ExpiredError(approval.expiresAt), (record) => expireJob(deps, record, approval.tenant, approval.id));
    }
    // Requests the policy decided outright (allowed or denied) need no votes (requiredApprovals 0):
    // they are closed, which is what a late voter must hear, not that the request is malformed.
    if (approval.status !== 'PENDING' && approval.status !== 'EXPIRED') {
      throw AlreadyDecidedError.notPending(approval.status);
    }
    const outcome = applyVote(
      {
        status: approval.status,
        requesterSubject: approval.requesterSubject,
        requiredApprovals: approval.requiredApprovals,
        approverRoles: approval.approverRoles,
        expiresAt: approval.expiresAt,
        decisions: approval.decisions.getItems(),
      },
      { subject: caller.subject, roles: caller.roles },
      input.decision,
      now,
    );
    const previousStatus = approval.status;
    const vote = new Vote(ref(approval), caller.subject, input.decision, comment);
    vote.createdAt = now;
    approval.decisions.add(vote);
    unit.em.persist(vote);
    approval.updatedAt = now;
    await unit.audit({
      tenant: approval.tenant,
      type: 'decided',
      approvalId: approval.id,
      actor: caller.subject,
      previousStatus,
      newStatus: outcome.nextStatus,
      details: { decision: input.decision, comment, approvals: outcome.approvalsCount, remaining: outcome.remainingApprovals },
      occurredAt: now,
    });
    if (outcome.nextStatus === 'APPROVED') {
      approval.status = 'APPROVED';
      approval.decidedAt = now;
      await issueToken(deps, approval, now);
      await auditStatus(unit, approval, 'approved', caller.subject, previousStatus, now, {
        approvers: approval.decisions.getItems().map((item) => item.approver),
      });
      await auditStatus(unit, approval, 'token_issued', SYSTEM_ACTOR, 'APPROVED', now, {
        jti: approval.tokenJti,
        expiresAt: approval.tokenExpiresAt?.toISOString(),
      });
    } else if (outcome.nextStatus === 'REJECTED') {
      approval.status = 'REJECTED';
      approval.decidedAt = now;
      await auditStatus(unit, approval, 'rejected', caller.subject, previousStatus, now, { comment });
    }
    const kind = outcome.nextStatus === 'APPROVED' ? 'approved' : outcome.nextStatus === 'REJECTED' ? 'rejected' : 'voted';
    const view = viewFor(approval, null);
    const tokenForRequester = approval.decisionToken;
    unit.afterCommit(() =>
      deps.publisher.publish({ approval: { ...view, decisionToken: kind === 'approved' ? tokenForRequester : null }, previousStatus, kind }),
    );
    return view;
  });
}
