import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;
import { InvalidInputError, UnauthenticatedError } from '../../domain/errors.js';
import { ROLES, type Caller } from '../../app/caller.js';
import { name } from '../../app/inputs.js';

export interface AuthOptions {
  secret: string | null;
  jwksUrl: string | null;
  issuer: string | null;
  audience: string | null;
  /** Longest lifetime (`exp` − `iat`, or `exp` − now without `iat`) a caller token may have; default 24 h. */
  maxLifetimeSeconds?: number;
  /** Leeway for `exp`, `nbf` and a future `iat` between our clock and the issuer's; default 30 s. */
  clockToleranceSeconds?: number;
  /** When set, the only `typ` header accepted (compared case-insensitively, `application/` optional). */
  tokenType?: string | null;
  /**
   * Shortest time between two JWKS fetches caused by an unknown `kid` (default 1 s): a key the
   * identity provider has just published is fetched at once, a flood of made-up `kid`s is not.
   */
  jwksCooldownMs?: number;
  /** The clock, in epoch milliseconds; tests inject one. */
  now?: () => number;
}

export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
export const DEFAULT_JWKS_COOLDOWN_MS = 1000;

/** The `typ` of Countersign's own decision tokens: signed by us, but never a caller credential. */
const DECISION_TOKEN_TYPE = 'countersign-decision+jwt';

/** Verified callers kept per token until it expires, so a busy agent is not re-verified per call. */
const MAX_CACHED_CALLERS = 10_000;

