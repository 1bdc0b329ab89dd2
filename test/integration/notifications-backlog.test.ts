/**
 * A backlog behind a slow receiver: every event arrives once, requests are answered while it
 * drains, and the dispatcher's reads of the delivery table per delivered notification stay a
 * small constant whatever the backlog (counted from the queries the database is sent).
 */
import type { SqlEntityManager } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '../../src/app/rate-limits.js';
import { freshTenant, PAYMENT_ONE_APPROVER, request, type Tenant } from '../support/gate.js';
import { createChannel, notifications, testNotifyConfig } from '../support/notifications.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;

/** Reads of the delivery table the database was sent, and the rows they returned. */
const reads = { statements: 0, rows: 0 };
/** The last read of due deliveries the database was sent (a claim's), to ask SQLite how it runs it. */
let dueRead: { sql: string; bindings: unknown[] } | null = null;

beforeAll(async () => {
  server = await startTestServer({
    notify: testNotifyConfig({ concurrencyPerChannel: 2, pollMs: 5_000 }),
    // A few hundred requests from one agent in a few seconds: the per-caller limit is not under test.
    rateLimits: { ...DEFAULT_RATE_LIMITS, enabled: false },
  });
  const knex = (server.app.orm.em as SqlEntityManager).getKnex();
  // On SQLite the dispatcher reads through statements prepared on the connection itself, past
  // knex: each statement prepared from here on counts its reads as knex's events count the others.
  const client = knex.client as { acquireConnection(): Promise<any>; releaseConnection(connection: unknown): Promise<void> };
  const connection = await client.acquireConnection();
  await client.releaseConnection(connection);
  const prepare = connection.prepare.bind(connection) as (sql: string) => any;
  connection.prepare = (sql: string) => {
    const statement = prepare(sql);
    if (!/^\s*select\b/i.test(sql) || !/notification_delivery\b/.test(sql)) return statement;
    const all = statement.all.bind(statement) as (...values: unknown[]) => unknown[];
    statement.all = (...values: unknown[]) => {
      const rows = all(...values);
      reads.statements += 1;
      reads.rows += rows.length;
      if (/next_attempt_at`? <=/.test(sql)) dueRead = { sql, bindings: values };
      return rows;
    };
    return statement;
  };
  knex.on('query-response', (response: unknown, query: { sql: string }) => {
    if (!/^\s*select\b/i.test(query.sql) || !/notification_delivery\b/.test(query.sql)) return;
    reads.statements += 1;
    reads.rows += Array.isArray(response) ? response.length : response ? 1 : 0;
  });
  knex.on('query', (query: { sql: string; bindings?: unknown[] }) => {
    if (/^\s*select\b/i.test(query.sql) && /notification_delivery\b/.test(query.sql) && /next_attempt_at`? <=/.test(query.sql)) {
      dueRead = { sql: query.sql, bindings: query.bindings ?? [] };
    }
  });
});

afterAll(async () => {
  await server?.close();
});

/** Makes `count` pending requests, 16 at a time; resolves with their approval ids. */
async function pendingRequests(tenant: Tenant, count: number, from: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 16) {
    const batch = Array.from({ length: Math.min(16, count - start) }, (_, index) =>
      request(tenant.agent, { ...PAYMENT_ONE_APPROVER, context: { ...PAYMENT_ONE_APPROVER.context, amount: 1500 + from + start + index } }, 'PENDING'),
    );
    for (const payload of await Promise.all(batch)) ids.push(payload.approval.id);
  }
  return ids;
}

/**
 * Builds a backlog of `count` pending requests behind a receiver that holds each answer 100 ms,
 * on a channel delivering two at a time, and drains it. Returns the reads per delivery.
 */
async function drainBacklog(count: number): Promise<{ statementsPerDelivery: number; rowsPerDelivery: number }> {
  const tenant = await freshTenant(server, `backlog-${count}`);
  const receiver: WebhookReceiver = await startWebhookReceiver({ holdMs: 100 });
  try {
    const channel = await createChannel(server, tenant.admin, { kind: 'WEBHOOK', name: 'slow receiver', url: receiver.url, events: ['approval.required'] });
    receiver.secret = channel.signingSecret as string;
    const before = { ...reads };
    const requested = await pendingRequests(tenant, count, 0);

    // While the backlog drains, a request is answered: delivery never holds up the gate.
    const [late] = await pendingRequests(tenant, 1, count);
    expect(receiver.arrivals.all.length).toBeLessThan(count);
    requested.push(late as string);

    for (let index = 0; index < requested.length; index++) await receiver.arrivals.next(60_000);
    await receiver.arrivals.expectNothing(300);
    const after = { ...reads };

    const arrived = receiver.arrivals.all;
    expect(arrived.every((delivery) => delivery.verified && delivery.answered === 200)).toBe(true);
    // Exactly once per webhook-id, and one webhook-id per request.
    expect(new Set(arrived.map((delivery) => delivery.headers['webhook-id'])).size).toBe(arrived.length);
    expect(arrived.map((delivery) => delivery.body.data.approval.id).sort()).toEqual([...requested].sort());
    const deliveries = (await notifications.deliveries(server, tenant.admin, { channelId: channel.id, first: 100 })).edges.map((edge: any) => edge.node);
    expect(deliveries.every((delivery: any) => delivery.status === 'DELIVERED' && delivery.attempts === 1)).toBe(true);

    return {
      statementsPerDelivery: (after.statements - before.statements) / requested.length,
      rowsPerDelivery: (after.rows - before.rows) / requested.length,
    };
  } finally {
    await receiver.close();
  }
}

describe('a backlog behind a slow receiver', () => {
  it('delivers every event once while requests are answered, reading a bounded number of deliveries per delivery whatever the backlog', async () => {
    const small = await drainBacklog(50);
    const large = await drainBacklog(250);
    // Claiming in batches: a read returns a handful of deliveries to attempt, never the whole due set.
    for (const figures of [small, large]) {
      expect(figures.statementsPerDelivery, JSON.stringify(figures)).toBeLessThan(1);
      expect(figures.rowsPerDelivery, JSON.stringify(figures)).toBeLessThan(3);
    }
    // Five times the backlog does not make a delivery cost more reads.
    expect(large.rowsPerDelivery, JSON.stringify({ small, large })).toBeLessThan(small.rowsPerDelivery + 0.5);

    // And the database does not sort or scan the backlog to find a batch: the read walks an index in due order.
    expect(dueRead).not.toBeNull();
    const knex = (server.app.orm.em as SqlEntityManager).getKnex();
    const plan = (await knex.raw(`explain query plan ${dueRead!.sql}`, dueRead!.bindings as never)) as { detail: string }[];
    const steps = plan.map((step) => step.detail).join('; ');
    expect(steps).toMatch(/USING INDEX notification_delivery_due_index/);
    expect(steps).not.toMatch(/TEMP B-TREE|SCAN notification_delivery/);
  }, 180_000);
});
