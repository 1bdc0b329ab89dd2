import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Plugin } from 'graphql-yoga';

/**
 * The inbox's Content-Security-Policy: scripts, styles and connections only from this origin
 * (graphql-ws included: CSP 3 lets 'self' match ws/wss of the same host), no inline code, no
 * framing, no plugins, no form posts elsewhere.
 */
export const INBOX_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

const SECURITY_HEADERS = {
  'content-security-policy': INBOX_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

/**
 * Serves the approvals inbox (the Vite build in `dir`) at `/`, from the same origin as
 * `/graphql`. Hashed assets under `/assets/` are cached for good; the page itself never is, so a
 * new build is picked up on reload. When the inbox was not built, `/` says how to build it.
 */
export function useInbox(dir: string): Plugin {
  const root = normalize(dir);
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      const path = url.pathname === '/' || url.pathname === '/index.html' ? '/index.html' : url.pathname;
      if (path !== '/index.html' && !path.startsWith('/assets/') && path !== '/favicon.svg') return;
      const file = normalize(join(root, decodeURIComponent(path)));
      if (!file.startsWith(root + sep)) {
        endResponse(new fetchAPI.Response('Not found', { status: 404 }));
        return;
      }
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch {
        endResponse(
          path === '/index.html'
            ? new fetchAPI.Response('The approvals inbox is not built: run npm run setup.\n', {
                status: 503,
                headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS },
              })
            : new fetchAPI.Response('Not found', { status: 404, headers: SECURITY_HEADERS }),
        );
        return;
      }
      endResponse(
        new fetchAPI.Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
          headers: {
            'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
            'cache-control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
            ...SECURITY_HEADERS,
          },
        }),
      );
    },
  };
}
