import type { Plugin } from 'graphql-yoga';
import { ROLES } from '../../app/caller.js';
import { mintCallerToken } from './auth.js';
import { BodyTooLargeError, readBoundedText } from './route-bounds.js';

/** Where the inbox asks for a development caller token. */
export const DEV_TOKEN_PATH = '/dev/token';

/** What a minted development token may say, bounded so the route mints nothing unusual. */
const MAX_NAME = 128;
const NAME = /^[A-Za-z0-9._@:-]+$/;

export interface DevTokenOptions {
  secret: string;
  issuer: string | null;
  audience: string | null;
  /** The body limit of every route (COUNTERSIGN_MAX_BODY_BYTES). */
  maxBodyBytes: number;
}

/**
 * Development only (never mounted in production or with an identity provider's JWKS): mints a
 * caller token for a chosen subject, tenant and roles, as `countersign token mint` does, so that
 * the inbox can sign in without a terminal. `GET` answers whether minting is on; `POST` takes
 * JSON `{ subject, tenant, roles }` (JSON only, so a cross-site form cannot post it).
 */
export function useDevTokens(options: DevTokenOptions): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== DEV_TOKEN_PATH) return;
      const json = (body: unknown, status = 200) =>
        new fetchAPI.Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
      if (request.method === 'GET') {
        endResponse(json({ enabled: true, roles: ROLES }));
        return;
      }
      if (request.method !== 'POST') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET, POST' } }));
        return;
      }
      if (!(request.headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')) {
        endResponse(json({ error: 'expected application/json' }, 415));
        return;
      }
      let input: { subject?: unknown; tenant?: unknown; roles?: unknown };
      try {
        input = JSON.parse(await readBoundedText(request, options.maxBodyBytes)) as typeof input;
      } catch (error) {
        if (error instanceof BodyTooLargeError) endResponse(json({ error: error.message }, 413));
        else endResponse(json({ error: 'the body is not JSON' }, 400));
        return;
      }
      const { subject, tenant, roles } = input ?? {};
      const valid = (name: unknown): name is string => typeof name === 'string' && name.length <= MAX_NAME && NAME.test(name);
      if (!valid(subject) || !valid(tenant)) {
        endResponse(json({ error: 'subject and tenant must be 1 to 128 letters, digits or ._@:-' }, 400));
        return;
      }
      if (!Array.isArray(roles) || roles.length === 0 || !roles.every((role) => (ROLES as readonly unknown[]).includes(role))) {
        endResponse(json({ error: `roles must be a non-empty list of ${ROLES.join(', ')}` }, 400));
        return;
      }
      const token = await mintCallerToken(options.secret, {
        subject,
        tenant,
        roles: [...new Set(roles as string[])],
        expiresIn: '8h',
        ...(options.issuer && { issuer: options.issuer }),
        ...(options.audience && { audience: options.audience }),
      });
      endResponse(json({ token }));
    },
  };
}
