import { describe, expect, it } from 'vitest';

import {
  APPROVAL_STATUSES,
  canExecute,
  decide,
  isTerminal,
  type ApprovalDecisionState,
  type Decider,
} from '../../src/domain/approval-state.js';
import {
  AlreadyDecidedError,
  ExpiredError,
  ForbiddenError,
  InvalidInputError,
  SelfApprovalError,
} from '../../src/domain/errors.js';

const NOW = new Date('2025-01-01T12:00:00Z');
const EXPIRES_AT = new Date('2025-01-01T13:00:00Z');

function pendingApproval(overrides: Partial<ApprovalDecisionState> = {}): ApprovalDecisionState {
  return {
    status: 'PENDING',
    requesterSubject: 'agent:billing-bot',
    requiredApprovals: 2,
    approverRoles: ['finance-approver', 'cfo'],
    expiresAt: EXPIRES_AT,
    decisions: [],
    ...overrides,
  };
}

const alice: Decider = { subject: 'user:alice', roles: ['finance-approver'] };
const bob: Decider = { subject: 'user:bob', roles: ['cfo', 'engineer'] };
const carol: Decider = { subject: 'user:carol', roles: ['finance-approver'] };

describe('decide', () => {
  it('keeps a 2-of-M approval pending after the first approval', () => {
    expect(decide(pendingApproval(), alice, 'APPROVE', NOW)).toEqual({
      nextStatus: 'PENDING',
      approvalsCount: 1,
      remainingApprovals: 1,
    });
  });

  it('approves a 2-of-M approval on the second approval by a different approver', () => {
    const state = pendingApproval({ decisions: [{ approver: alice.subject, decision: 'APPROVE' }] });
    expect(decide(state, bob, 'APPROVE', NOW)).toEqual({ nextStatus: 'APPROVED', approvalsCount: 2, remainingApprovals: 0 });
  });

  it('approves a 1-of-M approval on the first approval', () => {
    expect(decide(pendingApproval({ requiredApprovals: 1 }), carol, 'APPROVE', NOW).nextStatus).toBe('APPROVED');
  });

  it('rejects on the first rejection even when approvals were already cast', () => {
    const state = pendingApproval({ requiredApprovals: 3, decisions: [{ approver: alice.subject, decision: 'APPROVE' }] });
    expect(decide(state, bob, 'REJECT', NOW)).toEqual({ nextStatus: 'REJECTED', approvalsCount: 1, remainingApprovals: 2 });
  });

  it('refuses approval by the requester', () => {
    const requester: Decider = { subject: 'agent:billing-bot', roles: ['finance-approver'] };
    expect(() => decide(pendingApproval(), requester, 'APPROVE', NOW)).toThrow(SelfApprovalError);
  });

  it('refuses a second vote by the same approver', () => {
    const state = pendingApproval({ decisions: [{ approver: alice.subject, decision: 'APPROVE' }] });
    const error = catchError(() => decide(state, alice, 'APPROVE', NOW));
    expect(error).toBeInstanceOf(AlreadyDecidedError);
    expect(error).toMatchObject({ code: 'ALREADY_DECIDED', reason: 'already_voted', approver: alice.subject });
  });

  it('refuses a decider who holds none of the approver roles', () => {
    const engineer: Decider = { subject: 'user:dave', roles: ['engineer'] };
    const error = catchError(() => decide(pendingApproval(), engineer, 'APPROVE', NOW));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toMatchObject({ code: 'FORBIDDEN', requiredRoles: ['finance-approver', 'cfo'] });
  });

  it('refuses everybody when no approver role is configured', () => {
    expect(() => decide(pendingApproval({ approverRoles: [] }), alice, 'APPROVE', NOW)).toThrow(ForbiddenError);
  });

  it('refuses a vote on a pending approval at or after its expiry', () => {
    const error = catchError(() => decide(pendingApproval(), alice, 'APPROVE', EXPIRES_AT));
    expect(error).toBeInstanceOf(ExpiredError);
    expect(error).toMatchObject({ code: 'EXPIRED', expiresAt: EXPIRES_AT });
  });

  it('reports an approval already marked expired as expired', () => {
    expect(() => decide(pendingApproval({ status: 'EXPIRED' }), alice, 'APPROVE', NOW)).toThrow(ExpiredError);
  });

  it.each(['APPROVED', 'REJECTED', 'DENIED', 'EXECUTED', 'FAILED'] as const)(
    'refuses a vote on an approval that is already %s',
    (status) => {
      const error = catchError(() => decide(pendingApproval({ status }), alice, 'APPROVE', NOW));
      expect(error).toBeInstanceOf(AlreadyDecidedError);
      expect(error).toMatchObject({ code: 'ALREADY_DECIDED', reason: 'not_pending', status });
    },
  );

  it('never counts duplicated vote rows twice towards the quorum', () => {
    const state = pendingApproval({
      requiredApprovals: 3,
      decisions: [
        { approver: alice.subject, decision: 'APPROVE' },
        { approver: alice.subject, decision: 'APPROVE' },
      ],
    });
    expect(decide(state, bob, 'APPROVE', NOW)).toEqual({ nextStatus: 'PENDING', approvalsCount: 2, remainingApprovals: 1 });
  });

  it('refuses a quorum below one', () => {
    expect(() => decide(pendingApproval({ requiredApprovals: 0 }), alice, 'APPROVE', NOW)).toThrow(InvalidInputError);
  });
});

describe('isTerminal and canExecute', () => {
  it('allow execution only of approved approvals', () => {
    expect(APPROVAL_STATUSES.filter(canExecute)).toEqual(['APPROVED']);
  });

  it('treat every status but PENDING and APPROVED as final', () => {
    expect(APPROVAL_STATUSES.filter(isTerminal)).toEqual(['REJECTED', 'DENIED', 'EXPIRED', 'EXECUTED', 'FAILED']);
  });
});

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
