import { decide as applyVote } from '../domain/approval-state.js';
import { AlreadyDecidedError, ExpiredError, InvalidInputError, NotFoundError } from '../domain/errors.js';
import { voted } from '../domain/transitions.js';
import { viewFor } from './access.js';
import { requireRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import { expireJob } from './expiry.js';
import { optionalText, type DecideInput } from './inputs.js';
import { changeBy, record } from './record.js';
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
  // An approving vote signs the token: with a key another instance may have rotated in.
  await deps.currentState(caller.tenant);
  return deps.committer.run(async (unit) => {
    const approval = await deps.stores.approvals.load(unit.em, caller.tenant, approvalId);
    if (!approval) throw new NotFoundError('Approval', approvalId);
    const now = deps.now();
    if (approval.status === 'PENDING' && approval.expiresAt <= now) {
      // The vote is refused, and the request's expiry, which the vote revealed, is recorded.
      return unit.refuse(new ExpiredError(approval.expiresAt), (recorder) => expireJob(deps, recorder, approval.tenant, approval.id));
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
    await deps.stores.votes.add(unit.em, approval, caller.subject, input.decision, comment, now);
    approval.updatedAt = now;
    if (outcome.nextStatus === 'APPROVED' || outcome.nextStatus === 'REJECTED') {
      approval.status = outcome.nextStatus;
      approval.decidedAt = now;
    }
    const token = outcome.nextStatus === 'APPROVED' ? await issueToken(deps, approval, now) : null;
    await deps.stores.approvals.save(unit.em, approval);
    const transition = voted({
      ...changeBy(caller, approval, now),
      previousStatus,
      status: outcome.nextStatus,
      decision: input.decision,
      comment,
      approvals: outcome.approvalsCount,
      remaining: outcome.remainingApprovals,
      approvers: approval.decisions.getItems().map((item) => item.approver),
      token: outcome.nextStatus === 'APPROVED' ? { jti: approval.tokenJti, expiresAt: approval.tokenExpiresAt } : null,
    });
    const view = viewFor(approval, null);
    await record(deps, unit, transition, view, token);
    return view;
  });
}
