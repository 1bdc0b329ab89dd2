import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { freshTenant, PAYMENT_ONE_APPROVER, request, expectType, CRITICAL_PAYMENT } from '../support/gate.js';
import { startWebhookReceiver } from '../support/receivers.js';
import { createChannel, deliveryWhere, notifications, testNotifyConfig, webhookChannel, withWebhookChannel } from '../support/notifications.js';
import { Approval } from '../../src/db/entities/approval.entity.js';
import { AuditEvent } from '../../src/db/entities/audit-event.entity.js';
import { NotificationChannel } from '../../src/db/entities/notification-channel.entity.js';
import { NotificationCursorSchema } from '../../src/db/entities/notification-cursor.entity.js';
import { NotificationDelivery } from '../../src/db/entities/notification-delivery.entity.js';
import { selectData } from '../../src/db/fast-paths.js';
import { findData } from '../../src/db/orm.js';
import { inTransaction } from '../../src/db/transaction.js';

let server: TestServer;
const logs: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ notify: testNotifyConfig({ maxAttempts: 3 }) }, undefined, (lines) => logs.push(...lines.split('\n')));
});

afterAll(async () => {
  await server?.close();
});

describe('webhook channels', () => {
  it('delivers approval.required, signed per Standard Webhooks, with the approval and no token or context', async () => {
    await withWebhookChannel(server, { label: 'hook', events: ['approval.required', 'approval.approved'] }, async ({ tenant, receiver, channel }) => {
      const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
      const received = await receiver.arrivals.next();
      expect(received.verifyError).toBeNull();
      expect(received.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(received.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(received.body).toEqual({
        type: 'approval.required',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        data: {
          approval: {
            id: approval.id,
            tenant: tenant.name,
            action: 'payment',
            resource: 'invoice/INV-1',
            status: 'PENDING',
            riskLevel: approval.riskLevel,
            riskScore: approval.riskScore,
            reasons: approval.reasons,
            requiredApprovals: 1,
            remainingApprovals: 1,
            approverRoles: approval.approverRoles,
            expiresAt: approval.expiresAt,
            url: `https://countersign.example.com/?approval=${approval.id}`,
          },
        },
      });
      expect(received.raw).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);

      expectType(await tenant.approver.decide(approval.id, 'APPROVE'), 'Approval');
      const approved = await receiver.arrivals.next();
      expect(approved.verified).toBe(true);
      expect(approved.body.type).toBe('approval.approved');
      expect(approved.body.data.approval).toMatchObject({ id: approval.id, status: 'APPROVED', remainingApprovals: 0 });
      // The requester's decision token never leaves in a notification.
      expect(approved.raw).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
      expect(approved.headers['webhook-id']).not.toBe(received.headers['webhook-id']);
      await deliveryWhere(server, tenant.admin, channel.id, (node) => node.id === approved.headers['webhook-id'] && node.status === 'DELIVERED');
      // Logged once the outcome is durable, which may be just after a query first shows it.
      await vi.waitFor(
        () => expect(logs.some((line) => line.includes(`approval.approved ${approved.headers['webhook-id']}`) && line.includes('delivered'))).toBe(true),
        { timeout: 10_000 },
      );
    });
  });

  it('retries a receiver that fails twice and delivers on the third attempt with one webhook-id', async () => {
    await withWebhookChannel(server, { label: 'retry', events: ['approval.required'], receiver: { failFirst: 2 } }, async ({ tenant, receiver, channel }) => {
      const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
      const attempts = [await receiver.arrivals.next(), await receiver.arrivals.next(), await receiver.arrivals.next()];
      expect(attempts.map((attempt) => attempt.answered)).toEqual([503, 503, 200]);
      expect(attempts.every((attempt) => attempt.verified)).toBe(true);
      expect(new Set(attempts.map((attempt) => attempt.headers['webhook-id'])).size).toBe(1);
      expect(new Set(attempts.map((attempt) => attempt.raw)).size).toBe(1);
      // Backoff: the second retry waited longer than the first.
      expect(attempts[2]!.receivedAt - attempts[1]!.receivedAt).toBeGreaterThanOrEqual(20);

      const delivery = await deliveryWhere(server, tenant.admin, channel.id, (node) => node.status === 'DELIVERED');
      expect(delivery).toMatchObject({ id: attempts[0]!.headers['webhook-id'], approvalId: approval.id, eventType: 'approval.required', attempts: 3, lastStatusCode: 200, nextAttemptAt: null });
      expect(delivery.attemptLog.map((attempt: any) => [attempt.number, attempt.outcome, attempt.statusCode])).toEqual([
        [1, 'FAILED', 503],
        [2, 'FAILED', 503],
        [3, 'DELIVERED', 200],
      ]);
      expect(delivery.attemptLog[0].nextAttemptAt).not.toBeNull();
    });
  });

  it('dead-letters a dead endpoint after the last attempt and delivers it on replay once the endpoint is back', async () => {
    const tenant = await freshTenant(server, 'dead');
    const probe = await startWebhookReceiver();
    const port = probe.port;
    await probe.close();
    const channel = await createChannel(server, tenant.admin, { kind: 'WEBHOOK', name: 'down', url: `http://127.0.0.1:${port}/hooks/countersign`, events: ['approval.required'] });
    const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
    const dead = await deliveryWhere(server, tenant.admin, channel.id, (node) => node.status === 'DEAD');
    expect(dead).toMatchObject({ approvalId: approval.id, attempts: 3, lastStatusCode: null, nextAttemptAt: null });
    expect(dead.attemptLog.map((attempt: any) => attempt.outcome)).toEqual(['FAILED', 'FAILED', 'FAILED']);
    expect(dead.lastResult).toMatch(/ECONNREFUSED/);
    // Logged once the outcome is durable, which may be just after a query first shows it.
    await vi.waitFor(() => expect(logs.some((line) => line.includes(dead.id) && line.includes('dead after 3 attempts'))).toBe(true), { timeout: 10_000 });
    const listed = await notifications.deliveries(server, tenant.admin, { status: 'DEAD' });
    expect(listed.edges.map((edge: any) => edge.node.id)).toEqual([dead.id]);

    const back = await startWebhookReceiver({ port, secret: channel.signingSecret as string });
    try {
      const replayed = await notifications.replay(server, tenant.admin, dead.id);
      expect(replayed.__typename).toBe('ReplayNotificationDeliveryPayload');
      const received = await back.arrivals.next();
      expect(received.verified).toBe(true);
      expect(received.headers['webhook-id']).toBe(dead.id);
      expect(received.body.data.approval.id).toBe(approval.id);
      const delivered = await deliveryWhere(server, tenant.admin, channel.id, (node) => node.status === 'DELIVERED');
      expect(delivered.attemptLog.map((attempt: any) => attempt.outcome)).toEqual(['FAILED', 'FAILED', 'FAILED', 'DELIVERED']);
      const replays = await tenant.auditor.allAuditEvents({ approvalId: approval.id, type: 'notification_delivery_replayed' });
      expect(replays).toEqual([
        expect.objectContaining({
          actor: tenant.admin.subject,
          details: expect.objectContaining({
            deliveryId: dead.id,
            previousStatus: 'DEAD',
            // Like every event: the policy revision in force and the context hash of the approval it concerns.
            policyRevision: server.app.evaluator.revision,
            contextHash: approval.contextHash,
          }),
        }),
      ]);
    } finally {
      await back.close();
    }
  });

  it('does not follow redirects', async () => {
    const tenant = await freshTenant(server, 'redirect');
    const target = await startWebhookReceiver();
    const redirecting = await startWebhookReceiver({ respond: () => ({ status: 307, headers: { location: target.url } }) });
    try {
      const channel = await webhookChannel(server, tenant.admin, redirecting, ['approval.required']);
      target.secret = channel.signingSecret as string;
      await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
      const failed = await deliveryWhere(server, tenant.admin, channel.id, (node) => node.attempts >= 1);
      expect(failed.attemptLog[0]).toMatchObject({ outcome: 'FAILED', statusCode: 307 });
      expect(failed.attemptLog[0].result).toContain('not followed');
      expect(target.arrivals.all).toHaveLength(0);
    } finally {
      await redirecting.close();
      await target.close();
    }
  });

  it('sends the context only to a channel that opts in, and escalations to channels that ask for them', async () => {
    await withWebhookChannel(server, { label: 'context', events: ['approval.escalated'], channel: { includeContext: true } }, async ({ tenant, receiver }) => {
      await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
      const { approval } = await request(tenant.agent, CRITICAL_PAYMENT, 'PENDING');
      const received = await receiver.arrivals.next();
      expect(received.body.type).toBe('approval.escalated');
      expect(received.body.data.approval.id).toBe(approval.id);
      expect(received.body.data.approval.context).toEqual(CRITICAL_PAYMENT.context);
    });
  });

  it('signs with the new secret after a rotation', async () => {
    await withWebhookChannel(server, { label: 'rotate', events: ['approval.required'] }, async ({ tenant, receiver, channel }) => {
      const rotated = await notifications.rotate(server, tenant.admin, channel.id);
      expect(rotated.signingSecret).toMatch(/^whsec_/);
      expect(rotated.signingSecret).not.toBe(channel.signingSecret);
      receiver.secret = rotated.signingSecret;
      await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
      expect((await receiver.arrivals.next()).verified).toBe(true);
    });
  });

  it('keeps one connection to the receiver across deliveries and closes it when the channel is deleted', async () => {
    await withWebhookChannel(server, { label: 'keepalive', events: ['approval.required'] }, async ({ tenant, receiver, channel }) => {
      for (let index = 0; index < 3; index++) {
        await request(tenant.agent, { ...PAYMENT_ONE_APPROVER, resource: `invoice/KA-${index}` }, 'PENDING');
        const received = await receiver.arrivals.next();
        expect(received.verified).toBe(true);
        // Recorded once the answer was read, so the connection is free for the next delivery.
        await deliveryWhere(server, tenant.admin, channel.id, (node) => node.id === received.headers['webhook-id'] && node.status === 'DELIVERED');
      }
      expect(receiver.connectionsOpened).toBe(1);
      const deleting = Date.now();
      await notifications.delete(server, tenant.admin, channel.id);
      // Closed by the deletion, well before an idle connection would time out (4 s).
      const closedAt = await receiver.connectionsClosed.next(3_000, 'closed connection');
      expect(closedAt - deleting).toBeLessThan(3_000);
    });
  });
});

describe('the dispatcher\'s SQLite fast paths', () => {
  it('read the rows MikroORM reads, for every table the outbox and the delivery queue read', async () => {
    // By now the earlier tests left channels, events, approvals, deliveries and cursors behind.
    await inTransaction(server.app.orm, async (em) => {
      for (const [entity, key] of [
        [Approval, 'id'],
        [AuditEvent, 'id'],
        [NotificationChannel, 'id'],
        [NotificationDelivery, 'id'],
        [NotificationCursorSchema, 'tenant'],
      ] as const) {
        const viaOrm = await findData(em, entity as never, {}, { orderBy: [{ [key]: 'asc' }] });
        expect(viaOrm.length, String(entity)).toBeGreaterThan(0);
        expect(await selectData(em, entity as never, `order by \`${key}\``, [])).toEqual(viaOrm);
      }
    });
  });
});
