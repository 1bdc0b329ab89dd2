import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { contextHash } from '../domain/context-hash.js';
import { verifyDecisionToken, type VerifiedDecision } from '../domain/decision-token.js';
import { ContextMismatchError, CountersignError } from '../domain/errors.js';
import { TransportError, refusedFromDomain } from './errors.js';

export type { VerifiedDecision };

/** What {@link verifyDecisionTokenOffline} checks a token against. */
export interface OfflineVerificationOptions {
  /** The decision token presented with the action. */
  token: string;
  /** The action about to run, exactly as it will run. */
  action: string;
  resource?: string | null;
  context: unknown;
  /** The tenant this executor serves; a token of another tenant is refused. */
  tenant: string;
  /** The server's JWKS URL, e.g. `http://127.0.0.1:4000/.well-known/jwks.json` (fetched once, then cached). */
  jwksUrl?: string | URL;
  /** The JWKS document itself, for executors with no network path to the server. */
  jwks?: JSONWebKeySet;
  /** `iss` the server signs with (COUNTERSIGN_ISSUER, default `urn:countersign:local`). */
  issuer: string;
  /** `aud` the server signs for (COUNTERSIGN_TOKEN_AUDIENCE, default `urn:countersign:execute`). */
  audience: string;
  /** The time to check expiry against; defaults to now. */
  now?: Date;
  /** Leeway for clock skew when checking `exp`, in seconds (default 0). */
  clockToleranceSeconds?: number;
}

/** One remote key set per URL, so that jose's caching and cooldown apply across calls. */
const remoteKeySets = new Map<string, JWTVerifyGetKey>();

function keysFor(options: OfflineVerificationOptions): JWTVerifyGetKey {
  if (options.jwks) return createLocalJWKSet(options.jwks);
  if (!options.jwksUrl) throw new TypeError('verifyDecisionTokenOffline needs jwksUrl or jwks');
  const url = new URL(options.jwksUrl);
  let keys = remoteKeySets.get(url.href);
  if (!keys) {
    keys = createRemoteJWKSet(url);
    remoteKeySets.set(url.href, keys);
  }
  return keys;
}

/**
 * Verifies a decision token without calling the server: EdDSA signature by a published key, `typ`,
 * issuer, audience, expiry, and that it was issued for exactly this tenant, action, resource and
 * context (the same canonical hash the server computes). Resolves with the token's claims.
 *
 * This proves the action was approved; it cannot prove the token is unused. Executors that must
 * run an action at most once redeem the token with `CountersignClient.execute` instead.
 *
 * Throws a {@link RefusedError} with code `TOKEN_INVALID` (see `details.reason`), `TOKEN_EXPIRED`,
 * `CONTEXT_MISMATCH` or `INVALID_INPUT` (a context with no canonical JSON form), and a
 * {@link TransportError} when the keys cannot be fetched.
 */
export async function verifyDecisionTokenOffline(options: OfflineVerificationOptions): Promise<VerifiedDecision> {
  const keys = keysFor(options);
  try {
    const expectedContextHash = contextHash({
      tenant: options.tenant,
      action: options.action,
      resource: options.resource ?? null,
      context: options.context,
    });
    const decision = await verifyDecisionToken(options.token, {
      keys,
      issuer: options.issuer,
      audience: options.audience,
      expectedContextHash,
      ...(options.now && { now: options.now }),
      ...(options.clockToleranceSeconds !== undefined && { clockToleranceSeconds: options.clockToleranceSeconds }),
    });
    // The hash covers both; checking the plain claims too keeps a mis-issued token from slipping through.
    if (decision.tenant !== options.tenant || decision.action !== options.action) {
      throw new ContextMismatchError(expectedContextHash, decision.contextHash);
    }
    return decision;
  } catch (error) {
    if (error instanceof CountersignError) throw refusedFromDomain(error);
    const message = error instanceof Error ? error.message : String(error);
    throw new TransportError(`Could not obtain the decision-token keys: ${message}`, { cause: error });
  }
}
