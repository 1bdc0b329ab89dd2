import { SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { UnauthenticatedError } from '../../src/domain/errors.js';
import { Authenticator, mintCallerToken, type AuthOptions } from '../../src/transports/http/auth.js';

const secret = 'authenticator-test-secret-0123456789abcdef';
const key = new TextEncoder().encode(secret);
const START = Date.UTC(2026, 0, 1) / 1000;

/** An authenticator whose clock the test moves. */
function authenticator(options: Partial<AuthOptions> = {}) {
  const clock = { now: START };
  const auth = new Authenticator({ secret, jwksUrl: null, issuer: null, audience: null, now: () => clock.now * 1000, ...options });
  return { auth, clock };
}

/** Signs exactly the claims and header given: no defaults. */
function sign(claims: JWTPayload, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): Promise<string> {
  return new SignJWT({ sub: 'bot', tenant: 'acme', roles: ['agent'], ...claims }).setProtectedHeader(header as { alg: string }).sign(key);
}

const message = (result: unknown) => (result instanceof UnauthenticatedError ? result.message : `accepted: ${JSON.stringify(result)}`);

describe('the caller authenticator', () => {
  it('returns the same caller for a token it has verified before', async () => {
    const auth = new Authenticator({ secret, jwksUrl: null, issuer: null, audience: null });
    const token = await mintCallerToken(secret, { subject: 'bot', tenant: 'acme', roles: ['agent', 'root'] });
    const first = await auth.authenticate(`Bearer ${token}`);
    expect(first).toEqual({ subject: 'bot', tenant: 'acme', roles: ['agent'] });
    expect(await auth.authenticate(`Bearer ${token}`)).toEqual(first);
  });

  it('stops accepting a remembered token once it has expired beyond the tolerance', async () => {
    const { auth, clock } = authenticator();
    const token = await sign({ iat: START, exp: START + 60 });
    expect(await auth.authenticate(`Bearer ${token}`)).not.toBeInstanceOf(UnauthenticatedError);
    clock.now = START + 60 + 29;
    expect(await auth.authenticate(`Bearer ${token}`)).not.toBeInstanceOf(UnauthenticatedError);
    clock.now = START + 60 + 30;
    expect(message(await auth.authenticate(`Bearer ${token}`))).toContain('expired');
  });

  it('accepts an expired token inside the clock tolerance and refuses it just beyond, when first seen', async () => {
    const token = await sign({ iat: START - 100, exp: START - 29 });
    expect(await authenticator().auth.authenticate(`Bearer ${token}`)).not.toBeInstanceOf(UnauthenticatedError);
    const late = await sign({ iat: START - 100, exp: START - 30 });
    expect(message(await authenticator().auth.authenticate(`Bearer ${late}`))).toContain('"exp"');
  });

  it('refuses a token without exp, naming the claim', async () => {
    expect(message(await authenticator().auth.authenticate(`Bearer ${await sign({ iat: START })}`))).toContain('no "exp" claim');
  });

  it('refuses a lifetime over the maximum (24 h by default) and accepts one at it', async () => {
    const { auth } = authenticator();
    expect(await auth.authenticate(`Bearer ${await sign({ iat: START, exp: START + 24 * 3600 })}`)).not.toBeInstanceOf(UnauthenticatedError);
    expect(message(await auth.authenticate(`Bearer ${await sign({ iat: START, exp: START + 24 * 3600 + 1 })}`))).toContain('lifetime');
    // 100 years out, without iat to measure from, is measured from now.
    expect(message(await auth.authenticate(`Bearer ${await sign({ exp: START + 100 * 365 * 24 * 3600 })}`))).toContain('lifetime');
    // A backdated iat does not hide a far exp.
    const { auth: short } = authenticator({ maxLifetimeSeconds: 3600 });
    expect(message(await short.authenticate(`Bearer ${await sign({ iat: START - 10, exp: START + 7200 })}`))).toContain('3600 seconds');
  });

  it('refuses an iat in the future beyond the tolerance and accepts one inside it', async () => {
    const { auth } = authenticator();
    expect(await auth.authenticate(`Bearer ${await sign({ iat: START + 30, exp: START + 600 })}`)).not.toBeInstanceOf(UnauthenticatedError);
    expect(message(await auth.authenticate(`Bearer ${await sign({ iat: START + 10 * 365 * 24 * 3600, exp: START + 600 })}`))).toContain('"iat"');
    expect(message(await auth.authenticate(`Bearer ${await sign({ iat: START + 31, exp: START + 600 })}`))).toContain('"iat"');
  });

  it('applies the tolerance to nbf', async () => {
    const { auth } = authenticator();
    expect(await auth.authenticate(`Bearer ${await sign({ nbf: START + 30, exp: START + 600 })}`)).not.toBeInstanceOf(UnauthenticatedError);
    expect(message(await auth.authenticate(`Bearer ${await sign({ nbf: START + 31, exp: START + 600 })}`))).toContain('"nbf"');
  });

  it('refuses a decision token presented as a caller token, whatever the spelling of its typ', async () => {
    const { auth } = authenticator();
    for (const typ of ['countersign-decision+jwt', 'application/Countersign-Decision+JWT']) {
      const token = await sign({ iat: START, exp: START + 600 }, { alg: 'HS256', typ });
      expect(message(await auth.authenticate(`Bearer ${token}`))).toContain('decision token');
    }
  });

  it('accepts only the pinned typ when one is configured', async () => {
    const { auth } = authenticator({ tokenType: 'at+jwt' });
    expect(await auth.authenticate(`Bearer ${await sign({ iat: START, exp: START + 600 }, { alg: 'HS256', typ: 'at+JWT' })}`)).not.toBeInstanceOf(
      UnauthenticatedError,
    );
    expect(message(await auth.authenticate(`Bearer ${await sign({ iat: START, exp: START + 600 }, { alg: 'HS256', typ: 'JWT' })}`))).toContain(
      '"typ"',
    );
    expect(message(await auth.authenticate(`Bearer ${await sign({ iat: START, exp: START + 600 }, { alg: 'HS256' })}`))).toContain('"typ"');
  });

  it('refuses a wrong or missing iss and aud, naming the claim', async () => {
    const { auth } = authenticator({ issuer: 'https://idp.example', audience: 'countersign' });
    const good = await sign({ iat: START, exp: START + 600, iss: 'https://idp.example', aud: 'countersign' });
    expect(await auth.authenticate(`Bearer ${good}`)).not.toBeInstanceOf(UnauthenticatedError);
    expect(message(await auth.authenticate(`Bearer ${await sign({ iat: START, exp: START + 600, aud: 'countersign' })}`))).toContain('"iss"');
    expect(message(await auth.authenticate(`Bearer ${await sign({ iat: START, exp: START + 600, iss: 'https://evil', aud: 'countersign' })}`))).toContain(
      '"iss"',
    );
    expect(message(await auth.authenticate(`Bearer ${await sign({ iat: START, exp: START + 600, iss: 'https://idp.example', aud: 'other' })}`))).toContain(
      '"aud"',
    );
  });

  it('refuses a tenant that is not a plain identifier', async () => {
    const { auth } = authenticator();
    for (const tenant of ['acme ', ' acme', 'ac me', '../acme', 'x'.repeat(129)]) {
      expect(message(await auth.authenticate(`Bearer ${await sign({ iat: START, exp: START + 600, tenant })}`))).toContain('"tenant"');
    }
  });

  it('refuses a token signed with another secret and a malformed header', async () => {
    const auth = new Authenticator({ secret, jwksUrl: null, issuer: null, audience: null });
    const forged = await mintCallerToken('another-secret-of-enough-length-0123456789', { subject: 'x', tenant: 'acme', roles: ['admin'] });
    expect(await auth.authenticate(`Bearer ${forged}`)).toBeInstanceOf(UnauthenticatedError);
    expect(await auth.authenticate('Basic abc')).toBeInstanceOf(UnauthenticatedError);
    expect(await auth.authenticate(undefined)).toBeInstanceOf(UnauthenticatedError);
  });
});

describe('caller-token configuration', () => {
  const productionEnv = {
    NODE_ENV: 'production',
    COUNTERSIGN_AUTH_SECRET: secret,
    COUNTERSIGN_AUTH_ISSUER: 'https://idp.example',
    COUNTERSIGN_AUTH_AUDIENCE: 'countersign',
    COUNTERSIGN_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  };

  it('requires iss and aud settings in production', () => {
    expect(() => loadConfig({ ...productionEnv, COUNTERSIGN_AUTH_ISSUER: '' })).toThrow(/COUNTERSIGN_AUTH_ISSUER/);
    expect(() => loadConfig({ ...productionEnv, COUNTERSIGN_AUTH_AUDIENCE: '' })).toThrow(/COUNTERSIGN_AUTH_AUDIENCE/);
    expect(loadConfig(productionEnv).authIssuer).toBe('https://idp.example');
  });

  it('reads the lifetime, tolerance and typ settings', () => {
    const config = loadConfig({
      ...productionEnv,
      COUNTERSIGN_AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600',
      COUNTERSIGN_AUTH_CLOCK_TOLERANCE_SECONDS: '5',
      COUNTERSIGN_AUTH_TOKEN_TYPE: 'at+jwt',
    });
    expect([config.authMaxTokenLifetimeSeconds, config.authClockToleranceSeconds, config.authTokenType]).toEqual([3600, 5, 'at+jwt']);
    expect(loadConfig(productionEnv).authMaxTokenLifetimeSeconds).toBe(24 * 3600);
    expect(loadConfig(productionEnv).authClockToleranceSeconds).toBe(30);
  });
});
