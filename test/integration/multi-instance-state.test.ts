/**
 * Two instances on one PostgreSQL database, each holding state in memory that the other's writes
 * change: tenant settings, signing keys, and the notification dispatcher's work.
 */
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../support/cluster.js';
import { executionOf, expectType, freshTenant, onServer, PAYMENT_ONE_APPROVER, QUICK_EMAIL, request } from '../support/gate.js';
import { createChannel, notifications, testNotifyConfig } from '../support/notifications.js';
import { startWebhookReceiver } from '../support/receivers.js';
import type { TestServer } from '../support/server.js';

let cluster: Cluster;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  // No poll to speak of: only the shared change feed wakes the dispatchers in time for the tests.
  cluster = await startCluster({ redis: true, overrides: { notify: testNotifyConfig({ pollMs: 60_000 }) } });
  [a, b] = cluster.instances as [TestServer, TestServer];
});

afterAll(async () => {
  await cluster?.close();
});

const kidOf = (token: string): string | undefined => decodeProtectedHeader(token).kid;

async function jwksKids(server: TestServer): Promise<string[]> {
  const response = await fetch(`${server.url}/.well-known/jwks.json`);
  return ((await response.json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
}

describe('two instances on one PostgreSQL database', () => {
  it('apply tenant settings changed on one instance to the very next decision on the other', async () => {
    const tenant = await freshTenant(a, 'settings');
    const onB = onServer(tenant, b);
    // B has evaluated with the tenant's settings before: it holds them in memory.
    await request(onB.agent, QUICK_EMAIL, 'APPROVED');

    expectType(await tenant.admin.updateTenantSettings({ denylist: ['email_response'] }), 'TenantSettings');
    expect((await request(onB.agent, QUICK_EMAIL)).approval.status).toBe('DENIED');

    expectType(await onB.admin.updateTenantSettings({ denylist: null }), 'TenantSettings');
    expect((await request(tenant.agent, QUICK_EMAIL)).approval.status).toBe('APPROVED');
  });

  it('sign with a key rotated on the other instance, publish it on both, and accept its tokens on both', async () => {
    const tenant = await freshTenant(a, 'keys');
    const onB = onServer(tenant, b);
    const before = await request(onB.agent, QUICK_EMAIL, 'APPROVED');
    const oldKid = kidOf(before.token as string);

    const newKid = await a.app.gate.rotateSigningKey();
    expect(newKid).not.toBe(oldKid);

    const signedOnB = await request(onB.agent, { ...QUICK_EMAIL, context: { ...QUICK_EMAIL.context, n: 1 } }, 'APPROVED');
    expect(kidOf(signedOnB.token as string)).toBe(newKid);
    for (const server of [a, b]) expect(await jwksKids(server)).toEqual(expect.arrayContaining([newKid, oldKid]));

    // A token signed on B with the new key executes on A, and one signed on A before the rotation on B.
    expectType(await tenant.agent.execute(executionOf(signedOnB.token as string, { ...QUICK_EMAIL, context: { ...QUICK_EMAIL.context, n: 1 } })), 'ExecutePayload');
    expectType(await onB.agent.execute(executionOf(before.token as string, QUICK_EMAIL)), 'ExecutePayload');

    // An approval decided on B after the rotation is signed with the new key too.
    const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
    expectType(await onB.approver.decide(approval.id, 'APPROVE'), 'Approval');
    expect(kidOf(expectType(await onB.agent.approval(approval.id), 'Approval').decisionToken as string)).toBe(newKid);
  });

  it('deliver each notification once while both dispatchers run, woken by changes made on either instance', async () => {
    const tenant = await freshTenant(a, 'dispatch');
    const receiver = await startWebhookReceiver();
    try {
      const channel = await createChannel(a, tenant.admin, { kind: 'WEBHOOK', name: 'both', url: receiver.url, events: ['approval.required'] });
      receiver.secret = channel.signingSecret as string;
      // B would find the channel at its next poll; bring that forward, so both dispatchers follow the tenant.
      b.app.notifications.changed();
      const count = 20;
      const requested = await Promise.all(
        Array.from({ length: count }, (_, index) =>
          request((index % 2 === 0 ? tenant : onServer(tenant, b)).agent, { ...PAYMENT_ONE_APPROVER, context: { amount: 1500 + index } }, 'PENDING'),
        ),
      );
      for (let index = 0; index < count; index++) await receiver.arrivals.next(10_000);
      await receiver.arrivals.expectNothing(500);

      const arrived = receiver.arrivals.all;
      expect(arrived.every((delivery) => delivery.verified)).toBe(true);
      expect(new Set(arrived.map((delivery) => delivery.headers['webhook-id'])).size).toBe(count);
      expect(arrived.map((delivery) => delivery.body.data.approval.id).sort()).toEqual(requested.map((payload) => payload.approval.id).sort());
      const deliveries = (await notifications.deliveries(b, tenant.admin, { channelId: channel.id, first: 100 })).edges.map((edge: any) => edge.node);
      expect(deliveries).toHaveLength(count);
      expect(deliveries.every((delivery: any) => delivery.status === 'DELIVERED' && delivery.attempts === 1)).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});
