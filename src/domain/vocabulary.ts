/**
 * The small enumerations of the domain, defined once: entities, use cases, the GraphQL enums and
 * the typed errors all read them from here (this module imports nothing, so any layer may).
 */

/** Every status an approval can be in. */
export const APPROVAL_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'DENIED', 'EXPIRED', 'EXECUTED', 'FAILED'] as const;

/**
 * Where an approval stands. `PENDING` waits for votes; `APPROVED` may be executed once; `DENIED`
 * means policy refused it outright; `EXECUTED` and `FAILED` record the outcome of execution.
 */
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** The votes an approver may cast. */
export const VOTES = ['APPROVE', 'REJECT'] as const;

/** One approver's vote. */
export type Vote = (typeof VOTES)[number];

/** How an execution ended, as its executor reports it. */
export const EXECUTION_OUTCOMES = ['SUCCEEDED', 'FAILED'] as const;
export type ExecutionOutcome = (typeof EXECUTION_OUTCOMES)[number];

/** An execution's status: started, then one of the outcomes. */
export const EXECUTION_STATUSES = ['STARTED', ...EXECUTION_OUTCOMES] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** The priorities an agent may give a request. */
export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];
