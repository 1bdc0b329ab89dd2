import type { EntityManager, FilterQuery } from '@mikro-orm/core';
import { NotFoundError } from '../domain/errors.js';
import { findData } from '../db/orm.js';
import { Approval } from '../db/entities/approval.entity.js';
import { Vote } from '../db/entities/vote.entity.js';
import { canRead, viewFor } from './access.js';
import { hasRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import { expireLapsed, expireNow } from './expiry.js';
import type { ApprovalFilter } from './inputs.js';
import { decodeCursor, encodeCursor, pageSize, toPage, type Page } from './pagination.js';
import { approvalView, type ApprovalView, type VoteView } from './views.js';

/** An approval read as plain data (see findData): every field approvalView reads, no collections. */
type ApprovalRow = Omit<Approval, 'decisions' | 'decisionToken'>;
/** A vote read as plain data: its approval is the approval's id. */
type VoteRow = Omit<Vote, 'approval'> & { approval: string };

/** One approval the caller may read; a lapsed pending one is expired first. */
export async function approval(deps: GateDeps, caller: Caller, id: string): Promise<ApprovalView> {
  const em = deps.orm.em.fork();
  const found = await em.findOne(Approval, { id, tenant: caller.tenant }, { populate: ['decisions', 'decisionToken'] });
  if (!found || !canRead(caller, found)) throw new NotFoundError('Approval', id);
  if (found.status === 'PENDING' && found.expiresAt <= deps.now()) {
    await expireNow(deps, caller.tenant, found.id);
    return approval(deps, caller, id);
  }
  return viewFor(found, caller);
}

/** A page of the tenant's approvals, newest first; requesters see only their own. */
export async function approvals(deps: GateDeps, caller: Caller, filter: ApprovalFilter): Promise<Page<ApprovalView>> {
  const limit = pageSize(filter.first);
  const after = decodeCursor(filter.after, 2);
  // Expiry on access, before the query: a lapsed request must not match a PENDING filter (nor
  // miss an EXPIRED one), and its expiry is audited like any other.
  await expireLapsed(deps, { tenant: caller.tenant });
  const where: FilterQuery<Approval> = { tenant: caller.tenant };
  if (filter.status) where.status = filter.status;
  if (filter.action) where.action = filter.action;
  if (filter.agent) where.agent = filter.agent;
  if (filter.sessionId) where.sessionId = filter.sessionId;
  if (!hasRole(caller, 'approver', 'admin', 'auditor')) where.requesterSubject = caller.subject;
  if (after) {
    const [createdAt, id] = after as [number, string];
    where.$or = [{ createdAt: { $lt: new Date(createdAt) } }, { createdAt: new Date(createdAt), id: { $lt: id } }];
  }
  // Plain rows rather than entities, and the votes by a second query on their index: a listing
  // only turns rows into views. Populating the votes in one joined query made SQLite group every
  // matching approval (65 ms at 10,000 pending), and hydrating entities took most of the rest.
  const em = deps.orm.em.fork();
  const rows = (await findData(em, Approval, where, {
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    limit: limit + 1,
  })) as ApprovalRow[];
  const now = deps.now();
  const page = toPage(rows, limit, (row) => encodeCursor([row.createdAt.getTime(), row.id]));
  const votes = await votesOf(em, page.items.map(({ node }) => node.id));
  return {
    ...page,
    items: page.items.map(({ node, cursor }) => {
      // As viewFor(node, null): a listing shows no decision token.
      const view = approvalView(node as Approval, votes.get(node.id) ?? [], null);
      // Expiry on access: a listing never shows a lapsed request as still pending.
      if (view.status === 'PENDING' && view.expiresAt <= now) view.status = 'EXPIRED';
      return { node: view, cursor };
    }),
  };
}

/** The votes on these approvals, in the order they were cast (as `Approval.decisions` orders them). */
async function votesOf(em: EntityManager, approvalIds: string[]): Promise<Map<string, VoteView[]>> {
  const byApproval = new Map<string, VoteView[]>();
  if (approvalIds.length === 0) return byApproval;
  const rows = await findData(em, Vote, { approval: { $in: approvalIds } }, { orderBy: [{ createdAt: 'asc' }] });
  for (const vote of rows as VoteRow[]) {
    const views = byApproval.get(vote.approval) ?? [];
    views.push({ approver: vote.approver, decision: vote.decision, comment: vote.comment, decidedAt: vote.createdAt });
    byApproval.set(vote.approval, views);
  }
  return byApproval;
}
