import type { Approval } from '../db/entities/approval.entity.js';
import { hasRole, type Caller } from './caller.js';
import { approvalView, voteViews, type ApprovalView, type VoteView } from './views.js';

/** Whether this caller may read the decision token of an approval: only its requester may. */
export function tokenFor(approval: Approval, caller: Caller | null): string | null {
  return caller !== null && caller.subject === approval.requesterSubject && approval.status === 'APPROVED'
    ? (approval.decisionToken ?? null)
    : null;
}

/** The approval as `caller` may see it (null: as anyone but its requester sees it). */
export function viewFor(approval: Approval, caller: Caller | null, votes: VoteView[] = voteViews(approval)): ApprovalView {
  return approvalView(approval, votes, tokenFor(approval, caller));
}

export function canRead(caller: Caller, approval: Approval): boolean {
  return hasRole(caller, 'approver', 'admin', 'auditor') || approval.requesterSubject === caller.subject;
}
