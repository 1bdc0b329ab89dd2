import type { Refusal, UnitOfWork } from '../db/committer.js';
import type { CountersignError } from '../domain/errors.js';
import { refusal, type AuditEntry, type Transition } from '../domain/transitions.js';
import type { Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import type { ApprovalView } from './views.js';

/**
 * Records a transition in `unit`: its audit rows now, in the transaction, and its change on the
 * feed once the transaction has committed. `view` is the approval after the change; what is
 * published never carries the decision token (the requester's is attached at the edge).
 */
export async function record(deps: GateDeps, unit: UnitOfWork, transition: Transition, view: ApprovalView): Promise<void> {
  for (const entry of transition.audit) {
    await unit.audit({ tenant: transition.tenant, approvalId: transition.approvalId, occurredAt: transition.occurredAt, ...entry });
  }
  const published = { ...view, decisionToken: null };
  unit.afterCommit(() => deps.publisher.publish({ kind: transition.kind, previousStatus: transition.previousStatus, approval: published }));
}

/** Writes an audit row that is no transition of an approval (a refusal, a settings change). */
export function audit(unit: UnitOfWork, tenant: string, approvalId: string | null, occurredAt: Date, entry: AuditEntry): Promise<void> {
  return unit.audit({ tenant, approvalId, occurredAt, ...entry });
}

/** Records a refused execution in the audit chain, then reports it to the caller. */
export async function refuse(
  deps: GateDeps,
  caller: Caller,
  approvalId: string | null,
  error: CountersignError,
  now: Date,
  details: Record<string, unknown>,
): Promise<never> {
  await deps.committer.run(async (unit) => refuseIn(unit, caller, approvalId, error, now, details));
  throw error;
}

/**
 * Refuses the job: whatever it wrote is rolled back, and the refusal alone is audited, in a
 * savepoint of its own.
 */
export function refuseIn(
  unit: UnitOfWork,
  caller: Caller,
  approvalId: string | null,
  error: CountersignError,
  now: Date,
  details: Record<string, unknown>,
): Refusal {
  return unit.refuse(error, (recorder) =>
    audit(recorder, caller.tenant, approvalId, now, refusal(caller.subject, error.code, error.message, details)),
  );
}
