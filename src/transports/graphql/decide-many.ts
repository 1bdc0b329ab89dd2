import { AlreadyDecidedError, CountersignError, ExpiredError, InvalidInputError, NotFoundError, SelfApprovalError } from '../../domain/errors.js';
import type { ApprovalView } from '../../app/views.js';
import { ApprovalRef } from './approval.js';
import { DecisionEnum } from './enums.js';
import { builder } from './builder.js';
import { callerOf } from './context.js';

/** How many requests one batch may decide: enough for a morning's queue, bounded per call. */
export const MAX_BATCH_DECISIONS = 100;

/** One id's outcome: the approval as the vote left it, or the typed reason it was refused. */
interface BatchOutcome {
  approvalId: string;
  outcome: ApprovalView | CountersignError;
}

const DecideManyInput = builder.inputType('DecideManyInput', {
  fields: (t) => ({
    approvalIds: t.idList({ required: true, description: `The requests to decide, 1 to ${MAX_BATCH_DECISIONS} distinct ids.` }),
    decision: t.field({ type: DecisionEnum, required: true }),
    comment: t.string({ description: 'Recorded with every vote of the batch.' }),
  }),
});

const DecideManyItem = builder.objectRef<BatchOutcome>('DecideManyItem').implement({
  description: 'The outcome of one id of a batch decision.',
  fields: (t) => ({
    approvalId: t.id({ resolve: (item) => item.approvalId }),
    result: t.field({
      type: ApprovalRef,
      errors: {
        types: [NotFoundError, AlreadyDecidedError, SelfApprovalError, ExpiredError],
        union: { name: 'DecideManyItemResult' },
      },
      resolve: (item) => {
        if (item.outcome instanceof CountersignError) throw item.outcome;
        return item.outcome;
      },
    }),
  }),
});

const DecideManyPayload = builder.objectRef<{ results: BatchOutcome[] }>('DecideManyPayload').implement({
  fields: (t) => ({
    results: t.field({ type: [DecideManyItem], description: 'One result per id, in the order given.', resolve: (payload) => payload.results }),
  }),
});

builder.mutationField('decideMany', (t) =>
  t.field({
    type: DecideManyPayload,
    description:
      'Records the same decision on several requests. Each id is decided as decide would, in its own transaction with its own audit event, and is accepted or refused on its own.',
    errors: {},
    args: { input: t.arg({ type: DecideManyInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const caller = callerOf(context);
      const approvalIds = input.approvalIds.map(String);
      if (approvalIds.length === 0 || approvalIds.length > MAX_BATCH_DECISIONS) {
        throw new InvalidInputError('approvalIds', `must hold 1 to ${MAX_BATCH_DECISIONS} ids`);
      }
      if (new Set(approvalIds).size !== approvalIds.length) throw new InvalidInputError('approvalIds', 'must not repeat an id');
      const results: BatchOutcome[] = [];
      // One after another: each vote commits (and is published) before the next is read.
      for (const approvalId of approvalIds) {
        try {
          const outcome = await context.gate.decide(caller, { approvalId, decision: input.decision, comment: input.comment ?? null });
          results.push({ approvalId, outcome });
        } catch (error) {
          if (!(error instanceof CountersignError)) throw error;
          results.push({ approvalId, outcome: error });
        }
      }
      return { results };
    },
  }),
);
