import type { Approval } from '../db/entities/approval.entity.js';
import type { Execution } from '../db/entities/execution.entity.js';
import { AlreadyDecidedError, ForbiddenError, InvalidInputError, NotFoundError } from '../domain/errors.js';
import { completed, type Completion } from '../domain/transitions.js';
import { viewFor } from './access.js';
import { requireRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import { jsonValue, optionalText, type CompleteExecutionInput } from './inputs.js';
import { changeBy, record } from './record.js';
import { executionView, type ExecuteResult } from './views.js';

/** The executor reports how an execution ended; FAILED leaves the approval FAILED. */
export function completeExecution(deps: GateDeps, caller: Caller, input: CompleteExecutionInput): Promise<ExecuteResult> {
  requireRole(caller, 'agent');
  const executionId = optionalText('executionId', input.executionId, 64) ?? '';
  if (input.outcome !== 'SUCCEEDED' && input.outcome !== 'FAILED') {
    throw new InvalidInputError('outcome', 'must be SUCCEEDED or FAILED');
  }
  const outcome = input.outcome;
  const outcomeResult = jsonValue('result', input.result);
  return deps.committer.run(async (unit) => {
    const found = await deps.stores.executions.load(unit.em, caller.tenant, executionId);
    if (!found) throw new NotFoundError('Execution', executionId);
    const { execution, approval } = found;
    if (execution.executor !== caller.subject) throw new ForbiddenError(undefined, 'Only the executor may report the outcome.');
    if (execution.status !== 'STARTED') throw AlreadyDecidedError.executionCompleted(execution.id, execution.status, approval.status);
    const now = deps.now();
    const previousStatus = approval.status;
    const completion = applyCompletion(approval, execution, { executionId: execution.id, outcome, result: outcomeResult }, now);
    await deps.stores.executions.save(unit.em, execution);
    if (approval.status !== previousStatus) await deps.stores.approvals.save(unit.em, approval);
    const transition = completed({
      ...changeBy(caller, approval, now),
      previousStatus,
      completion,
    });
    const view = viewFor(approval, caller);
    await record(deps, unit, transition, view);
    return { execution: executionView(execution), approval: view, dryRun: false };
  });
}

/** Applies an execution's outcome to it and its approval (FAILED fails the approval). */
export function applyCompletion(approval: Approval, execution: Execution, completion: Completion, now: Date): Completion {
  execution.status = completion.outcome;
  execution.result = completion.result;
  execution.completedAt = now;
  execution.updatedAt = now;
  if (completion.outcome === 'FAILED') {
    approval.status = 'FAILED';
    approval.updatedAt = now;
  }
  return completion;
}
