import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** A real identity provider's JWKS endpoint whose published keys a test rotates and withdraws. */
export class JwksServer {
  readonly published: JWK[] = [];
  fetches = 0;
  /** While true the endpoint answers 503, as a provider in an outage. */
  unavailable = false;
  private readonly server: Server = createServer((_request, response) => {
    this.fetches += 1;
    if (this.unavailable) {
      response.writeHead(503).end();
      return;
    }
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

  /** Stops publishing the key `kid` (it was compromised, or its holder removed). */
  withdraw(kid: string): void {
    const index = this.published.findIndex((key) => key.kid === kid);
    if (index >= 0) this.published.splice(index, 1);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A caller token signed by the provider's key `kid`, valid ten minutes. */
export const idpToken = (key: CryptoKey, kid: string, claims: { subject?: string; tenant?: string; roles?: string[] } = {}) =>
  new SignJWT({ tenant: claims.tenant ?? 'acme', roles: claims.roles ?? ['agent'] })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setSubject(claims.subject ?? 'bot')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);
