import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CountersignClient } from '../../client/index.js';
import type { Caller } from '../../app/caller.js';
import { RateLimitedError } from '../../domain/errors.js';
import { BodyTooLargeError, declaredBodyProblem, readBoundedNodeText } from '../http/route-bounds.js';
import { createGateMcpServer } from './gate-server.js';

/** Where the MCP server is served, beside /graphql. */
export const MCP_PATH = '/mcp';

/** The largest JSON-RPC body accepted, whatever COUNTERSIGN_MAX_BODY_BYTES allows /graphql. */
const MAX_MCP_BODY_BYTES = 256 * 1024;

export interface McpHttpOptions {
  /** Verifies the `Authorization` header exactly as /graphql does. */
  /** The caller, or why not (a RateLimitedError when the address failed too often: 429). */
  authenticate(authorization: string | null | undefined, request: IncomingMessage): Promise<Caller | Error>;
  /** The server's own base URL (known once it listens). */
  baseUrl(): string;
  /** The body limit of /graphql (COUNTERSIGN_MAX_BODY_BYTES); MCP takes at most 256 KiB of it. */
  maxBodyBytes: number;
}

/** Whether a request is for the MCP endpoint. */
export function isMcpRequest(request: IncomingMessage): boolean {
  const path = (request.url ?? '').split('?', 1)[0];
  return path === MCP_PATH || path === `${MCP_PATH}/`;
}

/**
 * The Streamable HTTP MCP endpoint, stateless: each POST gets its own server and transport, so
 * any instance can answer any request. A tool call streams its progress notifications on the
 * POST's own event stream. Tools act through the GraphQL API as the caller, with the caller's
 * own bearer token, so roles, tenant, validation and limits are those of /graphql, enforced in
 * one place.
 */
export function createMcpHttpHandler(options: McpHttpOptions): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  return async (request, response) => {
    if (request.method !== 'POST') {
      // No sessions: no standalone event stream (GET) and nothing to end (DELETE).
      return jsonRpcError(response, 405, -32000, 'Method not allowed: this MCP endpoint is stateless, POST only.', { allow: 'POST' });
    }
    const limit = Math.min(options.maxBodyBytes, MAX_MCP_BODY_BYTES);
    // A declared length over the limit is refused before the token is even verified.
    const declared = declaredBodyProblem(request.headers['content-length'], limit);
    if (declared) {
      request.resume();
      return jsonRpcError(response, declared.status, -32600, declared.message, { connection: 'close' });
    }
    const authorization = request.headers.authorization;
    const caller = await options.authenticate(authorization, request);
    if (caller instanceof RateLimitedError) {
      return jsonRpcError(response, 429, -32001, caller.message, { 'retry-after': String(caller.retryAfterSeconds) });
    }
    if (caller instanceof Error) {
      return jsonRpcError(response, 401, -32001, caller.message, { 'www-authenticate': 'Bearer realm="countersign"' });
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBoundedNodeText(request, limit));
    } catch (error) {
      if (error instanceof BodyTooLargeError) return jsonRpcError(response, 413, -32600, error.message, { connection: 'close' });
      return jsonRpcError(response, 400, -32700, 'Parse error: the body is not JSON.');
    }
    const client = new CountersignClient({ url: options.baseUrl(), token: (authorization ?? '').replace(/^Bearer\s+/i, '') });
    const server = createGateMcpServer(client);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    response.on('close', () => {
      void transport.close();
      void server.close();
      void client.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(request, response, body);
    } catch {
      if (!response.headersSent) jsonRpcError(response, 500, -32603, 'Internal error.');
    }
  };
}

function jsonRpcError(response: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
