import type { Approval } from '../db/entities/approval.entity.js';
import type { VoteRow } from '../db/stores/vote-store.js';
import { NotFoundError } from '../domain/errors.js';
import { canReadApproval, entitledToToken, listingScope, tokenFor, viewWithToken } from './access.js';
import type { Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import { expireLapsed, expireNow } from './expiry.js';
import type { ApprovalFilter } from './inputs.js';
import { decodeCursor, encodeCursor, pageSize, toPage, type Page } from './pagination.js';
import { approvalView, type ApprovalView, type VoteView } from './views.js';

/** One approval the caller may read; a lapsed pending one is expired first. */
export async function approval(deps: GateDeps, caller: Caller, id: string): Promise<ApprovalView> {
  const found = await deps.stores.approvals.find(caller.tenant, id);
  if (!found || !canReadApproval(caller, found)) throw new NotFoundError('Approval', id);
  if (found.status === 'PENDING' && found.expiresAt <= deps.now()) {
    await expireNow(deps, caller.tenant, found.id);
    return approval(deps, caller, id);
  }
  return viewWithToken(deps, found, caller);
}

/** The decision token of an approval, for its requester once approved; null for anyone else. */
export async function decisionToken(deps: GateDeps, caller: Caller, id: string): Promise<string | null> {
  const found = await deps.stores.approvals.find(caller.tenant, id);
  return found ? tokenFor(deps, found, caller) : null;
}

/**
 * The decision token a committed change brings `caller`: the requester's, on the change that
 * approved its request or reissued its token; null for anyone else and any other change. The
 * token signed for that change when this process made it, at once; otherwise (a change made by
 * another instance, reaching this one through a shared feed) re-created from the store.
 */
export function tokenOfChange(deps: GateDeps, caller: Caller, change: { kind: string; approval: ApprovalView }): string | null | Promise<string | null> {
  if ((change.kind !== 'approved' && change.kind !== 'reissued') || !entitledToToken(caller, change.approval)) return null;
  return deps.signedTokens.get(change.approval) ?? decisionToken(deps, caller, change.approval.id);
}

/** A page of the approvals of the caller's tenant that it may read, newest first. */
export async function approvals(deps: GateDeps, caller: Caller, filter: ApprovalFilter): Promise<Page<ApprovalView>> {
  const limit = pageSize(filter.first);
  const after = decodeCursor(filter.after, 2);
  // Expiry on access, before the query: a lapsed request must not match a PENDING filter (nor
  // miss an EXPIRED one), and its expiry is audited like any other.
  await expireLapsed(deps, caller.tenant);
  const before = after ? { createdAt: new Date(after[0] as number), id: after[1] as string } : undefined;
  const rows = await deps.stores.approvals.list(
    { tenant: caller.tenant, ...filter, ...listingScope(caller), before },
    limit + 1,
  );
  const now = deps.now();
  const page = toPage(rows, limit, (row) => encodeCursor([row.createdAt.getTime(), row.id]));
  const votes = await deps.stores.votes.of(page.items.map(({ node }) => node.id));
  return {
    ...page,
    items: page.items.map(({ node, cursor }) => {
      // As viewFor(node, null): a listing shows no decision token.
      const view = approvalView(node as Approval, (votes.get(node.id) ?? []).map(voteView), null);
      // Expiry on access: a listing never shows a lapsed request as still pending.
      if (view.status === 'PENDING' && view.expiresAt <= now) view.status = 'EXPIRED';
      return { node: view, cursor };
    }),
  };
}

const voteView = (vote: VoteRow): VoteView => ({
  approver: vote.approver,
  decision: vote.decision,
  comment: vote.comment,
  decidedAt: vote.createdAt,
});
