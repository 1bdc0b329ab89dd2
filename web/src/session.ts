// The caller's session: the token lives in session storage only (never in a URL), and one SDK
// client per token, over the same origin as the page.
import { CountersignClient } from '../../src/client/core.js';

const KEY = 'countersign.callerToken';

export interface Claims {
  subject: string;
  tenant: string;
  roles: string[];
  expiresAt: number | null;
}

/** Reads a JWT's claims for display; the server, not the page, verifies the token. */
export function claimsOf(token: string): Claims | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const payload = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (char) => char.charCodeAt(0)))) as Record<string, unknown>;
    if (typeof payload['sub'] !== 'string') return null;
    return {
      subject: payload['sub'],
      tenant: typeof payload['tenant'] === 'string' ? payload['tenant'] : '',
      roles: Array.isArray(payload['roles']) ? payload['roles'].filter((role): role is string => typeof role === 'string') : [],
      expiresAt: typeof payload['exp'] === 'number' ? payload['exp'] * 1000 : null,
    };
  } catch {
    return null;
  }
}

export const storedToken = (): string | null => sessionStorage.getItem(KEY);
export const storeToken = (token: string): void => sessionStorage.setItem(KEY, token);
export const forgetToken = (): void => sessionStorage.removeItem(KEY);

export function clientFor(token: string): CountersignClient {
  // The inbox is served by the server it talks to, so its documents are always in that server's
  // manifest: naming them by hash works whether or not the server runs persisted operations only.
  return new CountersignClient({ url: location.origin, token, persistedOperations: true });
}

/** Asks the development route for a token (only outside production). */
export async function devTokensEnabled(): Promise<boolean> {
  try {
    const response = await fetch('/dev/token', { headers: { accept: 'application/json' } });
    return response.ok && ((await response.json()) as { enabled?: boolean }).enabled === true;
  } catch {
    return false;
  }
}

export async function mintDevToken(subject: string, tenant: string, roles: string[]): Promise<string> {
  const response = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ subject, tenant, roles }),
  });
  const body = (await response.json()) as { token?: string; error?: string };
  if (!response.ok || !body.token) throw new Error(body.error ?? `the server answered ${response.status}`);
  return body.token;
}
