import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UnauthenticatedError } from '../../src/domain/errors.js';
import { Authenticator } from '../../src/transports/http/auth.js';

/** A real identity provider's JWKS endpoint whose published keys the test rotates. */
class JwksServer {
  readonly published: JWK[] = [];
  fetches = 0;
  private readonly server: Server = createServer((_request, response) => {
    this.fetches += 1;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: this.published }));
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks.json`;
  }

  /** A new signing key, published; with `replace`, the old ones are withdrawn. */
  async rotate(kid: string, replace = false): Promise<CryptoKey> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    if (replace) this.published.length = 0;
    this.published.push({ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' });
    return privateKey;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const callerToken = (key: CryptoKey, kid: string) =>
  new SignJWT({ tenant: 'acme', roles: ['agent'] })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setSubject('bot')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);

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
});
