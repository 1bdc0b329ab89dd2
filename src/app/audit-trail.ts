import type { Refusal, UnitOfWork } from '../db/committer.js';
import type { Approval } from '../db/entities/approval.entity.js';
import type { CountersignError } from '../domain/errors.js';
import type { Caller } from './caller.js';
import type { GateDeps } from './deps.js';

/** The actor of transitions the gate makes on its own (policy outcomes, expiry, token issue). */
export const SYSTEM_ACTOR = 'system:countersign';

/** Audits a change of `approval`, whose status is already the new one. */
export function auditStatus(
  unit: UnitOfWork,
  approval: Approval,
  type: string,
  actor: string,
  previousStatus: string | null,
  occurredAt: Date,
  details: Record<string, unknown>,
): Promise<void> {
  return unit.audit({
    tenant: approval.tenant,
    type,
    approvalId: approval.id,
    actor,
    previousStatus,
    newStatus: approval.status,
    details,
    occurredAt,
  });
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
  await deps.committer.run(async (unit) => refusal(unit, caller, approvalId, error, now, details));
  throw error;
}

/** Refuses the job: whatever it wrote is rolled back, and the refusal alone is audited. */
export function refusal(
  unit: UnitOfWork,
  caller: Caller,
  approvalId: string | null,
  error: CountersignError,
  now: Date,
  details: Record<string, unknown>,
): Refusal {
  return unit.refuse(error, (record) => auditRefusal(record, caller, approvalId, error, now, details));
}

async function auditRefusal(
  unit: UnitOfWork,
  caller: Caller,
  approvalId: string | null,
  error: CountersignError,
  now: Date,
  details: Record<string, unknown>,
): Promise<void> {
  const type = error.code === 'TOKEN_REPLAYED' ? 'replay_refused' : error.code === 'CONTEXT_MISMATCH' ? 'context_mismatch' : 'token_refused';
  await unit.audit({
    tenant: caller.tenant,
    type,
    approvalId,
    actor: caller.subject,
    previousStatus: null,
    newStatus: null,
    details: { code: error.code, message: error.message, ...details },
    occurredAt: now,
  });
}
