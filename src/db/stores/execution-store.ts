import type { EntityManager } from '@mikro-orm/core';
import { Approval } from '../entities/approval.entity.js';
import { Execution } from '../entities/execution.entity.js';

/** Executions: the one use of each decision token and its reported outcome. */
export class ExecutionStore {
  /** One execution of the tenant, in a unit of work, with the approval it executed. */
  async load(em: EntityManager, tenant: string, id: string): Promise<{ execution: Execution; approval: Approval } | null> {
    const execution = await em.findOne(Execution, { id, tenant });
    if (!execution) return null;
    const approval = await em.findOneOrFail(Approval, { id: execution.approvalId }, { populate: ['decisions'] });
    return { execution, approval };
  }

  /** Whether a token has been used already. */
  async isConsumed(em: EntityManager, tokenJti: string): Promise<boolean> {
    return (await em.count(Execution, { tokenJti })) > 0;
  }

  /** Records a new execution in the unit of work; the token's id is unique, so it commits once. */
  add(em: EntityManager, execution: Execution): void {
    em.persist(execution);
  }
}
