/**
 * Two instances on one PostgreSQL database sharing the change feed through one Redis: a client
 * subscribed on either instance hears of changes made on the other, and nothing secret crosses
 * Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedChange } from '../../src/feed/feed.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { untilSubscribed, wsSubscribe, type EventQueue } from '../support/clients.js';
import { executionOf, expectType, freshTenant, onServer, PAYMENT_ONE_APPROVER, PAYMENT_TWO_APPROVERS, QUICK_EMAIL, request } from '../support/gate.js';
import type { TestServer } from '../support/server.js';
import { redisUrl } from '../support/services.js';

const PENDING = /* GraphQL */ `subscription($current: Boolean) { pendingApprovals(current: $current) { kind approval { id status remainingApprovals } } }`;
const UPDATED = /* GraphQL */ `subscription($id: ID!, $current: Boolean) { approvalUpdated(id: $id, current: $current) { kind token approval { id status remainingApprovals } } }`;

let cluster: Cluster;
let a: TestServer;
let b: TestServer;
const open: EventQueue[] = [];
const track = <T>(queue: EventQueue<T>): EventQueue<T> => (open.push(queue), queue);

beforeAll(async () => {
  cluster = await startCluster({ redis: true });
  [a, b] = cluster.instances as [TestServer, TestServer];
});

afterAll(async () => {
  await Promise.all(open.map((queue) => queue.close()));
  await cluster?.close();
});

describe('two instances sharing the change feed through Redis', () => {
  it('tells a pendingApprovals subscriber on B of a request made on A, and of its votes and approval', async () => {
    const tenant = await freshTenant(a, 'shared');
    const events = track(wsSubscribe(b, tenant.approver.bearer, PENDING));
    await untilSubscribed(b, tenant.name);

    const { approval } = await request(tenant.agent, PAYMENT_TWO_APPROVERS, 'PENDING');
    expect((await events.nextData()).pendingApprovals).toMatchObject({ kind: 'ADDED', approval: { id: approval.id, status: 'PENDING' } });
    expectType(await tenant.secondApprover.decide(approval.id, 'APPROVE'), 'Approval');
    expect((await events.nextData()).pendingApprovals).toMatchObject({ kind: 'UPDATED', approval: { id: approval.id, remainingApprovals: 1 } });
  });

  it('shows approvalUpdated on B a vote made on A, and the requester on B gets its token from B', async () => {
    const tenant = await freshTenant(a, 'shared-vote');
    const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
    const onB = onServer(tenant, b);
    const requester = track(wsSubscribe(b, onB.agent.bearer, UPDATED, { id: approval.id }));
    const auditor = track(wsSubscribe(b, onB.auditor.bearer, UPDATED, { id: approval.id }));
    await untilSubscribed(b, tenant.name, 2);

    expectType(await tenant.approver.decide(approval.id, 'APPROVE'), 'Approval');
    const seen = (await requester.nextData()).approvalUpdated;
    expect(seen).toMatchObject({ kind: 'approved', approval: { id: approval.id, status: 'APPROVED' } });
    expect(seen.token).toBe(expectType(await tenant.agent.approval(approval.id), 'Approval').decisionToken);
    expect((await auditor.nextData()).approvalUpdated).toMatchObject({ kind: 'approved', token: null });
  });

  it('numbers each tenant\'s changes as one sequence across both instances, the same on both', async () => {
    const tenant = await freshTenant(a, 'shared-seq');
    const onA = a.app.changes.subscribe(tenant.name);
    const onB = b.app.changes.subscribe(tenant.name);
    try {
      await Promise.all(
        Array.from({ length: 10 }, (_, index) => request((index % 2 === 0 ? tenant : onServer(tenant, b)).agent, QUICK_EMAIL, 'APPROVED')),
      );
      const read = async (stream: typeof onA) => {
        const seqs: [number, string][] = [];
        for (let index = 0; index < 10; index++) {
          const change = (await stream.next()).value as FeedChange;
          seqs.push([change.seq, change.approval.id]);
        }
        return seqs;
      };
      const [fromA, fromB] = await Promise.all([read(onA), read(onB)]);
      expect(fromA.map(([seq]) => seq)).toEqual(Array.from({ length: 10 }, (_, index) => index + 1));
      expect(fromB).toEqual(fromA);
      expect(a.app.changes.lastSeq(tenant.name)).toBe(10);

      // Resuming on the other instance after a position gives what followed it there too.
      const resumed = b.app.changes.subscribe(tenant.name, { afterSeq: 7 });
      const after = [(await resumed.next()).value?.seq, (await resumed.next()).value?.seq, (await resumed.next()).value?.seq];
      expect(after).toEqual([8, 9, 10]);
      await resumed.return();
    } finally {
      await Promise.all([onA.return(), onB.return()]);
    }
  });

  it('sends no decision token and no secret through Redis (watched with MONITOR)', async () => {
    const tenant = await freshTenant(a, 'shared-monitor');
    const monitor = await new Redis(redisUrl()).monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(args.join(' ')));
    const stream = b.app.changes.subscribe(tenant.name);
    try {
      const allowed = await request(tenant.agent, QUICK_EMAIL, 'APPROVED');
      const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
      expectType(await onServer(tenant, b).approver.decide(approval.id, 'APPROVE'), 'Approval');
      for (let index = 0; index < 3; index++) await stream.next();
      const token = expectType(await tenant.agent.approval(approval.id), 'Approval').decisionToken as string;
      expect(token).toMatch(/^eyJ/);

      const published = commands.filter((command) => command.includes(tenant.name));
      // The changes did cross Redis: both approvals, three changes.
      expect(published.filter((command) => command.includes(approval.id)).length).toBeGreaterThanOrEqual(2);
      expect(published.some((command) => command.includes(allowed.approval.id))).toBe(true);
      const everything = commands.join('\n');
      expect(everything).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
      expect(everything).not.toContain(token.split('.')[2]);
      expect(everything).not.toContain(allowed.token ?? 'no token');
    } finally {
      await stream.return();
      monitor.disconnect();
    }
  });

  it('misses nothing when a subscriber reconnects to the other instance with current: true', async () => {
    const tenant = await freshTenant(a, 'shared-reconnect');
    const { approval } = await request(tenant.agent, PAYMENT_TWO_APPROVERS, 'PENDING');
    const first = wsSubscribe(a, tenant.auditor.bearer, UPDATED, { id: approval.id });
    await untilSubscribed(a, tenant.name);
    expectType(await tenant.approver.decide(approval.id, 'APPROVE'), 'Approval');
    expect((await first.nextData()).approvalUpdated).toMatchObject({ kind: 'voted', approval: { remainingApprovals: 1 } });
    await first.close();

    // While the client is away, the second vote approves the request on A.
    expectType(await tenant.secondApprover.decide(approval.id, 'APPROVE'), 'Approval');
    const again = track(wsSubscribe(b, onServer(tenant, b).auditor.bearer, UPDATED, { id: approval.id, current: true }));
    expect((await again.nextData()).approvalUpdated).toMatchObject({ kind: 'current', approval: { status: 'APPROVED' } });

    // And what happens next on A reaches it on B.
    const token = expectType(await tenant.agent.approval(approval.id), 'Approval').decisionToken as string;
    expectType(await tenant.agent.execute(executionOf(token, PAYMENT_TWO_APPROVERS)), 'ExecutePayload');
    expect((await again.nextData()).approvalUpdated).toMatchObject({ kind: 'executed' });
  });
});
