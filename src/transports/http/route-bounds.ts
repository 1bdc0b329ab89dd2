import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';

/** A request body over the limit; the route answers 413 and reads no further. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The body is larger than ${limit} bytes.`);
    this.name = 'BodyTooLargeError';
  }
}

/** What an HTTP route refuses a body for before reading it: a bad or too large Content-Length. */
export function declaredBodyProblem(contentLength: string | null | undefined, limit: number): { status: 400 | 413; message: string } | null {
  if (contentLength === null || contentLength === undefined) return null;
  // One non-negative integer, nothing else (comma-joined values are a smuggling attempt).
  if (!/^\d+$/.test(contentLength)) return { status: 400, message: 'The Content-Length header is invalid.' };
  return Number(contentLength) > limit ? { status: 413, message: new BodyTooLargeError(limit).message } : null;
}

/**
 * The routes yoga serves beside GraphQL (`/audit/checkpoint`, `/dev/token`, `/metrics`, ...) get
 * the body limit of /graphql (COUNTERSIGN_MAX_BODY_BYTES), which yoga applies to GraphQL requests
 * only: a declared length over it is refused with 413 before any route authenticates or reads;
 * a route that reads a body reads it with {@link readBoundedText}.
 */
export function useRouteBodyLimit(graphqlPath: string, limit: number): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname === graphqlPath) return;
      const problem = declaredBodyProblem(request.headers.get('content-length'), limit);
      if (problem) {
        endResponse(
          new fetchAPI.Response(JSON.stringify({ code: problem.status === 413 ? 'REQUEST_ENTITY_TOO_LARGE' : 'BAD_REQUEST', message: problem.message }), {
            status: problem.status,
            headers: { 'content-type': 'application/json', connection: 'close' },
          }),
        );
      }
    },
  };
}

/** A fetch Request's body as text, refused with {@link BodyTooLargeError} once it passes `limit` bytes (chunked bodies too). */
export async function readBoundedText(request: Request, limit: number): Promise<string> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A Node request's body as text, refused with {@link BodyTooLargeError} past `limit` bytes, declared or read. */
export function readBoundedNodeText(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (declaredBodyProblem(request.headers['content-length'], limit)?.status === 413) {
      reject(new BodyTooLargeError(limit));
      request.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Read on without keeping anything, so the refusal can still be answered.
        request.removeAllListeners('data');
        request.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
