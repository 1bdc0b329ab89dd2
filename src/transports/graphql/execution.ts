import type { ExecuteResult, ExecutionView } from '../../app/views.js';
import { ApprovalRef } from './approval.js';
import { builder } from './builder.js';
import { callerOf } from './context.js';
import { AlreadyDecidedError, ContextMismatchError, NotFoundError, RateLimitedError, TokenExpiredError, TokenInvalidError, TokenReplayedError } from '../../domain/errors.js';
import { ExecutionOutcomeEnum, ExecutionStatusEnum } from './enums.js';


const ExecutionRef = builder.objectRef<ExecutionView>('Execution').implement({
  description: 'The one use of a decision token, and the outcome the executor reported.',
  fields: (t) => ({
    id: t.exposeID('id'),
    approvalId: t.exposeID('approvalId'),
    status: t.expose('status', { type: ExecutionStatusEnum }),
    executor: t.exposeString('executor'),
    result: t.expose('result', { type: 'JSON', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
  }),
});

const ExecutePayload = builder.objectRef<ExecuteResult>('ExecutePayload').implement({
  fields: (t) => ({
    execution: t.field({ type: ExecutionRef, nullable: true, resolve: (payload) => payload.execution }),
    approval: t.field({ type: ApprovalRef, resolve: (payload) => payload.approval }),
    dryRun: t.exposeBoolean('dryRun'),
  }),
});

const ExecuteInput = builder.inputType('ExecuteInput', {
  fields: (t) => ({
    token: t.string({ required: true }),
    action: t.string({ required: true }),
    resource: t.string(),
    context: t.field({ type: 'JSON', required: true }),
    outcome: t.field({ type: ExecutionOutcomeEnum, description: 'Report the outcome at once instead of with completeExecution.' }),
    result: t.field({ type: 'JSON' }),
    dryRun: t.boolean({ description: 'Verify the token and context without consuming the token.' }),
  }),
});

const CompleteExecutionInput = builder.inputType('CompleteExecutionInput', {
  fields: (t) => ({
    executionId: t.id({ required: true }),
    outcome: t.field({ type: ExecutionOutcomeEnum, required: true }),
    result: t.field({ type: 'JSON' }),
  }),
});

builder.mutationFields((t) => ({
  execute: t.field({
    type: ExecutePayload,
    description: 'Redeems a decision token for the exact approved context, once.',
    errors: { types: [TokenInvalidError, TokenExpiredError, TokenReplayedError, ContextMismatchError, RateLimitedError] },
    args: { input: t.arg({ type: ExecuteInput, required: true }) },
    resolve: (_root, { input }, context) => context.gate.execute(callerOf(context), input),
  }),
  completeExecution: t.field({
    type: ExecutePayload,
    description: 'Reports how an execution ended; FAILED leaves the approval FAILED.',
    errors: { types: [NotFoundError, AlreadyDecidedError] },
    args: { input: t.arg({ type: CompleteExecutionInput, required: true }) },
    resolve: (_root, { input }, context) =>
      context.gate.completeExecution(callerOf(context), { ...input, executionId: String(input.executionId) }),
  }),
}));
