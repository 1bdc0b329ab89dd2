/**
 * What an operator and a load balancer see of an instance: liveness, readiness (database, Redis,
 * bundle), Prometheus metrics, and a shutdown that drains requests and sends subscribers elsewhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untilSubscribed, wsSubscribe } from '../support/clients.js';
import { freshTenant, PAYMENT_ONE_APPROVER, QUICK_EMAIL, request } from '../support/gate.js';
import { createChannel, testNotifyConfig } from '../support/notifications.js';
import { startWebhookReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase } from '../support/services.js';

const PENDING = /* GraphQL */ `subscription { pendingApprovals { kind approval { id } } }`;

async function get(server: TestServer, path: string): Promise<{ status: number; text: string; json: () => any }> {
  const response = await fetch(`${server.url}${path}`);
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) };
}

/** The value of one sample in Prometheus text: `name{labels} value`. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([^{\s]+)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries((match[2] ?? '').split(',').filter(Boolean).map((pair) => {
      const [key, value] = pair.split('=');
      return [key, value?.replace(/^"|"$/g, '')];
    }));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[3]);
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A Redis server of this suite's own, so that it can be stopped under a running instance. */
async function startRedis(port: number): Promise<ChildProcess> {
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let attempt = 0; attempt < 100; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.end(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (up) return redis;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('redis-server did not start');
}

describe('an instance on SQLite', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ notify: testNotifyConfig() });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers /healthz and is ready with its database and bundle', async () => {
    const health = await get(server, '/healthz');
    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', policyRevision: server.app.evaluator.revision });
    const ready = await get(server, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ready',
      checks: { database: { ok: true }, policy: { ok: true, detail: server.app.evaluator.revision } },
    });
  });

  it('counts requests by outcome, times decisions, evaluations and commits, and counts subscribers and deliveries', async () => {
    const tenant = await freshTenant(server, 'metrics');
    const receiver = await startWebhookReceiver();
    const events = wsSubscribe(server, tenant.approver.bearer, PENDING);
    try {
      const channel = await createChannel(server, tenant.admin, { kind: 'WEBHOOK', name: 'm', url: receiver.url, events: ['approval.required'] });
      receiver.secret = channel.signingSecret as string;
      await tenant.admin.updateTenantSettings({ denylist: ['wire_transfer'] });
      await untilSubscribed(server, tenant.name);
      const before = (await get(server, '/metrics')).text;
      await request(tenant.agent, QUICK_EMAIL, 'APPROVED');
      await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
      await request(tenant.agent, { action: 'wire_transfer', context: { amount: 10 } }, 'DENIED');
      await events.nextData();
      await receiver.arrivals.next();
      // The outcome is recorded just after the receiver answered.
      const deadline = Date.now() + 5_000;
      let scraped = await get(server, '/metrics');
      while (!sample(scraped.text, 'countersign_notification_deliveries_total', { channel: 'webhook', status: 'DELIVERED' }) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        scraped = await get(server, '/metrics');
      }
      expect(scraped.status).toBe(200);
      const text = scraped.text;
      const grew = (name: string, labels: Record<string, string> = {}) => (sample(text, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
      expect(grew('countersign_operations_total', { operation: 'requestApproval', outcome: 'allow' })).toBe(1);
      expect(grew('countersign_operations_total', { operation: 'requestApproval', outcome: 'require_approval' })).toBe(1);
      expect(grew('countersign_operations_total', { operation: 'requestApproval', outcome: 'deny' })).toBe(1);
      expect(grew('countersign_operation_duration_seconds_count', { operation: 'requestApproval' })).toBe(3);
      expect(grew('countersign_policy_evaluation_seconds_count')).toBe(3);
      expect(grew('countersign_commit_batch_size_count')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'countersign_subscribers')).toBe(1);
      expect(grew('countersign_notification_deliveries_total', { channel: 'webhook', status: 'DELIVERED' })).toBe(1);
      expect(sample(text, 'countersign_redis_errors_total')).toBe(0);
      expect(sample(text, 'countersign_database_errors_total')).toBe(0);
      expect(text).toContain('# HELP countersign_policy_evaluation_seconds');
    } finally {
      await events.close();
      await receiver.close();
    }
  });
});

describe('an instance on PostgreSQL and Redis', () => {
  it('is ready while Redis answers, unavailable (503) while it is down, and ready again once it is back', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const database = await createTestDatabase();
    const server = await startTestServer({ databaseDriver: 'postgresql', databaseUrl: database.url, redisUrl: `redis://127.0.0.1:${port}` });
    try {
      const ready = await get(server, '/readyz');
      expect(ready.json()).toMatchObject({ status: 'ready', checks: { database: { ok: true }, redis: { ok: true }, policy: { ok: true } } });

      const listening = server.app.changes.subscribe('ops-tenant');
      redis.kill('SIGKILL');
      await new Promise((resolve) => redis.once('exit', resolve));
      // Changes published meanwhile would never reach it: the stream ends, and its client resubscribes.
      expect(await listening.next()).toEqual({ done: true, value: undefined });
      expect(() => server.app.changes.subscribe('ops-tenant', { afterSeq: 0 })).toThrow(expect.objectContaining({ code: 'FEED_GAP' }));
      const down = await get(server, '/readyz');
      expect(down.status).toBe(503);
      expect(down.json()).toMatchObject({ status: 'unavailable', checks: { database: { ok: true }, redis: { ok: false } } });
      expect(sample((await get(server, '/metrics')).text, 'countersign_redis_errors_total')).toBeGreaterThan(0);

      redis = await startRedis(port);
      const deadline = Date.now() + 10_000;
      while ((await get(server, '/readyz')).status !== 200) {
        if (Date.now() > deadline) throw new Error(`not ready again within 10 s of Redis coming back: ${(await get(server, '/readyz')).text}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const resumed = server.app.changes.subscribe('ops-tenant', { afterSeq: 0 });
      await resumed.return();
    } finally {
      await server.close();
      redis.kill('SIGKILL');
      await database.drop();
    }
  });
});

describe('a graceful shutdown', () => {
  it('closes subscriptions with the reconnectable code 1012, finishes the request in progress, and takes no new connection', async () => {
    const server = await startTestServer({ shutdownGraceMs: 10_000 });
    const tenant = await freshTenant(server, 'drain');
    const closed = new Promise<number>((resolve) => {
      const client = createClient({
        url: server.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${tenant.approver.bearer}` },
        retryAttempts: 0,
        on: { closed: (event) => resolve((event as { code: number }).code) },
      });
      client.subscribe({ query: PENDING }, { next: () => {}, error: () => {}, complete: () => {} });
    });
    await untilSubscribed(server, tenant.name);

    // A request whose body is still arriving when the shutdown begins.
    const body = JSON.stringify({ query: 'mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { __typename } }', variables: { input: QUICK_EMAIL } });
    const inFlight = httpRequest(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${tenant.agent.bearer}` },
    });
    const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
      inFlight.on('response', (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      });
      inFlight.on('error', reject);
    });
    inFlight.write(body.slice(0, 20));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const stopped = server.app.stop();
    expect(await closed).toBe(1012);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    inFlight.end(body.slice(20));
    const response = await answered;
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toEqual({ data: { requestApproval: { __typename: 'RequestApprovalPayload' } } });
    await stopped;
    await server.close();
  });
});
