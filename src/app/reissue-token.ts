import { ExpiredError, ForbiddenError, InvalidInputError, NotFoundError } from '../domain/errors.js';
import { tokenReissued } from '../domain/transitions.js';
import { canRead, viewFor } from './access.js';
import { requireRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import { optionalText } from './inputs.js';
import { changeBy, record } from './record.js';
import { issueToken } from './tokens.js';
import type { ApprovalView } from './views.js';

/** The approval and its fresh decision token. */
export interface ReissueTokenResult {
  approval: ApprovalView;
  token: string;
}

/**
 * A fresh decision token for an APPROVED request whose token expired unused, for its requester,
 * while the request's own window (`expiresAt`) is open; the new token expires with that window at
 * the latest. The old token's id is replaced, so it can never execute, even if it were still
 * valid by its signature. After the window the request cannot be executed: ask again.
 */
export function reissueToken(deps: GateDeps, caller: Caller, input: { approvalId: string }): Promise<ReissueTokenResult> {
  requireRole(caller, 'agent');
  const approvalId = optionalText('approvalId', input.approvalId, 64) ?? '';
  return deps.committer.run(async (unit) => {
    const approval = await deps.stores.approvals.load(unit.em, caller.tenant, approvalId);
    const readable = approval && canRead(caller, { requester: approval.requesterSubject, escalated: approval.escalated });
    if (!approval || !readable) throw new NotFoundError('Approval', approvalId);
    if (approval.requesterSubject !== caller.subject) throw new ForbiddenError(undefined, 'Only the requester may ask for a fresh decision token.');
    if (approval.status !== 'APPROVED') {
      throw new InvalidInputError('approvalId', `is ${approval.status}: only an APPROVED request whose token expired unused gets a fresh token`);
    }
    const now = deps.now();
    if (approval.expiresAt <= now) throw new ExpiredError(approval.expiresAt);
    if (approval.tokenExpiresAt && approval.tokenExpiresAt > now) {
      throw new InvalidInputError('approvalId', `its decision token is valid until ${approval.tokenExpiresAt.toISOString()}: use that one`);
    }
    const previousJti = approval.tokenJti;
    const token = await issueToken(deps, approval, now);
    approval.updatedAt = now;
    await deps.stores.approvals.save(unit.em, approval);
    const transition = tokenReissued({
      ...changeBy(caller, approval, now),
      previousJti,
      token: { jti: approval.tokenJti, expiresAt: approval.tokenExpiresAt },
    });
    const view = viewFor(approval, caller);
    await record(deps, unit, transition, view, token);
    return { approval: { ...view, decisionToken: token }, token };
  });
}
