import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { MikroORM } from '@mikro-orm/core';
import type { Plugin } from 'graphql-yoga';
import type { WebSocketServer } from 'ws';
import type { Metrics } from './metrics.js';

/**
 * The WebSocket close code a draining instance ends subscriptions with: 1012 "Service Restart".
 * graphql-ws clients treat it as retryable and reconnect, through the load balancer, to an
 * instance that is still serving; with `current: true` they miss nothing.
 */
export const RECONNECT_CLOSE_CODE = 1012;

/** What readiness depends on. */
export interface ReadinessChecks {
  orm: MikroORM;
  /** The policy revision being served, or null when no bundle is loaded. */
  policyRevision(): string | null;
  /** Pings the shared change feed's Redis; absent without Redis. */
  pingFeed?: () => Promise<void>;
  metrics: Metrics;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** A check fails after this long: a database that does not answer is not ready. */
const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Checks what a load balancer needs before sending this instance traffic. */
export async function readiness(checks: ReadinessChecks, draining: boolean): Promise<Readiness> {
  const results: Readiness['checks'] = {};
  const check = async (name: string, probe: () => Promise<string | void>, onError?: () => void): Promise<void> => {
    try {
      const detail = await withTimeout(probe(), name);
      results[name] = detail ? { ok: true, detail } : { ok: true };
    } catch (error) {
      onError?.();
      // The first line names what failed; connection strings and credentials are not in it.
      results[name] = { ok: false, detail: error instanceof Error ? (error.message.split('\n')[0] ?? 'failed') : String(error) };
    }
  };
  await Promise.all([
    check(
      'database',
      async () => void (await checks.orm.em.getConnection().execute('select 1 as ok')),
      () => checks.metrics.databaseErrors.inc(),
    ),
    ...(checks.pingFeed ? [check('redis', checks.pingFeed, () => checks.metrics.redisErrors.inc())] : []),
    check('policy', async () => {
      const revision = checks.policyRevision();
      if (!revision) throw new Error('no policy bundle loaded');
      return revision;
    }),
  ]);
  if (draining) results['serving'] = { ok: false, detail: 'shutting down' };
  return { ready: Object.values(results).every((result) => result.ok), checks: results };
}

/**
 * `/healthz` (the process answers: liveness), `/readyz` (database, Redis and bundle: readiness,
 * 503 while any fails or while shutting down) and `/metrics` (Prometheus text format).
 */
export function useOperationsRoutes(checks: ReadinessChecks, isDraining: () => boolean): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET') return undefined;
      const json = (body: unknown, status = 200) =>
        new fetchAPI.Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
      if (url.pathname === '/healthz') {
        endResponse(json({ status: 'ok', policyRevision: checks.policyRevision() }));
      } else if (url.pathname === '/readyz') {
        return readiness(checks, isDraining()).then((result) =>
          endResponse(json({ status: result.ready ? 'ready' : 'unavailable', checks: result.checks }, result.ready ? 200 : 503)),
        );
      } else if (url.pathname === '/metrics') {
        return checks.metrics.scrape().then(({ contentType, body }) =>
          endResponse(new fetchAPI.Response(body, { headers: { 'content-type': contentType, 'cache-control': 'no-store' } })),
        );
      }
      return undefined;
    },
  };
}

const isEventStream = (response: ServerResponse): boolean => String(response.getHeader('content-type') ?? '').startsWith('text/event-stream');

/**
 * Tracks the HTTP requests in progress so that shutdown can wait for them. A streaming response
 * (Server-Sent Events) never finishes by itself: drain ends it, as it closes WebSocket
 * subscriptions, and the client resubscribes elsewhere.
 */
export class Drain {
  private readonly inFlight = new Set<ServerResponse>();
  private readonly whenIdle: (() => void)[] = [];
  private draining = false;

  constructor(
    private readonly server: Server,
    private readonly wsServer: WebSocketServer,
  ) {
    server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
      this.inFlight.add(response);
      // While draining, every answer closes its connection: the client's next request goes elsewhere.
      if (this.draining) response.setHeader('connection', 'close');
      response.once('close', () => {
        this.inFlight.delete(response);
        if (this.inFlight.size === 0) for (const resolve of this.whenIdle.splice(0)) resolve();
      });
    });
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Subscribers now: WebSocket connections and Server-Sent Event streams. */
  get subscriberCount(): number {
    let streams = 0;
    for (const response of this.inFlight) if (isEventStream(response)) streams++;
    return this.wsServer.clients.size + streams;
  }

  /**
   * Stops accepting connections, closes subscriptions with {@link RECONNECT_CLOSE_CODE}, lets the
   * requests in progress finish (until `graceMs`), then closes what is left.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.wsServer.clients) socket.close(RECONNECT_CLOSE_CODE, 'server shutting down; reconnect');
    for (const response of this.inFlight) if (isEventStream(response)) response.end();
    this.server.closeIdleConnections();
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.whenIdle.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    for (const socket of this.wsServer.clients) socket.terminate();
    this.server.closeAllConnections();
    await closed;
  }
}
