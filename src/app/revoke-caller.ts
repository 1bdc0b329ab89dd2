import type { Revocation } from '../db/stores/revocation-store.js';
import { InvalidInputError } from '../domain/errors.js';
import { requireRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import { optionalText } from './inputs.js';

/**
 * Revokes every caller token of `subject` in the admin's tenant issued until now: their requests
 * are refused and their subscriptions end, on every instance (see Authenticator.applyRevocations).
 * Caller tokens are stateless JWTs that live until they expire; this is how an approver who was
 * removed loses access before then. A token the identity provider issues afterwards is accepted.
 * Audited as `caller_tokens_revoked`.
 */
export function revokeCallerTokens(deps: GateDeps, caller: Caller, input: { subject: string }): Promise<Revocation> {
  requireRole(caller, 'admin');
  const subject = optionalText('subject', input.subject, 256);
  if (subject === null) throw new InvalidInputError('subject', 'is required');
  return deps.committer.run(async (unit) => {
    const revocation: Revocation = { tenant: caller.tenant, subject, revokedBefore: deps.now() };
    await deps.stores.revocations.revoke(unit.em, revocation, caller.subject);
    await unit.audit({
      tenant: caller.tenant,
      approvalId: null,
      occurredAt: revocation.revokedBefore,
      type: 'caller_tokens_revoked',
      actor: caller.subject,
      previousStatus: null,
      newStatus: null,
      details: { subject, revokedBefore: revocation.revokedBefore.toISOString() },
    });
    return revocation;
  });
}