/** RFC 8725 §3.11: `typ` is compared without case and without the `application/` prefix. */
const normalizeType = (typ: string): string => typ.toLowerCase().replace(/^application\//, '');

/** A verified caller and the instant its token stops being valid. */
export interface VerifiedCaller {
  caller: Caller;
  /** When the token expires (its `exp` plus the clock tolerance), epoch milliseconds. */
  expiresAtMs: number;
  /**
   * Aborts when the token stops being valid before it expires: the identity provider no longer
   * publishes the key that signed it (see {@link Authenticator.revalidate}). Its reason is the
   * {@link UnauthenticatedError} a new request with the token would get.
   */
  revoked: AbortSignal;
}

/** A verified token as the cache keeps it: what {@link Authenticator.revalidate} checks again. */
interface Verified extends VerifiedCaller {
  /** The `kid` of the key that signed it, when its header names one. */
  kid: string | null;
  /** Its `iat`, epoch milliseconds; null when it has none. */
  issuedAtMs: number | null;
  revocation: AbortController;
}

/** What an admin's revocation of a subject's caller tokens says (see revoke-caller.ts). */
export interface CallerRevocation {
  tenant: string;
  subject: string;
  revokedBefore: Date;
}

const REVOKED = new UnauthenticatedError('The bearer token was revoked by an admin of its tenant; get a new one from the identity provider.');
const subjectKey = (tenant: string, subject: string): string => `${tenant}\u0000${subject}`;

/** Verifies callers' bearer JWTs: HS256 with a shared secret in development, an IdP's JWKS otherwise. */
export class Authenticator {
  private readonly key: Uint8Array | JWTVerifyGetKey | Promise<CryptoKey>;
  private readonly remoteKeys: RemoteKeySet | null = null;
  private readonly algorithms: string[];
  private readonly verified = new Map<string, Verified>();
  /** Per tenant and subject: tokens issued at or before this instant (epoch ms) are revoked. */
  private readonly revokedBefore = new Map<string, number>();
  private readonly maxLifetime: number;
  private readonly tolerance: number;
  private readonly now: () => number;

  constructor(private readonly options: AuthOptions) {
    this.maxLifetime = options.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
    this.tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
    this.now = options.now ?? Date.now;
    if (options.jwksUrl) {
      this.remoteKeys = createRemoteJWKSet(new URL(options.jwksUrl), {
        cooldownDuration: options.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
      });
      this.key = this.remoteKeys;
      this.algorithms = ['RS256', 'ES256', 'EdDSA', 'PS256'];
    } else if (options.secret) {
      // Imported once: handing jose the raw bytes would import the HMAC key on every request.
      this.key = crypto.subtle.importKey('raw', new TextEncoder().encode(options.secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
        'verify',
      ]);
      this.algorithms = ['HS256'];
    } else {
      throw new Error('an auth secret or JWKS URL is required');
    }
  }

  /** The caller named by an `Authorization: Bearer` value, or the typed reason there is none. */
  async authenticate(authorization: string | null | undefined): Promise<Caller | UnauthenticatedError> {
    const result = await this.verify(authorization);
    return result instanceof UnauthenticatedError ? result : result.caller;
  }

  /** The caller of a token already verified and not yet expired, without verifying anything. */
  known(authorization: string | null | undefined): VerifiedCaller | null {
    const token = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization.trim())?.[1] : undefined;
    const cached = token === undefined ? undefined : this.verified.get(token);
    return cached && cached.expiresAtMs > this.now() ? cached : null;
  }

  /** As {@link authenticate}, with the instant the token expires (subscriptions end then). */
  async verify(authorization: string | null | undefined): Promise<VerifiedCaller | UnauthenticatedError> {
    if (!authorization) return new UnauthenticatedError('A bearer token is required.');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match?.[1]) return new UnauthenticatedError('The Authorization header must be "Bearer <token>".');
    const token = match[1];
    const nowMs = this.now();
    const cached = this.verified.get(token);
    if (cached && cached.expiresAtMs > nowMs) return cached;
    if (cached) this.verified.delete(token);

    const checked = await this.check(token, nowMs);
    if (checked instanceof UnauthenticatedError) return checked;
    if (this.isRevoked(checked)) return REVOKED;
    const revocation = new AbortController();
    const verified: Verified = { ...checked, revocation, revoked: revocation.signal };
    this.remember(token, verified, nowMs);
    return verified;
  }

  /**
   * Checks every token verified and not yet expired against the identity provider's keys as
   * they are now (the JWKS fetched again): a token whose signing key was withdrawn is forgotten,
   * so its next request is refused, and its `revoked` signal aborts, which ends its
   * subscriptions. Returns how many were revoked. With a shared secret there is nothing to
   * withdraw. When the JWKS cannot be fetched nothing is revoked (an outage of the identity
   * provider is not a revocation) and the error is thrown for the caller to log.
   */
  async revalidate(): Promise<number> {
    if (!this.remoteKeys) return 0;
    await this.remoteKeys.reload();
    const published = new Set((this.remoteKeys.jwks()?.keys ?? []).flatMap((key) => (typeof key.kid === 'string' ? [key.kid] : [])));
    const nowMs = this.now();
    let revoked = 0;
    for (const [token, entry] of [...this.verified]) {
      if (entry.expiresAtMs <= nowMs) {
        this.verified.delete(token);
        continue;
      }
      // A token naming its key is checked by name; one that names none is verified again.
      const refusal =
        entry.kid !== null
          ? published.has(entry.kid)
            ? null
            : new UnauthenticatedError('The bearer token is signed with a key ("kid") the identity provider no longer publishes.')
          : await this.check(token, nowMs).then((result) => (result instanceof UnauthenticatedError ? result : null));
      if (refusal === null) continue;
      this.verified.delete(token);
      entry.revocation.abort(refusal);
      revoked += 1;
    }
    return revoked;
  }

  /**
   * Applies admins' revocations of subjects' caller tokens (this instance's at once, the others'
   * when read again from the database): a token issued at or before a revocation (or one with no
   * `iat`) is refused from now on, and its `revoked` signal aborts, ending its subscriptions.
   * Returns how many remembered tokens were revoked.
   */
  applyRevocations(revocations: readonly CallerRevocation[]): number {
    const changed = new Set<string>();
    for (const { tenant, subject, revokedBefore } of revocations) {
      const key = subjectKey(tenant, subject);
      const before = revokedBefore.getTime();
      if ((this.revokedBefore.get(key) ?? -Infinity) >= before) continue;
      this.revokedBefore.set(key, before);
      changed.add(key);
    }
    if (changed.size === 0) return 0;
    let revoked = 0;
    for (const [token, entry] of [...this.verified]) {
      if (!changed.has(subjectKey(entry.caller.tenant, entry.caller.subject)) || !this.isRevoked(entry)) continue;
      this.verified.delete(token);
      entry.revocation.abort(REVOKED);
      revoked += 1;
    }
    return revoked;
  }

  private isRevoked(token: { caller: Caller; issuedAtMs: number | null }): boolean {
    const before = this.revokedBefore.get(subjectKey(token.caller.tenant, token.caller.subject));
    return before !== undefined && (token.issuedAtMs === null || token.issuedAtMs <= before);
  }

  /** Keeps a verified token; when the cache is full, the expired go first, then the oldest. */
  private remember(token: string, verified: Verified, nowMs: number): void {
    if (this.verified.size >= MAX_CACHED_CALLERS) {
      for (const [key, entry] of this.verified) if (entry.expiresAtMs <= nowMs) this.verified.delete(key);
      // Still full: the oldest half is verified again on its next request. (A subscription of a
      // token dropped here still ends at its expiry, but no longer on a revocation.)
      if (this.verified.size >= MAX_CACHED_CALLERS) {
        let drop = this.verified.size / 2;
        for (const key of this.verified.keys()) {
          if (drop-- <= 0) break;
          this.verified.delete(key);
        }
      }
    }
    this.verified.set(token, verified);
  }

  /** Verifies a token's signature and claims, with no cache. */
  private async check(
    token: string,
    nowMs: number,
  ): Promise<{ caller: Caller; expiresAtMs: number; kid: string | null; issuedAtMs: number | null } | UnauthenticatedError> {
    let payload: JWTPayload;
    let header: JWTHeaderParameters;
    try {
      const key = this.key instanceof Promise ? await this.key : this.key;
      ({ payload, protectedHeader: header } = await jwtVerify(token, key as Uint8Array, {
        algorithms: this.algorithms,
        requiredClaims: ['exp'],
        clockTolerance: this.tolerance,
        currentDate: new Date(nowMs),
        ...(this.options.issuer && { issuer: this.options.issuer }),
        ...(this.options.audience && { audience: this.options.audience }),
      }));
    } catch (error) {
      return new UnauthenticatedError(describeFailure(error));
    }
    const refusal = this.refuseClaims(header, payload, nowMs / 1000);
    if (refusal) return new UnauthenticatedError(refusal);

    const { sub, tenant, roles } = payload as JWTPayload & { tenant?: unknown; roles?: unknown };
    if (typeof sub !== 'string' || sub.length === 0) return new UnauthenticatedError('The bearer token has no subject.');
    if (typeof tenant !== 'string' || tenant.length === 0) return new UnauthenticatedError('The bearer token names no tenant.');
    try {
      // A tenant is an identifier like an action: "acme " must not be a second tenant beside "acme".
      name('tenant', tenant, 128);
    } catch (error) {
      if (error instanceof InvalidInputError) return new UnauthenticatedError(`The bearer token's "tenant" claim ${error.problem}.`);
      throw error;
    }
    if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
      return new UnauthenticatedError('The bearer token\'s roles must be a list of strings.');
    }
    const caller: Caller = { subject: sub, tenant, roles: roles.filter((role) => (ROLES as readonly string[]).includes(role)) };
    return {
      caller,
      expiresAtMs: ((payload.exp as number) + this.tolerance) * 1000,
      kid: typeof header.kid === 'string' ? header.kid : null,
      issuedAtMs: typeof payload.iat === 'number' ? payload.iat * 1000 : null,
    };
  }

  /** What jose does not check: type confusion, lifetime, issue time in the future. */
  private refuseClaims(header: JWTHeaderParameters, payload: JWTPayload, now: number): string | null {
    const typ = typeof header.typ === 'string' ? normalizeType(header.typ) : null;
    if (typ === DECISION_TOKEN_TYPE) return 'A decision token is not a caller token: present it to execute, not as a bearer token.';
    if (this.options.tokenType && typ !== normalizeType(this.options.tokenType)) {
      return `The bearer token's "typ" header must be "${this.options.tokenType}".`;
    }
    const exp = payload.exp as number;
    if (payload.iat !== undefined && payload.iat > now + this.tolerance) {
      return 'The bearer token\'s "iat" claim is in the future.';
    }
    const issuedAt = payload.iat ?? now;
    if (exp - issuedAt > this.maxLifetime || exp - now > this.maxLifetime + this.tolerance) {
      return `The bearer token's lifetime ("exp" claim) exceeds the maximum of ${this.maxLifetime} seconds.`;
    }
    return null;
  }
}

/** A message naming the claim or check that failed, never the token itself. */
function describeFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The bearer token has expired ("exp" claim).';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return `The bearer token has no "${error.claim}" claim, which is required.`;
    return `The bearer token's "${error.claim}" claim is not accepted (${error.reason}).`;
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'The bearer token is signed with a key ("kid") the identity provider does not publish.';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'The bearer token\'s signing algorithm ("alg") is not accepted.';
  return 'The bearer token is invalid.';
}

/** Mints a development caller token (HS256), as `countersign token mint` does. */
export function mintCallerToken(
  secret: string,
  claims: { subject: string; tenant: string; roles: string[]; expiresIn?: string; issuer?: string; audience?: string; issuedAt?: number },
): Promise<string> {
  let jwt = new SignJWT({ tenant: claims.tenant, roles: claims.roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuedAt(claims.issuedAt)
    .setExpirationTime(claims.expiresIn ?? '12h');
  if (claims.issuer) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
