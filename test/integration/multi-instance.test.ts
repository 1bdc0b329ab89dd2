/**
 * Two identical instances on one PostgreSQL database, driven over HTTP as clients behind a load
 * balancer would drive them: every guarantee of a single instance must hold across both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../support/cluster.js';
import { allowedToken, executionOf, expectError, expectType, freshTenant, isApproval, onServer, PAYMENT_ONE_APPROVER, QUICK_EMAIL, raceDecisions, request, soleWinner } from '../support/gate.js';
import type { TestServer } from '../support/server.js';

const PARALLEL = 50;

let cluster: Cluster;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  // No background sweep: the sweep test runs both instances' sweeps itself, at the same moment.
  cluster = await startCluster({ overrides: { expirySweepMs: 3_600_000 } });
  [a, b] = cluster.instances as [TestServer, TestServer];
});

afterAll(async () => {
  await cluster?.close();
});

/** Alternates between the instances, as a round-robin load balancer would. */
const spread = <T>(count: number, call: (server: TestServer, index: number) => Promise<T>): Promise<T[]> =>
  Promise.all(Array.from({ length: count }, (_, index) => call(index % 2 === 0 ? a : b, index)));

describe('two instances on one PostgreSQL database', () => {
  it('keep one audit chain per tenant while both write at once, and it verifies on either', async () => {
    const tenant = await freshTenant(a);
    const onB = onServer(tenant, b);
    const other = await freshTenant(b, 'other');

    // Requests of two tenants on both instances, interleaved: each tenant's chain must stay one line.
    const results = await spread(PARALLEL, (server, index) =>
      (index % 3 === 0 ? onServer(other, server) : onServer(tenant, server)).agent.requestApproval({
        ...PAYMENT_ONE_APPROVER,
        context: { amount: 1500 + index, currency: 'USD' },
      }),
    );
    expect(results.every((result) => result.__typename === 'RequestApprovalPayload')).toBe(true);

    const events = await tenant.auditor.allAuditEvents();
    const mine = results.filter((_, index) => index % 3 !== 0).length;
    expect(events).toHaveLength(mine);
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: mine }, (_, index) => index + 1));
    for (let index = 1; index < events.length; index++) {
      expect(events[index]?.previousHash).toBe(events[index - 1]?.hash);
    }
    expect(expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification')).toMatchObject({ ok: true, checked: mine });
    expect(expectType(await onB.auditor.verifyAuditChain(), 'AuditChainVerification')).toMatchObject({ ok: true, checked: mine });
    expect(expectType(await other.auditor.verifyAuditChain(), 'AuditChainVerification')).toMatchObject({
      ok: true,
      checked: PARALLEL - mine,
    });
  });

  it(`consume a decision token exactly once: ${PARALLEL} concurrent executions over both leave one success`, async () => {
    const tenant = await freshTenant(a);
    const { token } = await allowedToken(tenant.agent, QUICK_EMAIL);

    const results = await spread(PARALLEL, (server) => onServer(tenant, server).agent.execute(executionOf(token, QUICK_EMAIL)));

    const successes = results.filter((result) => result.__typename === 'ExecutePayload');
    expect(successes).toHaveLength(1);
    const refusals = results.filter((result) => result.__typename !== 'ExecutePayload');
    expect(refusals).toHaveLength(PARALLEL - 1);
    for (const refusal of refusals) expectError(refusal, 'TOKEN_REPLAYED');
    expect(await tenant.auditor.allAuditEvents({ type: 'replay_refused' })).toHaveLength(PARALLEL - 1);
    expect(await tenant.auditor.allAuditEvents({ type: 'executed' })).toHaveLength(1);
    expect(expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification').ok).toBe(true);
  });

  it('settle racing votes on both instances on one final state', async () => {
    const tenant = await freshTenant(a);
    const { approval, results } = await raceDecisions(tenant, PAYMENT_ONE_APPROVER, PARALLEL, {
      serverOf: (index) => (index % 2 === 0 ? a : b),
      decisionOf: (index) => (index % 4 === 1 ? 'REJECT' : 'APPROVE'),
    });

    const { winner, losers } = soleWinner(results);
    for (const loser of losers) {
      expect(expectError(loser, 'ALREADY_DECIDED')).toMatchObject({ status: winner.status });
    }
    for (const server of [a, b]) {
      const stored = expectType(await onServer(tenant, server).agent.approval(approval.id), 'Approval');
      expect(stored).toMatchObject({ status: winner.status, decisions: winner.decisions });
    }
    const types = (await tenant.auditor.allAuditEvents({ approvalId: approval.id })).map((event) => event.type);
    expect(types).toEqual(
      winner.status === 'APPROVED' ? ['requested', 'decided', 'approved', 'token_issued'] : ['requested', 'decided', 'rejected'],
    );
  });

  it('count one approver once when the same person votes on both instances at once', async () => {
    const tenant = await freshTenant(a);
    const { approval } = await request(tenant.agent, { ...PAYMENT_ONE_APPROVER, priority: 'high', context: { amount: 5000 } }, 'PENDING');
    expect(approval.requiredApprovals).toBe(2);

    const results = await spread(10, (server) => onServer(tenant, server).approver.decide(approval.id, 'APPROVE'));

    expect(results.filter(isApproval)).toHaveLength(1);
    const stored = expectType(await onServer(tenant, b).agent.approval(approval.id), 'Approval');
    expect(stored).toMatchObject({ status: 'PENDING', remainingApprovals: 1 });
    expect(stored.decisions.map((vote) => vote.approver)).toEqual([tenant.approver.subject]);
  });

  it('hold an idempotency key across instances: one request, every repeat answered with it', async () => {
    const tenant = await freshTenant(a);
    const input = { ...QUICK_EMAIL, idempotencyKey: 'reply-to-ticket-7' };

    const results = await spread(20, (server) => onServer(tenant, server).agent.requestApproval(input));

    const payloads = results.map((result) => expectType(result, 'RequestApprovalPayload'));
    expect(new Set(payloads.map((payload) => payload.approval.id)).size).toBe(1);
    expect(payloads.filter((payload) => !payload.replayed)).toHaveLength(1);
    // The requester gets the same token on every instance, and it executes once.
    expect(new Set(payloads.map((payload) => payload.token)).size).toBe(1);
    expect(await tenant.auditor.allAuditEvents({ type: 'requested' })).toHaveLength(1);
    expectType(await onServer(tenant, b).agent.execute(executionOf(payloads[0]?.token as string, input)), 'ExecutePayload');
  });

  it('expire each lapsed request once when both instances sweep at the same moment', async () => {
    const tenant = await freshTenant(a);
    const lapsing = await spread(10, (server) =>
      onServer(tenant, server).agent.requestApproval({ ...PAYMENT_ONE_APPROVER, ttlSeconds: 1, context: { amount: 2000 } }),
    );
    const ids = lapsing.map((result) => expectType(result, 'RequestApprovalPayload').approval.id);
    const expiresAt = Math.max(...lapsing.map((result) => Date.parse(expectType(result, 'RequestApprovalPayload').approval.expiresAt)));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 50));

    const swept = await Promise.all([a.app.gate.expireDue(), b.app.gate.expireDue(), a.app.gate.expireDue(), b.app.gate.expireDue()]);

    expect(swept.reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(ids.length);
    const expired = await tenant.auditor.allAuditEvents({ type: 'expired' });
    expect(expired.map((event) => event.approvalId).sort()).toEqual([...ids].sort());
    const listed = expectType(await onServer(tenant, b).approver.approvals({ status: 'EXPIRED' }), 'ApprovalConnection');
    expect(listed.edges.map((edge) => edge.node.id).sort()).toEqual([...ids].sort());
    expect(expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification').ok).toBe(true);
  });
});
