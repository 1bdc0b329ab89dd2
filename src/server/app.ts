import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/core';
import { GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Config } from '../config.js';
import { databaseOptions, openDatabase } from '../db/orm.js';
import { ServerLeaseHolder } from '../db/server-lease.js';
import { Gate } from '../gate/gate.js';
import { createNotifications, type Notifications } from '../notify/index.js';
import { PolicyEvaluator, type PolicyEvent } from '../policy/index.js';
import { ChangeSubscriptions, schema, type Context } from '../schema/index.js';
import { Authenticator } from './auth.js';
import { useDevTokens } from './dev-tokens.js';
import { useInbox } from './inbox.js';
import { useOperationLimits } from './limits.js';
import { createMcpHttpHandler, isMcpRequest } from '../transports/mcp/http.js';

export interface App {
  /** Listens; resolves with the base URL (port 0 picks a free port). */
  start(): Promise<string>;
  /** Closes connections, timers, the policy watcher and the database. */
  stop(): Promise<void>;
  readonly gate: Gate;
  readonly orm: MikroORM;
  readonly evaluator: PolicyEvaluator;
  /** The pub/sub the gate publishes committed changes to and subscriptions listen on. */
  readonly changes: ChangeSubscriptions;
  /** Notification channels and the dispatcher that delivers to them. */
  readonly notifications: Notifications;
  readonly url: string;
}

export interface AppOptions {
  /** Receives policy reloads and fail-safe evaluations; defaults to the console. */
  onPolicyEvent?: (event: PolicyEvent) => void;
  log?: (message: string) => void;
}

const GRAPHQL_PATH = '/graphql';

type EnvelopedRoot = { execute: (args: ExecutionArgs) => never; subscribe: (args: ExecutionArgs) => never };

/** Builds the server: database, policy evaluator, gate, GraphQL over HTTP, SSE and WebSocket. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? ((message: string) => console.log(message));
  const onPolicyEvent =
    options.onPolicyEvent ??
    ((event: PolicyEvent) => {
      if (event.kind === 'reloaded') log(`policy: reloaded revision ${event.revision} (was ${event.previousRevision})`);
      else if (event.kind === 'reload_refused') log(`policy: ${event.error.message}; still serving ${event.servingRevision}`);
      else log(`policy: evaluation failed safe for ${event.tenant}/${event.action}: ${event.problem}`);
    });
  const evaluator = await PolicyEvaluator.load({
    bundleDir: config.bundleDir,
    ...(config.policySourcesDir && { sourcesDir: config.policySourcesDir }),
    watch: config.watchBundle,
    onEvent: onPolicyEvent,
  });
  let orm: MikroORM;
  let lease: ServerLeaseHolder | null;
  try {
    orm = await openDatabase(databaseOptions(config));
    // One server per SQLite file (see ServerLeaseHolder); an in-memory database is private anyway,
    // and instances sharing PostgreSQL are serialised by its writer lock.
    const leased = config.databaseDriver !== 'postgresql' && config.databasePath !== ':memory:';
    lease = leased ? await ServerLeaseHolder.acquire(orm, config.databasePath).catch(async (error: unknown) => {
      await orm.close(true);
      throw error;
    }) : null;
  } catch (error) {
    evaluator.close();
    throw error;
  }
  const changes = new ChangeSubscriptions();
  const notifications = createNotifications({ orm, config: config.notify, keyEncryptionKey: config.keyEncryptionKey, log });
  // Committed changes reach subscribers and wake the notification dispatcher, which reads the audit trail.
  const publisher = {
    publish(change: Parameters<ChangeSubscriptions['publish']>[0]) {
      changes.publish(change);
      notifications.changed();
    },
  };
  const gate = await Gate.open({ orm, evaluator, publisher, issuer: config.issuer, tokenAudience: config.tokenAudience });
  const authenticator = new Authenticator({
    secret: config.authSecret,
    jwksUrl: config.authJwksUrl,
    issuer: config.authIssuer,
    audience: config.authAudience,
    maxLifetimeSeconds: config.authMaxTokenLifetimeSeconds,
    clockToleranceSeconds: config.authClockToleranceSeconds,
    tokenType: config.authTokenType,
    jwksCooldownMs: config.authJwksCooldownMs,
  });

  const yoga: YogaServerInstance<Record<string, unknown>, Context> = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: config.graphiql ? { subscriptionsProtocol: 'WS' } : false,
    landingPage: false,
    maskedErrors: true,
    // One context factory for HTTP, SSE and WebSocket: WS passes connection_init's payload as `params`.
    context: async ({ request, connectionParams }: { request?: Request; connectionParams?: Record<string, unknown> }) => {
      const header =
        request?.headers.get('authorization') ??
        (typeof connectionParams?.['authorization'] === 'string' ? (connectionParams['authorization'] as string) : null) ??
        (typeof connectionParams?.['Authorization'] === 'string' ? (connectionParams['Authorization'] as string) : null);
      return { gate, changes, notifications: notifications.channels, caller: await authenticator.authenticate(header) };
    },
    plugins: [
      useOperationLimits(),
      useInbox(config.inboxDir),
      // Never with an identity provider's tokens, and never in production (devTokens is off there).
      ...(config.devTokens && config.authSecret && !config.authJwksUrl
        ? [useDevTokens({ secret: config.authSecret, issuer: config.authIssuer, audience: config.authAudience })]
        : []),
      {
        onRequest({ request, url, endResponse, fetchAPI }) {
          if (request.method !== 'GET') return;
          if (url.pathname === '/.well-known/jwks.json') {
            endResponse(
              new fetchAPI.Response(JSON.stringify(gate.keys.jwks()), {
                headers: { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=60' },
              }),
            );
          } else if (url.pathname === '/healthz') {
            endResponse(
              new fetchAPI.Response(JSON.stringify({ status: 'ok', policyRevision: evaluator.revision }), {
                headers: { 'content-type': 'application/json' },
              }),
            );
          }
        },
      },
    ],
  });

  const mcp = createMcpHttpHandler({ authenticate: (header) => authenticator.authenticate(header), baseUrl: () => url });
  const server: Server = createServer((request, response) => {
    if (isMcpRequest(request)) void mcp(request, response);
    else void yoga(request, response);
  });
  const wsServer = new WebSocketServer({ server, path: GRAPHQL_PATH });
  const wsDisposable = useServer(
    {
      // Each operation runs through the envelop that onSubscribe prepared, so plugins apply to WS too.
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onSubscribe: async (ctx, _id, payload) => {
        const { schema: envelopedSchema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          connectionParams: ctx.connectionParams,
        });
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          // A syntax error or a refused document is the client's fault: answer it, keep the socket.
          return [error instanceof GraphQLError ? error : new GraphQLError('The document could not be parsed.')];
        }
        const args = {
          schema: envelopedSchema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory({ connectionParams: ctx.connectionParams }),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    wsServer,
  );

  let sweepTimer: NodeJS.Timeout | undefined;
  let url = '';
  const app: App = {
    gate,
    orm,
    evaluator,
    changes,
    notifications,
    get url() {
      return url;
    },
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
      }, config.expirySweepMs);
      sweepTimer.unref();
      await notifications.dispatcher?.start();
      return url;
    },
    async stop() {
      clearInterval(sweepTimer);
      evaluator.close();
      await wsDisposable.dispose();
      for (const client of wsServer.clients) client.terminate();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gate.whenIdle();
      await notifications.dispatcher?.stop();
      await lease?.release().catch((error: unknown) => log(`releasing the server lease failed: ${String(error)}`));
      await orm.close(true);
    },
  };
  return app;
}
