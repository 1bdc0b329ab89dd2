import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import type { Approval } from '../db/entities/approval.entity.js';
import type { KeyRing } from '../db/keyring.js';
import { signDecisionToken } from '../domain/decision-token.js';
import type { GateDeps } from './deps.js';

/** Signs the decision token of an approved request and records its id and expiry on it. */
export async function issueToken(deps: GateDeps, approval: Approval, now: Date): Promise<void> {
  const expiresAt = new Date(Math.min(now.getTime() + approval.tokenTtlSeconds * 1000, approval.expiresAt.getTime()));
  const jti = randomUUID();
  approval.decisionToken = await signDecisionToken(deps.keys.signingKeyFor(expiresAt), {
    approvalId: approval.id,
    tenant: approval.tenant,
    action: approval.action,
    contextHash: approval.contextHash,
    policyRevision: approval.policyRevision,
    issuer: deps.issuer,
    audience: deps.tokenAudience,
    jti,
    issuedAt: now,
    expiresAt,
  });
  approval.tokenJti = jti;
  approval.tokenExpiresAt = expiresAt;
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
