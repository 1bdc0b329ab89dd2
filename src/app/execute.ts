import { canExecute } from '../domain/approval-state.js';
import { contextHash } from '../domain/context-hash.js';
import { verifyDecisionToken, type VerifiedDecision } from '../domain/decision-token.js';
import { ContextMismatchError, CountersignError, InvalidInputError, TokenInvalidError, TokenReplayedError } from '../domain/errors.js';
import { executed } from '../domain/transitions.js';
import { Execution } from '../db/entities/execution.entity.js';
import { viewFor } from './access.js';
import { requireRole, type Caller } from './caller.js';
import { applyCompletion } from './complete-execution.js';
import type { GateDeps } from './deps.js';
import { contextObject, jsonValue, name, optionalText, type ExecuteInput } from './inputs.js';
import { changeBy, presentedClaims, record, refuse, refuseIn } from './record.js';
import { executionView, type ExecuteResult } from './views.js';

/** Longer than any token we sign by far; refused before a byte of it is decoded. */
const MAX_DECISION_TOKEN_LENGTH = 8192;

/** Redeems a decision token for the exact approved context, once; every refusal is audited. */
export async function execute(deps: GateDeps, caller: Caller, input: ExecuteInput): Promise<ExecuteResult> {
  requireRole(caller, 'agent');
  if (typeof input.token !== 'string' || input.token.length === 0) throw new InvalidInputError('token', 'is required');
  if (input.token.length > MAX_DECISION_TOKEN_LENGTH) {
    throw new InvalidInputError('token', `is too long to be a decision token (over ${MAX_DECISION_TOKEN_LENGTH} characters)`);
  }
  const action = name('action', input.action);
  const resource = optionalText('resource', input.resource);
  const context = contextObject('context', input.context);
  const dryRun = input.dryRun === true;
  if (input.outcome !== undefined && input.outcome !== null && input.outcome !== 'SUCCEEDED' && input.outcome !== 'FAILED') {
    throw new InvalidInputError('outcome', 'must be SUCCEEDED or FAILED');
  }
  // Checked before anything is written: a result that cannot be audited must not consume the token.
  const outcomeResult = jsonValue('result', input.result);
  const now = deps.now();

  // The token may be signed with a key another instance rotated in.
  await deps.currentState(caller.tenant);
  // The presented action's hash, before the token is trusted: what a refusal names when no approval is known.
  const presentedHash = contextHash({ tenant: caller.tenant, action, resource, context });

  let claims: VerifiedDecision;
  try {
    claims = await verifyDecisionToken(input.token, {
      keys: deps.verificationKeys,
      issuer: deps.issuer,
      audience: deps.tokenAudience,
      now,
    });
    if (claims.tenant !== caller.tenant) throw new TokenInvalidError('claims');
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    return refuse(deps, caller, { approvalId: null, contextHash: presentedHash }, error, now, {
      stage: 'verification',
      ...presentedClaims(input.token),
    });
  }
  if (presentedHash !== claims.contextHash || action !== claims.action) {
    return refuse(deps, caller, { approvalId: claims.approvalId, contextHash: claims.contextHash }, new ContextMismatchError(claims.contextHash, presentedHash), now, {
      jti: claims.jti,
      presentedAction: action,
      presentedContextHash: presentedHash,
    });
  }

  return deps.committer.run(async (unit) => {
    const approval = await deps.stores.approvals.load(unit.em, caller.tenant, claims.approvalId);
    if (!approval || approval.tokenJti !== claims.jti) {
      const subject = { approvalId: approval ? approval.id : null, contextHash: claims.contextHash };
      return refuseIn(deps, unit, caller, subject, new TokenInvalidError('claims'), now, {
        jti: claims.jti,
        ...(approval === null && { presentedJti: claims.jti, presentedSub: claims.approvalId }),
      });
    }
    const consumed =
      approval.status === 'EXECUTED' || approval.status === 'FAILED' || (await deps.stores.executions.isConsumed(unit.em, claims.jti));
    if (consumed) {
      return refuseIn(deps, unit, caller, subjectOf(approval), new TokenReplayedError(claims.jti), now, { jti: claims.jti });
    }
    if (!canExecute(approval.status)) {
      return refuseIn(deps, unit, caller, subjectOf(approval), new TokenInvalidError('not_approved'), now, { jti: claims.jti, status: approval.status });
    }
    if (dryRun) return { execution: null, approval: viewFor(approval, caller), dryRun: true };

    const previousStatus = approval.status;
    const execution = new Execution(caller.tenant, approval.id, claims.jti, caller.subject);
    execution.createdAt = now;
    approval.status = 'EXECUTED';
    approval.updatedAt = now;
    const completion = input.outcome
      ? applyCompletion(approval, execution, { executionId: execution.id, outcome: input.outcome, result: outcomeResult }, now)
      : null;
    await deps.stores.executions.add(unit.em, execution);
    await deps.stores.approvals.save(unit.em, approval);
    const transition = executed({
      ...changeBy(caller, approval, now),
      previousStatus,
      executionId: execution.id,
      jti: claims.jti,
      completion,
    });
    const view = viewFor(approval, caller);
    await record(deps, unit, transition, view);
    return { execution: executionView(execution), approval: view, dryRun: false };
  });
}

const subjectOf = (approval: { id: string; contextHash: string }) => ({ approvalId: approval.id, contextHash: approval.contextHash });
