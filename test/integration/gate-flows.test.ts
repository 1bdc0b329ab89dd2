import { describe, expect, it } from 'vitest';
import { useTestServer } from '../support/server.js';
import { allowedToken, CRITICAL_PAYMENT, executionOf, expectError, expectType, freshTenant, GateClient, PAYMENT_ONE_APPROVER, PAYMENT_TWO_APPROVERS, QUICK_EMAIL, request } from '../support/gate.js';

// No background sweep: the sweep test calls it itself, and nothing else expires behind a test's back.
const server = useTestServer({ expirySweepMs: 3_600_000 });

const auditTypes = async (auditor: GateClient, approvalId: string) =>
  (await auditor.allAuditEvents({ approvalId })).map((event) => event.type);

describe('an action the policy allows', () => {
  it('is approved at once with a decision token that executes it', async () => {
    const { agent, approver, auditor } = await freshTenant(server);
    const { token, approval } = await allowedToken(agent, QUICK_EMAIL);
    expect(approval).toMatchObject({ status: 'APPROVED', requiredApprovals: 0, remainingApprovals: 0, decisionToken: token });
    expect(approval.reasons.map((reason) => reason.ruleId)).toEqual(['CS-310']);
    expect(approval.decidedAt).not.toBeNull();
    expect(approval.tokenExpiresAt).not.toBeNull();

    // Only the requester is shown the token.
    expect(expectType(await agent.approval(approval.id), 'Approval').decisionToken).toBe(token);
    expect(expectType(await approver.approval(approval.id), 'Approval').decisionToken).toBeNull();

    const executed = expectType(await agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
    expect(executed.dryRun).toBe(false);
    expect(executed.approval.status).toBe('EXECUTED');
    expect(executed.execution).toMatchObject({ approvalId: approval.id, status: 'STARTED', executor: agent.subject });
    expect(await auditTypes(auditor, approval.id)).toEqual(['requested', 'token_issued', 'executed']);
  });
});

describe('an action that needs approval', () => {
  it('stays pending until one approver approves a payment of 1500, then issues its token', async () => {
    const { agent, approver, auditor } = await freshTenant(server);
    const { approval, token } = await request(agent, PAYMENT_ONE_APPROVER, 'PENDING');
    expect(token).toBeNull();
    expect(approval).toMatchObject({ requiredApprovals: 1, remainingApprovals: 1, approverRoles: ['approver'], decisionToken: null });
    expect(approval.reasons.find((reason) => reason.ruleId === 'CS-220')?.fields).toEqual(['amount']);

    const decided = expectType(await approver.decide(approval.id, 'APPROVE', 'invoice checked'), 'Approval');
    expect(decided).toMatchObject({ status: 'APPROVED', remainingApprovals: 0 });
    expect(decided.decisions).toEqual([{ approver: approver.subject, decision: 'APPROVE', comment: 'invoice checked' }]);
    expect(decided.decisionToken).toBeNull();

    const seenByRequester = expectType(await agent.approval(approval.id), 'Approval');
    expect(seenByRequester.decisionToken).toMatch(/^ey/);
    const executed = expectType(
      await agent.execute(executionOf(seenByRequester.decisionToken as string, PAYMENT_ONE_APPROVER, { outcome: 'SUCCEEDED', result: { paymentId: 'p-1' } })),
      'ExecutePayload',
    );
    expect(executed.execution).toMatchObject({ status: 'SUCCEEDED', result: { paymentId: 'p-1' } });
    expect(executed.approval.status).toBe('EXECUTED');
    expect(await auditTypes(auditor, approval.id)).toEqual([
      'requested',
      'decided',
      'approved',
      'token_issued',
      'executed',
      'execution_completed',
    ]);
  });

  it('needs two distinct approvers for a high-risk payment', async () => {
    const { agent, approver, secondApprover } = await freshTenant(server);
    const { approval } = await request(agent, PAYMENT_TWO_APPROVERS, 'PENDING');
    expect(approval).toMatchObject({ riskLevel: 'high', requiredApprovals: 2, approverRoles: ['approver'], escalated: false });

    const afterFirst = expectType(await approver.decide(approval.id, 'APPROVE'), 'Approval');
    expect(afterFirst).toMatchObject({ status: 'PENDING', remainingApprovals: 1 });
    expect(expectType(await agent.approval(approval.id), 'Approval').decisionToken).toBeNull();

    const afterSecond = expectType(await secondApprover.decide(approval.id, 'APPROVE'), 'Approval');
    expect(afterSecond).toMatchObject({ status: 'APPROVED', remainingApprovals: 0 });
    expect(afterSecond.decisions.map((vote) => vote.approver)).toEqual([approver.subject, secondApprover.subject]);
    const token = expectType(await agent.approval(approval.id), 'Approval').decisionToken as string;
    expect(expectType(await agent.execute(executionOf(token, PAYMENT_TWO_APPROVERS)), 'ExecutePayload').approval.status).toBe('EXECUTED');
  });

  it('escalates a critical-risk payment to admins, whom plain approvers cannot replace', async () => {
    const { agent, approver, admin, secondAdmin } = await freshTenant(server);
    const { approval } = await request(agent, CRITICAL_PAYMENT, 'PENDING');
    expect(approval).toMatchObject({ riskLevel: 'critical', escalated: true, approverRoles: ['admin'], requiredApprovals: 2 });
    expect(approval.reasons.map((reason) => reason.ruleId)).toContain('CS-210');

    expect(expectError(await approver.decide(approval.id, 'APPROVE'), 'FORBIDDEN').requiredRoles).toEqual(['admin']);
    expect(expectType(await admin.decide(approval.id, 'APPROVE'), 'Approval').status).toBe('PENDING');
    expect(expectType(await secondAdmin.decide(approval.id, 'APPROVE'), 'Approval').status).toBe('APPROVED');
  });
});

describe('a rejected request', () => {
  it('is rejected by the first rejection, issues no token and takes no further votes', async () => {
    const { agent, approver, secondApprover, admin, auditor } = await freshTenant(server);
    const { approval } = await request(agent, PAYMENT_TWO_APPROVERS, 'PENDING');
    expectType(await approver.decide(approval.id, 'APPROVE'), 'Approval');

    const rejected = expectType(await secondApprover.decide(approval.id, 'REJECT', 'vendor unknown'), 'Approval');
    expect(rejected.status).toBe('REJECTED');
    expect(rejected.decidedAt).not.toBeNull();
    const seenByRequester = expectType(await agent.approval(approval.id), 'Approval');
    expect(seenByRequester).toMatchObject({ status: 'REJECTED', decisionToken: null, tokenExpiresAt: null });

    const late = expectError(await admin.decide(approval.id, 'APPROVE'), 'ALREADY_DECIDED');
    expect(late).toMatchObject({ reason: 'not_pending', status: 'REJECTED' });
    expect(await auditTypes(auditor, approval.id)).toEqual(['requested', 'decided', 'decided', 'rejected']);
  });
});

describe('a denied request', () => {
  it('is denied outright for an action on the tenant denylist, with the rule that denied it', async () => {
    const { agent, approver, admin, auditor } = await freshTenant(server);
    expectType(await admin.updateTenantSettings({ denylist: ['wire_transfer'] }), 'TenantSettings');

    const { approval, token } = await request(agent, { action: 'wire_transfer', context: { amount: 10 } }, 'DENIED');
    expect(token).toBeNull();
    expect(approval.reasons.map((reason) => reason.ruleId)).toEqual(['CS-110']);
    expect(approval).toMatchObject({ requiredApprovals: 0, approverRoles: [] });
    expect(expectError(await approver.decide(approval.id, 'APPROVE'), 'ALREADY_DECIDED')).toMatchObject({ reason: 'not_pending', status: 'DENIED' });
    expect(await auditTypes(auditor, approval.id)).toEqual(['requested', 'denied']);
  });
});

describe('an expired request', () => {
  it('answers a late decision with EXPIRED and records the request as EXPIRED', async () => {
    const { agent, approver, auditor } = await freshTenant(server);
    const { approval } = await request(agent, { ...PAYMENT_ONE_APPROVER, ttlSeconds: 1 }, 'PENDING');
    expect(Date.parse(approval.expiresAt) - Date.parse(approval.createdAt)).toBe(1000);
    server.clock.advance(1100);

    const late = expectError(await approver.decide(approval.id, 'APPROVE'), 'EXPIRED');
    expect(late.expiresAt).toBe(approval.expiresAt);
    const stored = expectType(await agent.approval(approval.id), 'Approval');
    expect(stored).toMatchObject({ status: 'EXPIRED', decisions: [], decisionToken: null });
    const expired = await auditor.allAuditEvents({ approvalId: approval.id, type: 'expired' });
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({ actor: 'system:countersign', previousStatus: 'PENDING', newStatus: 'EXPIRED' });
  });

  it('is listed under EXPIRED, not PENDING, as soon as it lapses, before any sweep', async () => {
    const { agent, approver } = await freshTenant(server);
    const { approval } = await request(agent, { ...PAYMENT_ONE_APPROVER, ttlSeconds: 1 }, 'PENDING');
    const stillPending = await request(agent, PAYMENT_ONE_APPROVER, 'PENDING');
    server.clock.advance(1100);

    const pending = expectType(await approver.approvals({ status: 'PENDING' }), 'ApprovalConnection');
    expect(pending.edges.map((edge) => [edge.node.id, edge.node.status])).toEqual([[stillPending.approval.id, 'PENDING']]);
    const expired = expectType(await approver.approvals({ status: 'EXPIRED' }), 'ApprovalConnection');
    expect(expired.edges.map((edge) => [edge.node.id, edge.node.status])).toEqual([[approval.id, 'EXPIRED']]);
  });

  it('is marked EXPIRED by the sweep without anyone reading it', async () => {
    const { agent, auditor } = await freshTenant(server);
    const { approval } = await request(agent, { ...PAYMENT_ONE_APPROVER, ttlSeconds: 1 }, 'PENDING');
    server.clock.advance(1100);
    expect(await auditor.allAuditEvents({ approvalId: approval.id, type: 'expired' })).toEqual([]);

    expect(await server.app.gate.expireDue()).toBeGreaterThanOrEqual(1);

    expect(await auditor.allAuditEvents({ approvalId: approval.id, type: 'expired' })).toHaveLength(1);
    const listed = expectType(await agent.approvals({ status: 'EXPIRED' }), 'ApprovalConnection');
    expect(listed.edges.map((edge) => edge.node.id)).toEqual([approval.id]);
  });
});

describe('idempotency keys', () => {
  it('return the original request, and its token, when a request is repeated', async () => {
    const { agent, auditor } = await freshTenant(server);
    const first = await request(agent, { ...QUICK_EMAIL, idempotencyKey: 'send-reply-42' }, 'APPROVED');
    expect(first.replayed).toBe(false);

    // Even a changed body returns the original: the key names the request.
    const again = await request(agent, { ...QUICK_EMAIL, context: { to: 'someone-else@example.com' }, idempotencyKey: 'send-reply-42' });
    expect(again.replayed).toBe(true);
    expect(again.approval.id).toBe(first.approval.id);
    expect(again.approval.context).toEqual(QUICK_EMAIL.context);
    expect(again.token).toBe(first.token);
    expect(await auditor.allAuditEvents({ type: 'requested' })).toHaveLength(1);
  });

  it('are scoped to the requester: another agent with the same key gets its own request', async () => {
    const { agent, name } = await freshTenant(server);
    const otherAgent = await GateClient.as(server, `other-agent-${name}`, name, ['agent']);
    const first = await request(agent, { ...PAYMENT_ONE_APPROVER, idempotencyKey: 'pay-1' });
    const other = await request(otherAgent, { ...PAYMENT_ONE_APPROVER, idempotencyKey: 'pay-1' });
    expect(other.replayed).toBe(false);
    expect(other.approval.id).not.toBe(first.approval.id);
  });
});

describe('execution', () => {
  it('verifies a token in a dry run without consuming it', async () => {
    const { agent, auditor } = await freshTenant(server);
    const { token, approval } = await allowedToken(agent);

    const dryRun = expectType(await agent.execute(executionOf(token, QUICK_EMAIL, { dryRun: true })), 'ExecutePayload');
    expect(dryRun).toMatchObject({ dryRun: true, execution: null });
    expect(dryRun.approval.status).toBe('APPROVED');
    expect(await auditor.allAuditEvents({ approvalId: approval.id, type: 'executed' })).toEqual([]);

    const real = expectType(await agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
    expect(real.dryRun).toBe(false);
    expect(real.execution?.status).toBe('STARTED');
    // Once consumed, even a dry run is refused.
    expectError(await agent.execute(executionOf(token, QUICK_EMAIL, { dryRun: true })), 'TOKEN_REPLAYED');
  });

  it('leaves the approval FAILED when the executor reports failure, and keeps the token consumed', async () => {
    const { agent, auditor } = await freshTenant(server);
    const { token, approval } = await allowedToken(agent);
    const started = expectType(await agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
    const executionId = started.execution?.id as string;

    const failed = expectType(await agent.completeExecution(executionId, 'FAILED', { error: 'SMTP 550' }), 'ExecutePayload');
    expect(failed.execution).toMatchObject({ id: executionId, status: 'FAILED', result: { error: 'SMTP 550' } });
    expect(failed.approval.status).toBe('FAILED');
    expect(expectType(await agent.approval(approval.id), 'Approval').status).toBe('FAILED');

    expect(expectError(await agent.completeExecution(executionId, 'SUCCEEDED'), 'ALREADY_DECIDED').status).toBe('FAILED');
    expectError(await agent.execute(executionOf(token, QUICK_EMAIL)), 'TOKEN_REPLAYED');
    const completed = await auditor.allAuditEvents({ approvalId: approval.id, type: 'execution_completed' });
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ previousStatus: 'EXECUTED', newStatus: 'FAILED', details: { outcome: 'FAILED' } });
  });

  it('leaves the approval EXECUTED when the executor reports success', async () => {
    const { agent } = await freshTenant(server);
    const { token } = await allowedToken(agent);
    const started = expectType(await agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
    const done = expectType(await agent.completeExecution(started.execution?.id as string, 'SUCCEEDED', { messageId: 'm-1' }), 'ExecutePayload');
    expect(done.execution).toMatchObject({ status: 'SUCCEEDED', result: { messageId: 'm-1' } });
    expect(done.approval.status).toBe('EXECUTED');
  });
});
