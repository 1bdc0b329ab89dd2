import { decodeJwt } from 'jose';
import type { Refusal, UnitOfWork } from '../db/committer.js';
import type { CountersignError } from '../domain/errors.js';
import { refusal, type AuditEntry, type Transition } from '../domain/transitions.js';
import type { Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import type { ApprovalView } from './views.js';

/*
 * Every audit event says what it is about: its approval when there is one (the event's
 * `approvalId`), and in its details the policy revision in force when it was written
 * (`policyRevision`, stamped by the audit log) and the context hash of the action it concerns
 * (`contextHash`, null for a settings change). A refusal of a token whose approval is unknown
 * names the presented token's `jti` and `sub` instead (`presentedJti`, `presentedSub`), never
 * the token.
 */

/** The details every event carries beside its own: what was in force. */
function inForce(deps: GateDeps, contextHash: string | null, details: Record<string, unknown>): Record<string, unknown> {
  return { policyRevision: deps.evaluator.revision, contextHash, ...details };
}

/** What a caller's transition is about: the approval, the moment and the caller as its actor. */
export function changeBy(caller: Caller, approval: { tenant: string; id: string }, now: Date): { tenant: string; approvalId: string; occurredAt: Date; actor: string } {
  return { tenant: approval.tenant, approvalId: approval.id, occurredAt: now, actor: caller.subject };
}

/**
 * Records a transition in `unit`: its audit rows now, in the transaction, and its change on the
 * feed once the transaction has committed. `view` is the approval after the change; what is
 * published never carries the decision token (the requester's is attached at the edge): `token`,
 * the one the transition signed, is kept beside the change for that (see GateDeps.signedTokens).
 */
export async function record(deps: GateDeps, unit: UnitOfWork, transition: Transition, view: ApprovalView, token: string | null = null): Promise<void> {
  for (const entry of transition.audit) {
    await unit.audit({
      tenant: transition.tenant,
      approvalId: transition.approvalId,
      occurredAt: transition.occurredAt,
      ...entry,
      details: inForce(deps, view.contextHash, entry.details),
    });
  }
  const published = { ...view, decisionToken: null };
  if (token !== null) deps.signedTokens.set(published, token);
  unit.afterCommit(() => deps.publisher.publish({ kind: transition.kind, previousStatus: transition.previousStatus, approval: published }));
}

/** Writes an audit row that is no transition of an approval (a refusal, a settings change). */
export function audit(
  deps: GateDeps,
  unit: UnitOfWork,
  tenant: string,
  subject: { approvalId: string | null; contextHash: string | null },
  occurredAt: Date,
  entry: AuditEntry,
): Promise<void> {
  return unit.audit({ tenant, approvalId: subject.approvalId, occurredAt, ...entry, details: inForce(deps, subject.contextHash, entry.details) });
}

/** What a refusal is about: the approval (with the context hash it approved) or, unknown, the presented context's hash. */
export interface RefusalSubject {
  approvalId: string | null;
  contextHash: string | null;
}

/** Records a refused execution in the audit chain, then reports it to the caller. */
export async function refuse(
  deps: GateDeps,
  caller: Caller,
  subject: RefusalSubject,
  error: CountersignError,
  now: Date,
  details: Record<string, unknown>,
): Promise<never> {
  await deps.committer.run(async (unit) => refuseIn(deps, unit, caller, subject, error, now, details));
  throw error;
}

/**
 * Refuses the job: whatever it wrote is rolled back, and the refusal alone is audited, in a
 * savepoint of its own.
 */
export function refuseIn(
  deps: GateDeps,
  unit: UnitOfWork,
  caller: Caller,
  subject: RefusalSubject,
  error: CountersignError,
  now: Date,
  details: Record<string, unknown>,
): Refusal {
  return unit.refuse(error, (recorder) =>
    audit(deps, recorder, caller.tenant, subject, now, refusal(caller.subject, error.code, error.message, details)),
  );
}

/** Longest `jti` or `sub` of a presented token copied into the audit. */
const MAX_PRESENTED_CLAIM = 256;

/**
 * The `jti` and `sub` a token claims, read without trusting it (its signature may not verify):
 * what a refusal names when no approval is known. A claim that is missing, not a string, too long
 * or not well-formed Unicode (it could not be hashed into the chain) is null.
 */
export function presentedClaims(token: string): { presentedJti: string | null; presentedSub: string | null } {
  let payload: Record<string, unknown> = {};
  try {
    payload = decodeJwt(token);
  } catch {
    // Not a JWT at all: nothing to name.
  }
  const claim = (value: unknown) =>
    typeof value === 'string' && value.length <= MAX_PRESENTED_CLAIM && !/\p{Surrogate}/u.test(value) ? value : null;
  return { presentedJti: claim(payload['jti']), presentedSub: claim(payload['sub']) };
}
