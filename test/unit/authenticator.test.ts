import { describe, expect, it } from 'vitest';
import { UnauthenticatedError } from '../../src/domain/errors.js';
import { Authenticator, mintCallerToken } from '../../src/server/auth.js';

const secret = 'authenticator-test-secret-0123456789abcdef';
const authenticator = () => new Authenticator({ secret, jwksUrl: null, issuer: null, audience: null });

describe('the caller authenticator', () => {
  it('returns the same caller for a token it has verified before', async () => {
    const auth = authenticator();
    const token = await mintCallerToken(secret, { subject: 'bot', tenant: 'acme', roles: ['agent', 'root'] });
    const first = await auth.authenticate(`Bearer ${token}`);
    expect(first).toEqual({ subject: 'bot', tenant: 'acme', roles: ['agent'] });
    expect(await auth.authenticate(`Bearer ${token}`)).toEqual(first);
  });

  it('stops accepting a remembered token once it has expired', async () => {
    const auth = authenticator();
    const token = await mintCallerToken(secret, { subject: 'bot', tenant: 'acme', roles: ['agent'], expiresIn: '1s' });
    expect(await auth.authenticate(`Bearer ${token}`)).not.toBeInstanceOf(UnauthenticatedError);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await auth.authenticate(`Bearer ${token}`)).toBeInstanceOf(UnauthenticatedError);
  });

  it('refuses a token signed with another secret and a malformed header', async () => {
    const auth = authenticator();
    const forged = await mintCallerToken('another-secret-of-enough-length-0123456789', { subject: 'x', tenant: 'acme', roles: ['admin'] });
    expect(await auth.authenticate(`Bearer ${forged}`)).toBeInstanceOf(UnauthenticatedError);
    expect(await auth.authenticate('Basic abc')).toBeInstanceOf(UnauthenticatedError);
    expect(await auth.authenticate(undefined)).toBeInstanceOf(UnauthenticatedError);
  });
});
