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
export class Authenticator {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(private readonly options: AuthOptions) {
    if (options.jwksUrl) {
      this.key = createRemoteJWKSet(new URL(options.jwksUrl));
      this.algorithms = ['RS256', 'ES256', 'EdDSA', 'PS256'];
    } else if (options.secret) {
      this.key = new TextEncoder().encode(options.secret);
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
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], this.key as Uint8Array, {
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
    return { subject: sub, tenant, roles: roles.filter((role) => (ROLES as readonly string[]).includes(role)) };
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
