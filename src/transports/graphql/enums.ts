import { APPROVAL_STATUSES, EXECUTION_OUTCOMES, EXECUTION_STATUSES, PRIORITIES, VOTES } from '../../domain/vocabulary.js';
import { builder } from './builder.js';

// The domain's enumerations, registered once so that types and errors share them.
export const ApprovalStatusEnum = builder.enumType('ApprovalStatus', { values: APPROVAL_STATUSES });
export const DecisionEnum = builder.enumType('Decision', { values: VOTES });
export const PriorityEnum = builder.enumType('Priority', { values: PRIORITIES });
export const ExecutionOutcomeEnum = builder.enumType('ExecutionOutcome', { values: EXECUTION_OUTCOMES });
export const ExecutionStatusEnum = builder.enumType('ExecutionStatus', { values: EXECUTION_STATUSES });
