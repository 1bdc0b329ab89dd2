import { afterAll, describe, expect, it, vi } from 'vitest';
import type { FeedChange } from '../../src/feed/feed.js';
import { useTestServer } from '../support/server.js';
import { CRITICAL_PAYMENT, expectError, expectType, freshTenant, PAYMENT_ONE_APPROVER, QUICK_EMAIL, request } from '../support/gate.js';
import { type EventQueue, untilSubscribed, wsSubscribe } from '../support/clients.js';

const server = useTestServer({ expirySweepMs: 3_600_000 });
const open: EventQueue[] = [];

afterAll(async () => {
  await Promise.all(open.map((queue) => queue.close()));
});

const APPROVAL_UPDATED = `subscription($id: ID!) { approvalUpdated(id: $id, current: true) { kind token approval { id status } } }`;

describe('one read rule for queries and subscriptions', () => {
  it('hides an escalated request from plain approvers, by query, by listing and by subscription', async () => {
    const tenant = await freshTenant(server, 'escalated');
    const { approval } = await request(tenant.agent, CRITICAL_PAYMENT, 'PENDING');
    expect(approval.escalated).toBe(true);

    expectError(await tenant.approver.approval(approval.id), 'NOT_FOUND');
    const listed = expectType(await tenant.approver.approvals(), 'ApprovalConnection');
    expect(listed.edges.map((edge) => edge.node.id)).not.toContain(approval.id);
    const refused = wsSubscribe(server, tenant.approver.bearer, APPROVAL_UPDATED, { id: approval.id });
    open.push(refused);
    expect((await refused.next()).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });

  it('shows an escalated request to admins and auditors, and its own to the requester', async () => {
    const tenant = await freshTenant(server, 'escalated-seen');
    const { approval } = await request(tenant.agent, CRITICAL_PAYMENT, 'PENDING');
    for (const reader of [tenant.admin, tenant.auditor, tenant.agent]) {
      expect(expectType(await reader.approval(approval.id), 'Approval').id).toBe(approval.id);
      const listed = expectType(await reader.approvals(), 'ApprovalConnection');
      expect(listed.edges.map((edge) => edge.node.id)).toContain(approval.id);
    }
  });

  it('lets an approver follow by subscription any request it can read, including one the policy allowed outright', async () => {
    const tenant = await freshTenant(server, 'follow');
    const { approval } = await request(tenant.agent, QUICK_EMAIL, 'APPROVED');
    expect(expectType(await tenant.approver.approval(approval.id), 'Approval').id).toBe(approval.id);
    const updates = wsSubscribe(server, tenant.approver.bearer, APPROVAL_UPDATED, { id: approval.id });
    open.push(updates);
    expect((await updates.nextData()).approvalUpdated).toEqual({ kind: 'current', token: null, approval: { id: approval.id, status: 'APPROVED' } });
  });
});

describe('the change feed', () => {
  it('carries no decision token, numbers each tenant\'s changes in commit order, and resumes after a position', async () => {
    const tenant = await freshTenant(server, 'feed');
    const stream = server.app.changes.subscribe(tenant.name);
    try {
      await request(tenant.agent, QUICK_EMAIL, 'APPROVED');
      const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
      expectType(await tenant.approver.decide(approval.id, 'APPROVE'), 'Approval');
      const changes: FeedChange[] = [];
      for (let index = 0; index < 3; index++) changes.push((await stream.next()).value as FeedChange);

      expect(changes.map((change) => [change.seq, change.kind])).toEqual([
        [1, 'approved'],
        [2, 'requested'],
        [3, 'approved'],
      ]);
      for (const change of changes) expect(change.approval.decisionToken).toBeNull();

      const resumed = server.app.changes.subscribe(tenant.name, { afterSeq: 1 });
      expect([(await resumed.next()).value?.seq, (await resumed.next()).value?.seq]).toEqual([2, 3]);
      await resumed.return();
    } finally {
      await stream.return();
    }
  });

  it('gives the requester, and nobody else, the token of the approval on approvalUpdated, read from the store', async () => {
    const tenant = await freshTenant(server, 'feed-token');
    const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
    const query = `subscription($id: ID!) { approvalUpdated(id: $id) { kind token } }`;
    const mine = wsSubscribe(server, tenant.agent.bearer, query, { id: approval.id });
    const theirs = wsSubscribe(server, tenant.auditor.bearer, query, { id: approval.id });
    open.push(mine, theirs);
    await untilSubscribed(server, tenant.name, 2);

    expectType(await tenant.approver.decide(approval.id, 'APPROVE'), 'Approval');
    const stored = expectType(await tenant.agent.approval(approval.id), 'Approval').decisionToken;
    expect(stored).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect((await mine.nextData()).approvalUpdated).toEqual({ kind: 'approved', token: stored });
    expect((await theirs.nextData()).approvalUpdated).toEqual({ kind: 'approved', token: null });
  });
});

describe('a repeated request', () => {
  it('is answered from the store before the policy is evaluated or a token signed', async () => {
    const tenant = await freshTenant(server, 'replay-first');
    const input = { ...QUICK_EMAIL, idempotencyKey: 'replay-first-1' };
    const first = await request(tenant.agent, input, 'APPROVED');
    const evaluate = vi.spyOn(server.app.evaluator, 'evaluate');
    const sign = vi.spyOn(server.app.gate.keys, 'signingKeyFor');
    try {
      const again = await request(tenant.agent, input, 'APPROVED');
      expect(again).toMatchObject({ replayed: true, token: first.token, approval: { id: first.approval.id } });
      expect(evaluate).not.toHaveBeenCalled();
      expect(sign).not.toHaveBeenCalled();
    } finally {
      evaluate.mockRestore();
      sign.mockRestore();
    }
  });
});
