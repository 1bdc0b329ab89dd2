import type { IncomingMessage, Server } from 'node:http';
import { GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { CloseCode, handleProtocols, makeServer, type Context as WsContext } from 'graphql-ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import { RateLimitedError, UnauthenticatedError } from '../../domain/errors.js';
import { checkStrictJson } from '../../domain/strict-json.js';
import type { LimitedAuthenticator } from './auth-limits.js';
import { clientAddress } from './auth-limits.js';
import { MAX_JSON_DEPTH } from './json-body.js';
import { persistedDocument } from './persisted.js';
import { CLOSE_FORBIDDEN, deliveredDirectly, nextMessageWriter, writable } from './ws-delivery.js';
import { isAsyncIterable } from '../graphql/event-streams.js';
import { directLaneOf } from '../graphql/shared-execution.js';

export { CLOSE_FORBIDDEN };

/** Bounds of one graphql-ws connection. */
export interface WebSocketLimits {
  /** Largest message accepted, bytes; `ws` closes the socket (1009) on a larger one, before parsing it. */
  maxPayloadBytes: number;
  /** Most subscriptions one connection may hold at once. */
  maxSubscriptionsPerConnection: number;
  /** Bytes queued to a client that is not reading before its connection is cut. */
  maxBufferedBytes: number;
}

export const DEFAULT_WEBSOCKET_LIMITS: WebSocketLimits = {
  maxPayloadBytes: 1024 * 1024,
  maxSubscriptionsPerConnection: 50,
  maxBufferedBytes: 4 * 1024 * 1024,
};

export interface WebSocketOptions {
  server: Server;
  path: string;
  yoga: YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;
  authenticator: LimitedAuthenticator;
  limits: WebSocketLimits;
  /**
   * The bytes one subscriber's buffer may hold (COUNTERSIGN_SUBSCRIBER_MAX_BUFFERED_BYTES). Results
   * written straight to the socket skip that buffer, so the socket's queue is bounded by the
   * smaller of this and the connection's limit.
   */
  subscriberMaxBufferedBytes?: number;
  /** Epoch milliseconds; tests inject a clock. */
  now?: () => number;
  /** Run persisted operations only (COUNTERSIGN_PERSISTED_ONLY). */
  persistedOnly?: boolean;
}

interface Extra {
  socket: WebSocket;
  request: IncomingMessage;
  /** Ends the connection when the caller's token expires. */
  expiryTimer?: NodeJS.Timeout;
  /** Stops listening for the token's revocation. */
  forgetRevocation?: () => void;
  /** When the connection's caller token expires (epoch ms); every subscription of the connection runs under it. */
  expiresAtMs?: number;
  /** Set once the token is revoked. */
  revoked?: boolean;
}

type EnvelopedRoot = {
  execute: (args: ExecutionArgs) => never;
  subscribe: (args: ExecutionArgs) => unknown;
  /** Writes one subscription result to the client as a `next` message. */
  deliver: (result: ExecutionResult) => void;
};

/** Close code for an address refused after too many failed authentications (as HTTP's 429). */
export const CLOSE_RATE_LIMITED = 4429;

const authorizationOf = (params: Readonly<Record<string, unknown>> | undefined): string | null => {
  const value = params?.['authorization'] ?? params?.['Authorization'];
  return typeof value === 'string' ? value : null;
};

/** Why the connection's caller may no longer be served, or null while its token is valid. */
function refusalOf(extra: Extra, now: () => number): string | null {
  if (extra.revoked === true) return 'The caller token was revoked.';
  return extra.expiresAtMs !== undefined && now() >= extra.expiresAtMs ? 'The caller token has expired.' : null;
}

/** Runs `close` at `deadlineMs`; setTimeout waits at most 2^31−1 ms, so a longer wait is chained. */
function closeAt(extra: Extra, deadlineMs: number, now: () => number, close: () => void): void {
  const wait = deadlineMs - now();
  if (wait <= 0) return close();
  extra.expiryTimer = setTimeout(() => closeAt(extra, deadlineMs, now, close), Math.min(wait, 2 ** 31 - 1));
  extra.expiryTimer.unref();
}

/**
 * GraphQL over WebSocket (graphql-ws) on the yoga instance's envelop, so that the auth, limits
 * and plugins of HTTP apply to each operation. Unlike graphql-ws's stock `ws` adapter it:
 * - caps message size (`maxPayload`) before a byte is parsed,
 * - reads every message as strict JSON (one meaning for every input, as over HTTP),
 * - refuses a `connection_init` without a valid caller token (close 4403) instead of holding the socket,
 * - closes the connection (4403) when the caller's token expires or is revoked,
 * - caps subscriptions per connection, and cuts a client that stops reading by bytes queued.
 */
export function serveGraphQLOverWebSocket(options: WebSocketOptions): { wsServer: WebSocketServer; dispose(): Promise<void> } {
  const { yoga, authenticator, limits } = options;
  const now = options.now ?? Date.now;
  const directWriteBytes = Math.min(limits.maxBufferedBytes, options.subscriberMaxBufferedBytes ?? Number.POSITIVE_INFINITY);
  const wsServer = new WebSocketServer({ server: options.server, path: options.path, maxPayload: limits.maxPayloadBytes, handleProtocols });
  // `ws` re-emits the HTTP server's errors (EADDRINUSE among them); unheard, that would throw out
  // of the event loop. The HTTP server's own listener (`start()`) reports them.
  wsServer.on('error', () => {});

  const graphqlWs = makeServer<Record<string, unknown> | undefined, Extra>({
    execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
    subscribe: async (args) => {
      const root = args.rootValue as EnvelopedRoot;
      const result = await root.subscribe(args);
      return isAsyncIterable<ExecutionResult>(result) ? deliveredDirectly(result, root.deliver, directLaneOf(args.contextValue)) : (result as never);
    },
    onConnect: async (ctx: WsContext<Record<string, unknown> | undefined, Extra>) => {
      const verified = await authenticator.verify(authorizationOf(ctx.connectionParams), clientAddress(ctx.extra.request)).catch((error: unknown) => {
        if (!(error instanceof RateLimitedError)) throw error;
        ctx.extra.socket.close(CLOSE_RATE_LIMITED, error.message.slice(0, 120));
        return error;
      });
      if (verified instanceof RateLimitedError) return false;
      if (verified instanceof UnauthenticatedError) return false;
      const { socket } = ctx.extra;
      ctx.extra.expiresAtMs = verified.expiresAtMs;
      closeAt(ctx.extra, verified.expiresAtMs, now, () => socket.close(CLOSE_FORBIDDEN, 'The caller token has expired.'));
      // Revoked before it expires (its signing key withdrawn): the connection ends as at expiry.
      const onRevoked = () => {
        ctx.extra.revoked = true;
        socket.close(CLOSE_FORBIDDEN, 'The caller token was revoked.');
      };
      if (verified.revoked.aborted) {
        onRevoked();
        return false;
      }
      verified.revoked.addEventListener('abort', onRevoked, { once: true });
      ctx.extra.forgetRevocation = () => verified.revoked.removeEventListener('abort', onRevoked);
      return true;
    },
    onSubscribe: async (ctx, id, payload) => {
      // The subscription being started is already counted in ctx.subscriptions.
      if (Object.keys(ctx.subscriptions).length > limits.maxSubscriptionsPerConnection) {
        return [
          new GraphQLError(`A connection may hold at most ${limits.maxSubscriptionsPerConnection} subscriptions.`, {
            extensions: { code: 'LIMIT_EXCEEDED' },
          }),
        ];
      }
      const source = persistedDocument(payload, options.persistedOnly === true);
      if (source instanceof GraphQLError) return [source];
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params: payload,
        connectionParams: ctx.connectionParams,
        // The connection ends at the caller token's expiry or revocation, and each delivery checks it.
        deadlineHeldByTransport: true,
      });
      let document: DocumentNode;
      try {
        document = parse(source);
      } catch (error) {
        // A syntax error or a refused document is the client's fault: answer it, keep the socket.
        return [error instanceof GraphQLError ? error : new GraphQLError('The document could not be parsed.')];
      }
      const contextValue = await contextFactory({ connectionParams: ctx.connectionParams });
      const args = {
        schema,
        operationName: payload.operationName,
        document,
        variableValues: payload.variables,
        contextValue,
        rootValue: {
          execute,
          subscribe,
          deliver: nextMessageWriter(ctx.extra.socket, ctx.extra.request.socket, id, directWriteBytes, () => refusalOf(ctx.extra, now)),
        } as EnvelopedRoot,
      };
      const errors = validate(args.schema, args.document);
      if (errors.length) return errors;
      return args;
    },
  });

  wsServer.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const extra: Extra = { socket, request };
    socket.once('error', () => socket.terminate());
    const closed = graphqlWs.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (!writable(socket, data.length, limits.maxBufferedBytes)) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (deliver) =>
          socket.on('message', async (data) => {
            const text = String(data);
            try {
              checkStrictJson(text, MAX_JSON_DEPTH);
            } catch (error) {
              socket.close(CloseCode.BadRequest, error instanceof Error ? error.message.slice(0, 120) : 'Invalid message');
              return;
            }
            try {
              await deliver(text);
            } catch {
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      extra,
    );
    socket.once('close', (code, reason) => {
      clearTimeout(extra.expiryTimer);
      extra.forgetRevocation?.();
      void closed(code, String(reason));
    });
  });

  return {
    wsServer,
    async dispose() {
      for (const client of wsServer.clients) client.terminate();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
