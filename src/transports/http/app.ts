import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/core';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Caller } from '../../app/caller.js';
import { CheckpointFiles } from '../../app/checkpoint-files.js';
import type { Gate } from '../../app/gate.js';
import { ForbiddenError, RateLimitedError, UnauthenticatedError, type CountersignError } from '../../domain/errors.js';
import type { Config } from '../../config.js';
import type { ChangeFeed } from '../../feed/feed.js';
import type { Notifications } from '../../notify/index.js';
import type { PolicyEvaluator } from '../../policy/index.js';
import { createServices, type ServiceOptions } from '../../services.js';
import { schema, type Context } from '../graphql/index.js';
import { useSharedSubscriptionExecution } from '../graphql/shared-execution.js';
import { ServerLeaseHolder } from '../../db/server-lease.js';
import { Authenticator, type CallerRevocation } from './auth.js';
import { clientAddress, LimitedAuthenticator, tooManyFailedAuthentications } from './auth-limits.js';
import { useDevTokens } from './dev-tokens.js';
import { useInbox } from './inbox.js';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useCompiledExecution } from './compiled-execution.js';
import { useStrictJsonRequests } from './json-body.js';
import { useOperationGuards } from './limits.js';
import { usePersistedOperationsOnly } from './persisted.js';
import { useRouteBodyLimit } from './route-bounds.js';
import { useSubscriptionDeadline } from './subscription-deadline.js';
import { serveGraphQLOverWebSocket } from './websocket.js';
import { createMcpHttpHandler, isMcpRequest } from '../mcp/http.js';
import { instrument, Metrics } from './metrics.js';
import { Drain, useOperationsRoutes } from './operations.js';

export interface App {
  /** Listens; resolves with the base URL (port 0 picks a free port). */
  start(): Promise<string>;
  /** Closes connections, timers, the policy watcher and the database. */
  stop(): Promise<void>;
  readonly gate: Gate;
  readonly orm: MikroORM;
  readonly evaluator: PolicyEvaluator;
  /** The change feed the gate publishes committed changes to and subscriptions listen on. */
  readonly changes: ChangeFeed;
  /** Notification channels and the dispatcher that delivers to them. */
  readonly notifications: Notifications;
  /** The schedule writing signed audit checkpoints to COUNTERSIGN_CHECKPOINT_DIR, when set. */
  readonly checkpointFiles: CheckpointFiles | null;
  /** This instance's Prometheus metrics, served at /metrics. */
  readonly metrics: Metrics;
  /**
   * Fetches the identity provider's JWKS again and revokes what tokens under a withdrawn key
   * still hold (their subscriptions end, their next request is refused); returns how many. Runs
   * every COUNTERSIGN_AUTH_JWKS_REVALIDATE_MS with a JWKS URL; a no-op with a shared secret.
   */
  revalidateCallers(): Promise<number>;
  readonly url: string;
}

export type AppOptions = ServiceOptions;

const GRAPHQL_PATH = '/graphql';
/** The signed checkpoint of the caller's tenant's audit chain, as a C2SP signed note (text/plain). */
const CHECKPOINT_PATH = '/audit/checkpoint';

/**
 * GET /audit/checkpoint: the note for auditors and admins; 401 or 403 with the error's code
 * otherwise, and 429 with Retry-After for an address that failed authentication too often (the
 * limit /graphql counts in).
 */
async function checkpointResponse(gate: Gate, caller: Caller | UnauthenticatedError | RateLimitedError, Response: typeof globalThis.Response): Promise<Response> {
  const refusal = (status: number, error: CountersignError, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify({ code: error.code, message: error.message }), { status, headers: { 'content-type': 'application/json', ...headers } });
  if (caller instanceof RateLimitedError) return refusal(429, caller, { 'retry-after': String(caller.retryAfterSeconds) });
  if (caller instanceof UnauthenticatedError) return refusal(401, caller);
  try {
    const checkpoint = await gate.auditCheckpoint(caller);
    return new Response(checkpoint.note, {
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-countersign-kid': checkpoint.kid },
    });
  } catch (error) {
    if (error instanceof ForbiddenError) return refusal(403, error);
    throw error;
  }
}

