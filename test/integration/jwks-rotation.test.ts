import { exportSPKI, generateKeyPair, importJWK, SignJWT, type KeyObject } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UnauthenticatedError } from '../../src/domain/errors.js';
import { Authenticator } from '../../src/transports/http/auth.js';
import { idpToken, JwksServer } from '../support/identity-provider.js';

const callerToken = idpToken;

describe('caller tokens verified against a JWKS whose keys rotate', () => {
  const idp = new JwksServer();
  beforeAll(() => idp.start());
  afterAll(() => idp.close());
  afterEach(() => vi.useRealTimers());

  it('accepts a token under a key the provider has just published, without waiting for the cache to age', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const first = await idp.rotate('key-1', true);
    const auth = new Authenticator({ secret: null, jwksUrl: idp.url, issuer: null, audience: null });
    expect(await auth.authenticate(`Bearer ${await callerToken(first, 'key-1')}`)).toMatchObject({ subject: 'bot' });
    const fetchesBefore = idp.fetches;

    // The provider rotates two seconds later; the JWKS fetched at start is ten minutes from stale.
    vi.setSystemTime(Date.now() + 2000);
    const second = await idp.rotate('key-2', true);
    expect(await auth.authenticate(`Bearer ${await callerToken(second, 'key-2')}`)).toMatchObject({ subject: 'bot' });
    expect(idp.fetches).toBe(fetchesBefore + 1);
  });

  it('refetches on unknown kids at most once per cooldown, however many arrive', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const known = await idp.rotate('key-a', true);
    const auth = new Authenticator({ secret: null, jwksUrl: idp.url, issuer: null, audience: null, jwksCooldownMs: 10_000 });
    expect(await auth.authenticate(`Bearer ${await callerToken(known, 'key-a')}`)).toMatchObject({ subject: 'bot' });
    const fetchesBefore = idp.fetches;

    const { privateKey: stranger } = await generateKeyPair('ES256');
    vi.setSystemTime(Date.now() + 11_000);
    const results = await Promise.all(
      Array.from({ length: 40 }, async (_, index) => auth.authenticate(`Bearer ${await callerToken(stranger, `made-up-${index}`)}`)),
    );
    expect(results.every((result) => result instanceof UnauthenticatedError && result.message.includes('"kid"'))).toBe(true);
    expect(idp.fetches).toBe(fetchesBefore + 1);

    // Still inside the cooldown: a flood of further made-up kids fetches nothing.
    for (let index = 0; index < 20; index++) await auth.authenticate(`Bearer ${await callerToken(stranger, `again-${index}`)}`);
    expect(idp.fetches).toBe(fetchesBefore + 1);
  });

  it('refuses alg none, an HS256 token keyed with a published public key, and a kid full of SQL and path characters', async () => {
    const key = await idp.rotate('key-x', true);
    const auth = new Authenticator({ secret: null, jwksUrl: idp.url, issuer: null, audience: null, jwksCooldownMs: 0 });
    expect(await auth.authenticate(`Bearer ${await callerToken(key, 'key-x')}`)).toMatchObject({ subject: 'bot' });
    const claims = { sub: 'bot', tenant: 'acme', roles: ['admin'], iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 };
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    const unsecured = `${encode({ alg: 'none', typ: 'JWT', kid: 'key-x' })}.${encode(claims)}.`;
    expect(await auth.authenticate(`Bearer ${unsecured}`)).toBeInstanceOf(UnauthenticatedError);

    // The classic confusion: the provider's public key, as PEM text, used as an HMAC secret.
    const publicPem = await exportSPKI((await importJWK(idp.published[0]!, 'ES256', { extractable: true })) as KeyObject);
    const confused = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'key-x', typ: 'JWT' }).sign(new TextEncoder().encode(publicPem));
    const refusal = await auth.authenticate(`Bearer ${confused}`);
    expect(refusal).toBeInstanceOf(UnauthenticatedError);
    expect((refusal as UnauthenticatedError).message).toContain('"alg"');

    for (const kid of ["key-x' OR '1'='1", '../../../etc/passwd', 'key-x; DROP TABLE approval;--', '%00']) {
      const odd = await auth.authenticate(`Bearer ${await callerToken(key, kid)}`);
      expect(odd).toBeInstanceOf(UnauthenticatedError);
      expect((odd as UnauthenticatedError).message).toContain('"kid"');
    }
  });
});
