import { ref, type EntityManager, type MikroORM } from '@mikro-orm/core';
import type { Vote as VoteValue } from '../../domain/approval-state.js';
import type { Approval } from '../entities/approval.entity.js';
import { Vote } from '../entities/vote.entity.js';
import { insertNew, selectData } from '../fast-paths.js';
import { findData } from '../orm.js';

/** A vote read as plain data: its approval is the approval's id. */
export type VoteRow = Omit<Vote, 'approval'> & { approval: string };

/** Approvers' votes; an approver counts once per approval (a unique key). */
export class VoteStore {
  constructor(private readonly orm: MikroORM) {}

  /** Writes a vote on an approval read with ApprovalStore.load, in the unit of work's transaction, and adds it to its votes. */
  async add(em: EntityManager, approval: Approval, approver: string, decision: VoteValue, comment: string | null, at: Date): Promise<Vote> {
    const vote = new Vote(ref(approval), approver, decision, comment);
    vote.createdAt = at;
    vote.updatedAt = at;
    await insertNew(em, vote);
    approval.decisions.add(vote);
    return vote;
  }

  /** The votes on these approvals, in the order they were cast, by a query on their index. */
  async of(approvalIds: string[]): Promise<Map<string, VoteRow[]>> {
    const byApproval = new Map<string, VoteRow[]>();
    if (approvalIds.length === 0) return byApproval;
    const em = this.orm.em.fork();
    // On SQLite one prepared statement for any number of approvals (their ids as one JSON array);
    // votes of one approval in the order they were cast, as ApprovalStore reads them.
    const rows =
      (await selectData(em, Vote, 'where `approval_id` in (select `value` from json_each(?)) order by `created_at`, rowid', [JSON.stringify(approvalIds)])) ??
      (await findData(em, Vote, { approval: { $in: approvalIds } }, { orderBy: [{ createdAt: 'asc' }] }));
    for (const vote of rows as VoteRow[]) {
      const votes = byApproval.get(vote.approval) ?? [];
      votes.push(vote);
      byApproval.set(vote.approval, votes);
    }
    return byApproval;
  }
}