/** Builds the server: database, policy evaluator, gate, GraphQL over HTTP, SSE and WebSocket. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? ((message: string) => console.log(message));
  const metrics = new Metrics();
  const logRedisError = options.onRedisError ?? ((error: unknown) => log(`redis: ${(error as Error).message}`));
  const services = await createServices(config, {
    ...options,
    onCommitBatch: metrics.onCommitBatch,
    onRedisError: (error) => {
      metrics.redisErrors.inc();
      logRedisError(error);
    },
    onNotificationAttempt: (channel, status) => metrics.notificationDeliveries.inc({ channel, status }),
  });
  const { gate, orm, evaluator, changes, notifications, sharedFeed } = services;
  instrument(metrics, gate, evaluator);
  // Set once the server exists; readiness reads it.
  let drain: Drain | undefined;
  // One server per SQLite file (see ServerLeaseHolder); an in-memory database is private anyway,
  // and instances sharing PostgreSQL are serialised by its writer lock. The CLI's short-lived
  // commands take no lease, so they build services without this.
  const leased = config.databaseDriver !== 'postgresql' && config.databasePath !== ':memory:';
  const lease = leased
    ? await ServerLeaseHolder.acquire(orm, config.databasePath).catch(async (error: unknown) => {
        await services.close();
        throw error;
      })
    : null;
  const authenticator = new Authenticator({
    secret: config.authSecret,
    jwksUrl: config.authJwksUrl,
    issuer: config.authIssuer,
    audience: config.authAudience,
    maxLifetimeSeconds: config.authMaxTokenLifetimeSeconds,
    clockToleranceSeconds: config.authClockToleranceSeconds,
    tokenType: config.authTokenType,
    jwksCooldownMs: config.authJwksCooldownMs,
    ...(options.now && { now: () => options.now!().getTime() }),
  });
  const limitedAuthenticator = new LimitedAuthenticator(authenticator, gate.rateLimits.failedAuthentication);
  // Revocations committed on this instance apply at once; those of other instances at each sweep.
  const applyCallerRevocation = (revocation: CallerRevocation): void => void authenticator.applyRevocations([revocation]);
  const readRevocations = (): Promise<void> => gate.revocations().then((revocations) => void authenticator.applyRevocations(revocations));
  await readRevocations();
  const nowMs = options.now ? () => options.now!().getTime() : Date.now;

  const yoga: YogaServerInstance<Record<string, unknown>, Context> = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: config.graphiql ? { subscriptionsProtocol: 'WS' } : false,
    landingPage: false,
    maskedErrors: true,
    // The body limit is useStrictJsonRequests's: it reads what yoga's would pipe through a stream.
    maxRequestBodySize: false,
    // Closed unless origins are configured: the inbox is served from this origin and needs none.
    cors: config.corsOrigins.length > 0 ? { origin: config.corsOrigins, credentials: true } : false,
    // One context factory for HTTP, SSE and WebSocket: WS passes connection_init's payload as `params`.
    context: async ({ request, req, connectionParams }: { request?: Request; req?: IncomingMessage; connectionParams?: Record<string, unknown> }) => {
      const header =
        request?.headers.get('authorization') ??
        (typeof connectionParams?.['authorization'] === 'string' ? (connectionParams['authorization'] as string) : null) ??
        (typeof connectionParams?.['Authorization'] === 'string' ? (connectionParams['Authorization'] as string) : null);
      const verified = await limitedAuthenticator.verify(header, clientAddress(req)).catch((error: unknown) => {
        throw error instanceof RateLimitedError ? tooManyFailedAuthentications(error) : error;
      });
      const subscriberBufferBytes = config.subscriberMaxBufferedBytes;
      return verified instanceof UnauthenticatedError
        ? { gate, changes, notifications: notifications.channels, caller: verified, callerExpiresAtMs: null, callerRevoked: null, subscriberBufferBytes, applyCallerRevocation }
        : {
            gate,
            changes,
            notifications: notifications.channels,
            caller: verified.caller,
            callerExpiresAtMs: verified.expiresAtMs,
            callerRevoked: verified.revoked,
            subscriberBufferBytes,
            applyCallerRevocation,
          };
    },
    plugins: [
      // First, so no route beside /graphql authenticates or reads a body yoga's own limit would refuse.
      useRouteBodyLimit(GRAPHQL_PATH, config.maxBodyBytes),
      useStrictJsonRequests(config.maxBodyBytes),
      usePersistedOperationsOnly(config.persistedOnly),
      useSubscriptionDeadline(nowMs),
      // A GET (or any request a cross-site page can send without a preflight) needs this header.
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf'] }),
      ...useOperationGuards({ introspection: config.introspection, fieldSuggestions: config.fieldSuggestions }),
      useSharedSubscriptionExecution(),
      useCompiledExecution(),
      useInbox(config.inboxDir),
      // Never with an identity provider's tokens, and never in production (devTokens is off there).
      ...(config.devTokens && config.authSecret && !config.authJwksUrl
        ? [useDevTokens({ secret: config.authSecret, issuer: config.authIssuer, audience: config.authAudience, maxBodyBytes: config.maxBodyBytes })]
        : []),
      {
        async onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
          if (request.method !== 'GET') return;
          if (url.pathname === CHECKPOINT_PATH) {
            const address = clientAddress((serverContext as { req?: IncomingMessage }).req);
            const verified = await limitedAuthenticator.verify(request.headers.get('authorization'), address).catch((error: unknown) => {
              if (error instanceof RateLimitedError) return error;
              throw error;
            });
            const caller = verified instanceof UnauthenticatedError || verified instanceof RateLimitedError ? verified : verified.caller;
            endResponse(await checkpointResponse(gate, caller, fetchAPI.Response));
          } else if (url.pathname === '/.well-known/jwks.json') {
            return gate.publishedKeys().then((jwks) =>
              endResponse(
                new fetchAPI.Response(JSON.stringify(jwks), {
                  headers: { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=60' },
                }),
              ),
            );
          }
          return undefined;
        },
      },
      useOperationsRoutes(
        {
          orm,
          policyRevision: () => evaluator.revision,
          ...(sharedFeed && { pingFeed: () => sharedFeed.ping() }),
          metrics,
        },
        () => drain?.isDraining ?? false,
      ),
    ],
  });

  const mcp = createMcpHttpHandler({
    authenticate: async (header, request) => {
      const verified = await limitedAuthenticator.verify(header, clientAddress(request)).catch((error: unknown) => error as Error);
      return verified instanceof Error ? verified : verified.caller;
    },
    baseUrl: () => url,
    maxBodyBytes: config.maxBodyBytes,
  });
  const server: Server = createServer((request, response) => {
    if (isMcpRequest(request)) void mcp(request, response);
    else void yoga(request, response);
  });
  const webSocket = serveGraphQLOverWebSocket({
    server,
    path: GRAPHQL_PATH,
    yoga: yoga as unknown as YogaServerInstance<Record<string, unknown>, Record<string, unknown>>,
    authenticator: limitedAuthenticator,
    limits: config.webSocketLimits,
    subscriberMaxBufferedBytes: config.subscriberMaxBufferedBytes,
    persistedOnly: config.persistedOnly,
    now: nowMs,
  });
  const draining = new Drain(server, webSocket.wsServer);
  drain = draining;
  metrics.countSubscribers(() => draining.subscriberCount);

  const checkpointFiles = config.checkpointDir
    ? new CheckpointFiles({ dir: config.checkpointDir, intervalMs: config.checkpointIntervalMs, checkpoints: () => gate.checkpoints(), log })
    : null;
  let sweepTimer: NodeJS.Timeout | undefined;
  let revalidateTimer: NodeJS.Timeout | undefined;
  let url = '';
  const app: App = {
    gate,
    orm,
    evaluator,
    changes,
    notifications,
    checkpointFiles,
    metrics,
    get url() {
      return url;
    },
    revalidateCallers: () => authenticator.revalidate(),
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      url = `http://${config.host}:${port}`;
      sweepTimer = setInterval(() => {
        gate.expireDue().catch((error: unknown) => log(`expiry sweep failed: ${String(error)}`));
        gate.refreshSigningKeys().catch((error: unknown) => log(`signing key refresh failed: ${String(error)}`));
        readRevocations().catch((error: unknown) => log(`reading caller-token revocations failed: ${String(error)}`));
      }, config.expirySweepMs);
      sweepTimer.unref();
      if (config.authJwksUrl) {
        revalidateTimer = setInterval(() => {
          authenticator.revalidate().then(
            (revoked) => revoked > 0 && log(`auth: ${revoked} caller token(s) revoked: their signing key is no longer published`),
            (error: unknown) => log(`auth: fetching the JWKS again failed (nothing revoked): ${String(error)}`),
          );
        }, config.authJwksRevalidateMs);
        revalidateTimer.unref();
      }
      await notifications.dispatcher?.start();
      checkpointFiles?.start();
      return url;
    },
    async stop() {
      clearInterval(sweepTimer);
      clearInterval(revalidateTimer);
      // Readiness turns 503 and no new connection is taken; subscribers are told to reconnect
      // (elsewhere, behind a load balancer), and requests in progress finish within the grace period.
      await draining.drain(config.shutdownGraceMs);
      await checkpointFiles?.stop();
      await webSocket.dispose();
      await gate.whenIdle();
      await lease?.release().catch((error: unknown) => log(`releasing the server lease failed: ${String(error)}`));
      await services.close();
    },
  };
  return app;
}
