import type { IncomingMessage } from 'node:http';
import { createGraphQLError } from 'graphql-yoga';
import type { OperationRateLimit } from '../../app/rate-limits.js';
import { RateLimitedError, UnauthenticatedError } from '../../domain/errors.js';
import type { Authenticator, VerifiedCaller } from './auth.js';

/** The address a request or WebSocket came from, the key of the failed-authentication limit. */
export function clientAddress(request: IncomingMessage | undefined): string {
  return request?.socket?.remoteAddress ?? 'unknown';
}

/**
 * Verifies bearer tokens under the failed-authentication limit: an address that has presented
 * too many tokens that did not verify is refused (429) before its next new token is even
 * verified, so guessing costs the server nothing and teaches the guesser nothing. A token this
 * server has already verified still passes, so callers sharing the address (behind one NAT) keep
 * working. A missing token is not counted: it is an anonymous request, not a failed attempt.
 */
export class LimitedAuthenticator {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly limit: OperationRateLimit,
  ) {}

  /** The verified caller or why there is none; throws {@link RateLimitedError} for a refused address. */
  async verify(authorization: string | null | undefined, address: string): Promise<VerifiedCaller | UnauthenticatedError> {
    if (!authorization) return this.authenticator.verify(authorization);
    const known = this.authenticator.known(authorization);
    if (known) return known;
    await this.limit.check(address);
    const verified = await this.authenticator.verify(authorization);
    if (verified instanceof UnauthenticatedError) await this.limit.take(address);
    return verified;
  }
}

/** A refused address as the HTTP answer: 429 with Retry-After, before any operation runs. */
export function tooManyFailedAuthentications(error: RateLimitedError): Error {
  return createGraphQLError(error.message, {
    extensions: {
      code: error.code,
      retryAfterSeconds: error.retryAfterSeconds,
      http: { status: 429, headers: { 'retry-after': String(error.retryAfterSeconds) } },
    },
  });
}
