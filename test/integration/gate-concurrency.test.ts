import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from '../support/server.js';
import { allowedToken, executionOf, expectError, expectType, freshTenant, GateClient, isApproval, PAYMENT_ONE_APPROVER, PAYMENT_TWO_APPROVERS, QUICK_EMAIL, raceDecisions, request, soleWinner } from '../support/gate.js';

const PARALLEL = 50;

const server = useTestServer();

beforeAll(async () => {
  // Open the client's connections up front, so each test's parallel calls reach the server
  // together instead of trickling in behind connection set-up and committing one by one.
  const reader = await freshTenant(server);
  await Promise.all(Array.from({ length: PARALLEL }, () => reader.auditor.approvals({ first: 1 })));
});

describe(`${PARALLEL} concurrent decisions`, () => {
  it('on a request that needs one approver leave exactly one winner', async () => {
    const tenant = await freshTenant(server);
    const { approval, results } = await raceDecisions(tenant, PAYMENT_ONE_APPROVER, PARALLEL);

    const { winner, losers } = soleWinner(results);
    expect(winner.status).toBe('APPROVED');
    for (const loser of losers) {
      expect(expectError(loser, 'ALREADY_DECIDED')).toMatchObject({ reason: 'not_pending', status: 'APPROVED' });
    }
    const stored = expectType(await tenant.agent.approval(approval.id), 'Approval');
    expect(stored.decisions).toEqual([expect.objectContaining({ approver: winner.decisions[0]?.approver })]);
    const types = (await tenant.auditor.allAuditEvents({ approvalId: approval.id })).map((event) => event.type);
    expect(types).toEqual(['requested', 'decided', 'approved', 'token_issued']);
    expectType(await tenant.agent.execute(executionOf(stored.decisionToken as string, PAYMENT_ONE_APPROVER)), 'ExecutePayload');
  });

  it('mixing approvals and rejections settle on the first decision to commit', async () => {
    const tenant = await freshTenant(server);
    const { approval, results } = await raceDecisions(tenant, PAYMENT_ONE_APPROVER, PARALLEL, {
      decisionOf: (index) => (index % 2 === 0 ? 'APPROVE' : 'REJECT'),
    });

    const { winner, losers } = soleWinner(results);
    expect(winner.status).toBe(winner.decisions[0]?.decision === 'APPROVE' ? 'APPROVED' : 'REJECTED');
    expect(expectType(await tenant.agent.approval(approval.id), 'Approval')).toMatchObject({ status: winner.status, decisions: winner.decisions });
    expect(losers.every((loser) => loser.__typename === 'AlreadyDecidedError')).toBe(true);
  });

  it('on a request that needs two approvers record exactly two votes', async () => {
    const tenant = await freshTenant(server);
    const { approval, results } = await raceDecisions(tenant, PAYMENT_TWO_APPROVERS, PARALLEL);

    const winners = results.filter(isApproval);
    expect(winners.map((winner) => winner.status).sort()).toEqual(['APPROVED', 'PENDING']);
    expect(results.filter((result) => result.__typename === 'AlreadyDecidedError')).toHaveLength(PARALLEL - 2);
    const stored = expectType(await tenant.agent.approval(approval.id), 'Approval');
    expect(stored.status).toBe('APPROVED');
    expect(stored.decisions).toHaveLength(2);
    expect(await tenant.auditor.allAuditEvents({ approvalId: approval.id, type: 'token_issued' })).toHaveLength(1);
  });
});

describe(`${PARALLEL} concurrent executions of one token`, () => {
  it('leave exactly one execution and refuse every other as replayed, each refusal audited', async () => {
    const tenant = await freshTenant(server);
    const { token, approval } = await allowedToken(tenant.agent);

    const results = await Promise.all(Array.from({ length: PARALLEL }, () => tenant.agent.execute(executionOf(token, QUICK_EMAIL))));

    const executed = results.filter((result) => result.__typename === 'ExecutePayload');
    expect(executed).toHaveLength(1);
    for (const refused of results.filter((result) => result.__typename !== 'ExecutePayload')) expectError(refused, 'TOKEN_REPLAYED');

    const events = await tenant.auditor.allAuditEvents({ approvalId: approval.id });
    expect(events.filter((event) => event.type === 'executed')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'replay_refused')).toHaveLength(PARALLEL - 1);
    expect(expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification')).toMatchObject({ ok: true });
  });

  it('by different agents of the tenant still leave exactly one execution', async () => {
    const tenant = await freshTenant(server);
    const { token } = await allowedToken(tenant.agent);
    const agents = await Promise.all(
      Array.from({ length: PARALLEL }, (_, index) => GateClient.as(server, `agent-${index}-${tenant.name}`, tenant.name, ['agent'])),
    );

    const results = await Promise.all(agents.map((agent) => agent.execute(executionOf(token, QUICK_EMAIL))));

    expect(results.filter((result) => result.__typename === 'ExecutePayload')).toHaveLength(1);
    expect(results.filter((result) => result.__typename === 'TokenReplayedError')).toHaveLength(PARALLEL - 1);
  });
});

describe('concurrent requests with one idempotency key', () => {
  it('create a single approval that every caller gets back', async () => {
    const tenant = await freshTenant(server);
    const input = { ...PAYMENT_ONE_APPROVER, idempotencyKey: 'pay-INV-1' };

    const results = await Promise.all(Array.from({ length: 20 }, () => request(tenant.agent, input)));

    expect(new Set(results.map((result) => result.approval.id)).size).toBe(1);
    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    expect(await tenant.auditor.allAuditEvents({ type: 'requested' })).toHaveLength(1);
  });
});
