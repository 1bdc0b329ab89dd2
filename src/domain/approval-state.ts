import {
  AlreadyDecidedError,
  ExpiredError,
  ForbiddenError,
  InvalidInputError,
  SelfApprovalError,
  UnauthenticatedError,
} from './errors.js';

export { APPROVAL_STATUSES, VOTES, type ApprovalStatus, type Vote } from './vocabulary.js';
import type { ApprovalStatus, Vote } from './vocabulary.js';

/** What {@link decide} needs to know about an approval. */
export interface ApprovalDecisionState {
  status: ApprovalStatus;
  requesterSubject: string;
  /** Number of distinct approving votes that approve the request. */
  requiredApprovals: number;
  /** The decider must hold at least one of these roles; an empty list means nobody may decide. */
  approverRoles: readonly string[];
  expiresAt: Date;
  /** Votes already cast. */
  decisions: readonly { approver: string; decision: Vote }[];
}

/** Who is voting. */
export interface Decider {
  subject: string;
  roles: readonly string[];
}

/** The approval's state after a vote. */
export interface DecisionOutcome {
  nextStatus: ApprovalStatus;
  /** Approving votes including this one. */
  approvalsCount: number;
  /** Approving votes still needed; 0 once approved. */
  remainingApprovals: number;
}

/**
 * Applies `decider`'s `vote` to an approval, returning its next status. Pure: the caller persists
 * the outcome (and the vote) atomically.
 *
 * The first REJECT rejects the approval; APPROVE votes from distinct approvers approve it once
 * `requiredApprovals` is reached; otherwise it stays PENDING.
 *
 * @throws {ExpiredError} the approval is past `expiresAt` (or already EXPIRED); callers persist EXPIRED.
 * @throws {AlreadyDecidedError} the approval is not pending (`reason: 'not_pending'`) or the decider
 *   has already voted (`reason: 'already_voted'`).
 * @throws {ForbiddenError} the decider holds none of `approverRoles`.
 * @throws {SelfApprovalError} the decider requested the approval.
 */
export function decide(state: ApprovalDecisionState, decider: Decider, vote: Vote, now: Date): DecisionOutcome {
  if (vote !== 'APPROVE' && vote !== 'REJECT') throw new InvalidInputError('vote', 'must be APPROVE or REJECT');
  if (!Number.isSafeInteger(state.requiredApprovals) || state.requiredApprovals < 1) {
    throw new InvalidInputError('requiredApprovals', 'must be a whole number of at least 1');
  }
  if (typeof decider.subject !== 'string' || decider.subject === '') throw new UnauthenticatedError();

  // An approval past its deadline is expired whether or not a sweeper has recorded that yet.
  if (state.status === 'EXPIRED' || (state.status === 'PENDING' && now.getTime() >= state.expiresAt.getTime())) {
    throw new ExpiredError(state.expiresAt);
  }
  if (state.status !== 'PENDING') throw AlreadyDecidedError.notPending(state.status);
  if (!state.approverRoles.some((role) => decider.roles.includes(role))) {
    throw new ForbiddenError(state.approverRoles);
  }
  if (decider.subject === state.requesterSubject) throw new SelfApprovalError(decider.subject);
  if (state.decisions.some((cast) => cast.approver === decider.subject)) {
    throw AlreadyDecidedError.alreadyVoted(decider.subject);
  }

  // Count approvers, not rows, so a duplicated vote can never reach the quorum on its own.
  const approvers = new Set<string>();
  for (const cast of state.decisions) if (cast.decision === 'APPROVE') approvers.add(cast.approver);
  if (vote === 'APPROVE') approvers.add(decider.subject);

  const approvalsCount = approvers.size;
  const remainingApprovals = Math.max(0, state.requiredApprovals - approvalsCount);
  const nextStatus: ApprovalStatus = vote === 'REJECT' ? 'REJECTED' : remainingApprovals === 0 ? 'APPROVED' : 'PENDING';
  return { nextStatus, approvalsCount, remainingApprovals };
}

/** True when nothing more can happen to an approval in `status`. APPROVED is not terminal: it awaits execution. */
export function isTerminal(status: ApprovalStatus): boolean {
  return status !== 'PENDING' && status !== 'APPROVED';
}

/** True when an approval in `status` may have its action executed. */
export function canExecute(status: ApprovalStatus): boolean {
  return status === 'APPROVED';
}
