import type { UnitOfWork } from '../db/committer.js';
import { Approval } from '../db/entities/approval.entity.js';
import { Execution } from '../db/entities/execution.entity.js';
import { AlreadyDecidedError, ForbiddenError, InvalidInputError, NotFoundError } from '../domain/errors.js';
import { viewFor } from './access.js';
import { auditStatus } from './audit-trail.js';
import { requireRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import { jsonValue, optionalText, type CompleteExecutionInput, type ExecutionOutcome } from './inputs.js';
import { executionView, type ExecuteResult } from './views.js';

/** The executor reports how an execution ended; FAILED leaves the approval FAILED. */
export function completeExecution(deps: GateDeps, caller: Caller, input: CompleteExecutionInput): Promise<ExecuteResult> {
  requireRole(caller, 'agent');
  const executionId = optionalText('executionId', input.executionId, 64) ?? '';
  if (input.outcome !== 'SUCCEEDED' && input.outcome !== 'FAILED') {
    throw new InvalidInputError('outcome', 'must be SUCCEEDED or FAILED');
  }
  const outcomeResult = jsonValue('result', input.result);
  return deps.committer.run(async (unit) => {
    const execution = await unit.em.findOne(Execution, { id: executionId, tenant: caller.tenant });
    if (!execution) throw new NotFoundError('Execution', executionId);
    if (execution.executor !== caller.subject) throw new ForbiddenError(undefined, 'Only the executor may report the outcome.');
    if (execution.status !== 'STARTED') throw new AlreadyDecidedError({ reason: 'not_pending', status: execution.status });
    const approval = await unit.em.findOneOrFail(Approval, { id: execution.approvalId }, { populate: ['decisions'] });
    const now = deps.now();
    const previousStatus = approval.status;
    await complete(unit, approval, execution, input.outcome, outcomeResult, caller, now);
    const view = viewFor(approval, caller);
    unit.afterCommit(() => deps.publisher.publish({ approval: { ...view, decisionToken: null }, previousStatus, kind: 'completed' }));
    return { execution: executionView(execution), approval: view, dryRun: false };
  });
}

/** Records an execution's outcome in `unit`, audited. */
export async function complete(
  unit: UnitOfWork,
  approval: Approval,
  execution: Execution,
  outcome: ExecutionOutcome,
  result: unknown,
  caller: Caller,
  now: Date,
): Promise<void> {
  execution.status = outcome;
  execution.result = result;
  execution.completedAt = now;
  execution.updatedAt = now;
  const previousStatus = approval.status;
  if (outcome === 'FAILED') {
    approval.status = 'FAILED';
    approval.updatedAt = now;
  }
  await auditStatus(unit, approval, 'execution_completed', caller.subject, previousStatus, now, {
    executionId: execution.id,
    outcome,
    result,
  });
}
