import { newId } from '../domain/ids.js';
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import type { Approval } from '../db/entities/approval.entity.js';
import type { KeyRing } from '../db/keyring.js';
import { signDecisionToken, type DecisionClaims } from '../domain/decision-token.js';
import type { GateDeps } from './deps.js';

/**
 * Signs the decision token of an approved request and records its claims on it (id, issue and
 * expiry times, signing key). The token itself is returned and never stored: a copy of the
 * database must hold no token usable at `execute`. {@link decisionTokenOf} re-creates it.
 */
export async function issueToken(deps: GateDeps, approval: Approval, now: Date): Promise<string> {
  const expiresAt = new Date(Math.min(now.getTime() + approval.tokenTtlSeconds * 1000, approval.expiresAt.getTime()));
  const key = deps.keys.signingKeyFor(expiresAt);
  approval.tokenJti = newId();
  approval.tokenIssuedAt = now;
  approval.tokenExpiresAt = expiresAt;
  approval.tokenKid = key.kid;
  return signDecisionToken(key, claimsOf(deps, approval));
}

/**
 * The decision token of an approval that has one, re-created from its stored claims: Ed25519
 * (RFC 8032) signatures are deterministic, so the same claims signed with the same key give back
 * the very token issued, byte for byte. Null when the approval has no token or its key is gone.
 * No access rule here: callers hand the token to the requester alone (see access.ts). This is the
 * one place tokens are re-created; a reissue builds on it.
 */
export async function decisionTokenOf(deps: GateDeps, approval: Approval): Promise<string | null> {
  if (!approval.tokenJti || !approval.tokenKid || !approval.tokenIssuedAt || !approval.tokenExpiresAt) return null;
  // A key another instance added since this one last read the ring: read it again, once.
  let key = deps.keys.signingKeyById(approval.tokenKid);
  if (!key && (await deps.keys.refresh())) key = deps.keys.signingKeyById(approval.tokenKid);
  return key ? signDecisionToken(key, claimsOf(deps, approval)) : null;
}

function claimsOf(deps: GateDeps, approval: Approval): DecisionClaims {
  return {
    approvalId: approval.id,
    tenant: approval.tenant,
    action: approval.action,
    contextHash: approval.contextHash,
    policyRevision: approval.policyRevision,
    issuer: deps.issuer,
    audience: deps.tokenAudience,
    jti: approval.tokenJti as string,
    issuedAt: approval.tokenIssuedAt as Date,
    expiresAt: approval.tokenExpiresAt as Date,
  };
}

/** Resolves verification keys from the ring as it is now, rebuilt only when the ring changes. */
export function verificationKeysOf(keys: KeyRing, now: () => Date): JWTVerifyGetKey {
  let keySet = { version: keys.version, resolve: createLocalJWKSet(keys.jwks(now())) };
  return (protectedHeader, token) => {
    if (keySet.version !== keys.version) {
      keySet = { version: keys.version, resolve: createLocalJWKSet(keys.jwks(now())) };
    }
    return keySet.resolve(protectedHeader, token);
  };
}
