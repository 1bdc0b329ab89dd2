import type { EntityManager } from '@mikro-orm/core';
import { Approval } from '../entities/approval.entity.js';
import { Execution } from '../entities/execution.entity.js';
import { insertNew, updateColumns } from '../fast-paths.js';

/** Executions: the one use of each decision token and its reported outcome. */
export class ExecutionStore {
  /**
   * One execution of the tenant, with the approval it executed, read in a unit of work's
   * transaction to change them; neither is managed (see ApprovalStore.load): write back with {@link save}.
   */
  async load(em: EntityManager, tenant: string, id: string): Promise<{ execution: Execution; approval: Approval } | null> {
    const execution = await em.findOne(Execution, { id, tenant }, { disableIdentityMap: true });
    if (!execution) return null;
    const approval = await em.findOneOrFail(Approval, { id: execution.approvalId }, { populate: ['decisions'], disableIdentityMap: true });
    return { execution, approval };
  }

  /** Writes back the outcome of an execution read with {@link load}. */
  save(em: EntityManager, execution: Execution): Promise<void> {
    return updateColumns(em, execution, ['status', 'result', 'completedAt', 'updatedAt']);
  }

  /** Whether a token has been used already. */
  async isConsumed(em: EntityManager, tokenJti: string): Promise<boolean> {
    return (await em.count(Execution, { tokenJti })) > 0;
  }

  /** Writes a new execution in the unit of work's transaction; the token's id is unique, so it commits once. */
  add(em: EntityManager, execution: Execution): Promise<void> {
    return insertNew(em, execution);
  }
}
