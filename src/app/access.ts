import type { Approval } from '../db/entities/approval.entity.js';
import { hasRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import { decisionTokenOf } from './tokens.js';
import { approvalView, voteViews, type ApprovalView, type VoteView } from './views.js';

/*
 * Every visibility rule of the gate, for queries and subscriptions alike: a caller sees by query
 * exactly what it may follow by subscription.
 */

/** What the read rules look at; an approval entity, a stored row and a view all have it. */
interface Readable {
  requester: string;
  escalated: boolean;
}

const readableOf = (approval: Approval): Readable => ({ requester: approval.requesterSubject, escalated: approval.escalated });

/** Admins and auditors see every request of their tenant. */
export const seesWholeTenant = (caller: Caller): boolean => hasRole(caller, 'admin', 'auditor');

/**
 * Approvers see the requests they could be asked to decide: all but escalated ones, which only
 * admins may decide. Requesters see their own. Callers never see another tenant's.
 */
export function canRead(caller: Caller, approval: Readable): boolean {
  if (approval.requester === caller.subject || seesWholeTenant(caller)) return true;
  return hasRole(caller, 'approver') && !approval.escalated;
}

/** The same rule as a listing's filter: what to narrow a tenant's approvals to for `caller`. */
export function listingScope(caller: Caller): { requester?: string; escalated?: false } {
  if (seesWholeTenant(caller)) return {};
  if (hasRole(caller, 'approver')) return { escalated: false };
  return { requester: caller.subject };
}

/** Whether `caller` may decide this approval, and so hears of it on `pendingApprovals`. */
export function canDecide(caller: Caller, approval: { requester: string; approverRoles: readonly string[] }): boolean {
  return caller.subject !== approval.requester && approval.approverRoles.some((role) => caller.roles.includes(role));
}

/** Whether `caller` may read an approval entity. */
export const canReadApproval = (caller: Caller, approval: Approval): boolean => canRead(caller, readableOf(approval));

/** Only the requester may read the decision token of an approval, once approved. */
export const mayReadToken = (approval: Approval, caller: Caller | null): boolean =>
  caller !== null && caller.subject === approval.requesterSubject && approval.status === 'APPROVED';

/** The decision token for `caller`: re-created for the requester of an approved request, null for anyone else. */
export function tokenFor(deps: GateDeps, approval: Approval, caller: Caller | null): Promise<string | null> {
  return mayReadToken(approval, caller) ? decisionTokenOf(deps, approval) : Promise.resolve(null);
}

/**
 * What of the caller the fields of a followed change may depend on: callers with the same key are
 * shown the same payload for one event, so a subscription's selection is executed once for all of
 * them. The subject is not in it; what only one subject may see (the requester's decision token)
 * goes out in an event of its own, never shared.
 */
export const visibilityKey = (caller: Caller | null): string =>
  caller === null ? '' : `${caller.tenant}\u0000${[...caller.roles].sort().join(',')}`;

/** Whether a committed change of this approval should carry the token to `caller`. */
export const entitledToToken = (caller: Caller, approval: ApprovalView): boolean =>
  caller.subject === approval.requester && approval.status === 'APPROVED';

/**
 * The approval as `caller` may see it, without its decision token; `token` is the one just signed,
 * shown when `caller` may read it. {@link viewWithToken} re-creates a stored approval's.
 */
export function viewFor(approval: Approval, caller: Caller | null, votes: VoteView[] = voteViews(approval), token: string | null = null): ApprovalView {
  return approvalView(approval, votes, mayReadToken(approval, caller) ? token : null);
}

/** The approval as `caller` may see it, its decision token included for its requester. */
export async function viewWithToken(deps: GateDeps, approval: Approval, caller: Caller | null): Promise<ApprovalView> {
  return approvalView(approval, voteViews(approval), await tokenFor(deps, approval, caller));
}
