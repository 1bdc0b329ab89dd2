import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { UnauthenticatedError } from '../domain/errors.js';
import { ROLES, type Caller } from '../gate/caller.js';

export interface AuthOptions {
  secret: string | null;
  jwksUrl: string | null;
  issuer: string | null;
  audience: string | null;
}

/** Verifies callers' bearer JWTs: HS256 with a shared secret in development, an IdP's JWKS otherwise. */
/** Verified callers kept per token until it expires, so a busy agent is not re-verified per call. */
const MAX_CACHED_CALLERS = 10_000;

export class Authenticator {
  private readonly key: Uint8Array | JWTVerifyGetKey | Promise<CryptoKey>;
  private readonly algorithms: string[];
  private readonly verified = new Map<string, { caller: Caller; expiresAtMs: number }>();

  constructor(private readonly options: AuthOptions) {
    if (options.jwksUrl) {
      this.key = createRemoteJWKSet(new URL(options.jwksUrl));
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
    if (!authorization) return new UnauthenticatedError('A bearer token is required.');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match?.[1]) return new UnauthenticatedError('The Authorization header must be "Bearer <token>".');
    const token = match[1];
    const cached = this.verified.get(token);
    if (cached && cached.expiresAtMs > Date.now()) return cached.caller;
    if (cached) this.verified.delete(token);
    let payload: JWTPayload;
    try {
      const key = this.key instanceof Promise ? await this.key : this.key;
      ({ payload } = await jwtVerify(token, key as Uint8Array, {
        algorithms: this.algorithms,
        ...(this.options.issuer && { issuer: this.options.issuer }),
        ...(this.options.audience && { audience: this.options.audience }),
      }));
    } catch {
      return new UnauthenticatedError('The bearer token is invalid or expired.');
    }
    const { sub, tenant, roles } = payload as JWTPayload & { tenant?: unknown; roles?: unknown };
    if (typeof sub !== 'string' || sub.length === 0) return new UnauthenticatedError('The bearer token has no subject.');
    if (typeof tenant !== 'string' || tenant.length === 0) return new UnauthenticatedError('The bearer token names no tenant.');
    if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
      return new UnauthenticatedError('The bearer token\'s roles must be a list of strings.');
    }
    const caller: Caller = { subject: sub, tenant, roles: roles.filter((role) => (ROLES as readonly string[]).includes(role)) };
    if (typeof payload.exp === 'number') {
      if (this.verified.size >= MAX_CACHED_CALLERS) this.verified.clear();
      this.verified.set(token, { caller, expiresAtMs: payload.exp * 1000 });
    }
    return caller;
  }
}

/** Mints a development caller token (HS256), as `countersign token mint` does. */
export function mintCallerToken(
  secret: string,
  claims: { subject: string; tenant: string; roles: string[]; expiresIn?: string; issuer?: string; audience?: string },
): Promise<string> {
  let jwt = new SignJWT({ tenant: claims.tenant, roles: claims.roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '12h');
  if (claims.issuer) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
