import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { contextHash } from '../../src/domain/context-hash.js';
import { useTestServer } from '../support/server.js';
import { allowedToken, executionOf, expectError, expectType, field, freshTenant, GateClient, PAYMENT_ONE_APPROVER, PAYMENT_TWO_APPROVERS, postGraphQL, QUICK_EMAIL, REQUEST_APPROVAL, request } from '../support/gate.js';
import type { ApprovalData, RequestApprovalInput, Tenant } from '../support/gate.js';

const server = useTestServer({ expirySweepMs: 3_600_000 });

/** Every failure in this file must arrive as a typed union member, never as a GraphQL error. */
async function requestWithHeaders(headers: Record<string, string>) {
  return field(await postGraphQL(server, headers, REQUEST_APPROVAL, { input: QUICK_EMAIL }), 'requestApproval') as { __typename: string };
}

describe('UNAUTHENTICATED', () => {
  it('is returned when no bearer token is sent', async () => {
    expectError(await requestWithHeaders({}), 'UNAUTHENTICATED');
  });

  it('is returned for a caller token signed with another secret', async () => {
    const forged = await new SignJWT({ tenant: 'acme', roles: ['agent'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('agent-x')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-server-secret-0123456789abcdef'));
    expectError(await requestWithHeaders({ authorization: `Bearer ${forged}` }), 'UNAUTHENTICATED');
  });

  it('is returned for an expired caller token', async () => {
    const expired = await new SignJWT({ tenant: 'acme', roles: ['agent'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('agent-x')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(server.config.authSecret as string));
    expectError(await requestWithHeaders({ authorization: `Bearer ${expired}` }), 'UNAUTHENTICATED');
  });

  it('is returned for an Authorization header that is not a bearer token', async () => {
    expectError(await requestWithHeaders({ authorization: 'Basic YWdlbnQ6c2VjcmV0' }), 'UNAUTHENTICATED');
  });

  it('is returned for a caller token that names no tenant', async () => {
    const tenantless = await new SignJWT({ roles: ['agent'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('agent-x')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(server.config.authSecret as string));
    expectError(await requestWithHeaders({ authorization: `Bearer ${tenantless}` }), 'UNAUTHENTICATED');
  });
});

describe('FORBIDDEN', () => {
  let tenant: Tenant;
  let pending: ApprovalData;

  beforeAll(async () => {
    tenant = await freshTenant(server);
    pending = (await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING')).approval;
  });

  it('is returned when an approver asks for an action, naming the role needed', async () => {
    expect(expectError(await tenant.approver.requestApproval(QUICK_EMAIL), 'FORBIDDEN').requiredRoles).toEqual(['agent']);
  });

  it('is returned when an agent tries to decide, and the vote is not recorded', async () => {
    expect(expectError(await tenant.agent.decide(pending.id), 'FORBIDDEN').requiredRoles).toEqual(['approver', 'admin']);
    expect(expectType(await tenant.approver.approval(pending.id), 'Approval')).toMatchObject({ status: 'PENDING', decisions: [] });
  });

  it('is returned when an agent or an approver reads the audit log', async () => {
    expectError(await tenant.agent.auditEvents(), 'FORBIDDEN');
    expectError(await tenant.approver.verifyAuditChain(), 'FORBIDDEN');
  });

  it('is returned when an approver executes a token', async () => {
    const { token } = await allowedToken(tenant.agent);
    expectError(await tenant.approver.execute(executionOf(token, QUICK_EMAIL)), 'FORBIDDEN');
  });

  it('is returned when someone other than the executor reports the outcome', async () => {
    const otherAgent = await GateClient.as(server, `other-agent-${tenant.name}`, tenant.name, ['agent']);
    const { token } = await allowedToken(tenant.agent);
    const started = expectType(await tenant.agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
    expectError(await otherAgent.completeExecution(started.execution?.id as string, 'FAILED'), 'FORBIDDEN');
    expect(expectType(await tenant.agent.approval(started.approval.id), 'Approval').status).toBe('EXECUTED');
  });
});

describe('NOT_FOUND', () => {
  it('is returned for an approval id that does not exist', async () => {
    const { approver } = await freshTenant(server);
    const missing = randomUUID();
    expect(expectError(await approver.approval(missing), 'NOT_FOUND')).toMatchObject({ entity: 'Approval', id: missing });
    expectError(await approver.decide(missing), 'NOT_FOUND');
  });

  it('is returned for an execution id that does not exist', async () => {
    const { agent } = await freshTenant(server);
    expect(expectError(await agent.completeExecution(randomUUID(), 'SUCCEEDED'), 'NOT_FOUND').entity).toBe('Execution');
  });

  it("is returned for another tenant's approval, which stays untouched", async () => {
    const owner = await freshTenant(server, 'owner');
    const outsider = await freshTenant(server, 'outsider');
    const { approval } = await request(owner.agent, PAYMENT_ONE_APPROVER, 'PENDING');

    expectError(await outsider.approver.approval(approval.id), 'NOT_FOUND');
    expectError(await outsider.admin.approval(approval.id), 'NOT_FOUND');
    expectError(await outsider.approver.decide(approval.id, 'REJECT'), 'NOT_FOUND');
    const listed = expectType(await outsider.auditor.approvals(), 'ApprovalConnection');
    expect(listed.edges).toEqual([]);
    expect(expectType(await owner.approver.approval(approval.id), 'Approval')).toMatchObject({ status: 'PENDING', decisions: [] });
  });

  it("is returned for another tenant's execution", async () => {
    const owner = await freshTenant(server, 'owner');
    const outsider = await GateClient.as(server, owner.agent.subject, `outsider-${randomUUID().slice(0, 8)}`, ['agent']);
    const { token } = await allowedToken(owner.agent);
    const started = expectType(await owner.agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
    // Same subject name, other tenant: the tenant comes from the caller token, never from the id.
    expectError(await outsider.completeExecution(started.execution?.id as string, 'FAILED'), 'NOT_FOUND');
  });

  it('is returned to an agent reading a request made by another agent', async () => {
    const tenant = await freshTenant(server);
    const otherAgent = await GateClient.as(server, `other-agent-${tenant.name}`, tenant.name, ['agent']);
    const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER);
    expectError(await otherAgent.approval(approval.id), 'NOT_FOUND');
  });
});

describe('INVALID_INPUT', () => {
  it.each<[string, Partial<RequestApprovalInput>, string]>([
    ['an empty action', { action: '' }, 'action'],
    ['an action with spaces', { action: 'send email' }, 'action'],
    ['a context that is a list', { context: [1, 2] }, 'context'],
    ['a context that is a string', { context: 'amount=5' }, 'context'],
    ['a confidence above 1', { confidence: 1.5 }, 'confidence'],
    ['a negative duration', { estimatedDurationMinutes: -1 }, 'estimatedDurationMinutes'],
    ['a ttl of zero', { ttlSeconds: 0 }, 'ttlSeconds'],
    ['an empty idempotency key', { idempotencyKey: '' }, 'idempotencyKey'],
  ])('is returned for a request with %s, naming the field, and nothing is stored', async (_what, change, fieldName) => {
    const { agent, auditor } = await freshTenant(server);
    const refused = expectError(await agent.requestApproval({ ...QUICK_EMAIL, ...change }), 'INVALID_INPUT');
    expect(refused.field).toBe(fieldName);
    expect(refused.problem).toEqual(expect.any(String));
    expect(expectType(await agent.approvals(), 'ApprovalConnection').edges).toEqual([]);
    expect(await auditor.allAuditEvents()).toEqual([]);
  });

  it('is returned for a page size outside 1 to 200 and for a cursor the API never issued', async () => {
    const { approver, auditor } = await freshTenant(server);
    expect(expectError(await approver.approvals({ first: 0 }), 'INVALID_INPUT').field).toBe('first');
    expect(expectError(await auditor.auditEvents({ first: 201 }), 'INVALID_INPUT').field).toBe('first');
    expect(expectError(await approver.approvals({ after: 'bm90LWEtY3Vyc29y' }), 'INVALID_INPUT').field).toBe('after');
    expect(expectError(await auditor.auditEvents({ after: '!!' }), 'INVALID_INPUT').field).toBe('after');
  });

  it('is returned for tenant settings out of range, which stay as they were', async () => {
    const { admin } = await freshTenant(server);
    expect(expectError(await admin.updateTenantSettings({ threshold: 1.5 }), 'INVALID_INPUT').field).toBe('threshold');
    expect(expectError(await admin.updateTenantSettings({ denylist: ['no spaces allowed'] }), 'INVALID_INPUT').field).toBe('denylist[0]');
    expect(expectType(await admin.tenantSettings(), 'TenantSettings')).toMatchObject({ threshold: null, denylist: [] });
  });
});

describe('ALREADY_DECIDED', () => {
  it('is returned when an approver votes twice on a request that needs two approvers', async () => {
    const { agent, approver } = await freshTenant(server);
    const { approval } = await request(agent, PAYMENT_TWO_APPROVERS, 'PENDING');
    expectType(await approver.decide(approval.id), 'Approval');

    expect(expectError(await approver.decide(approval.id), 'ALREADY_DECIDED')).toMatchObject({ reason: 'already_voted' });
    // The repeated vote does not count towards the quorum.
    expect(expectType(await approver.approval(approval.id), 'Approval')).toMatchObject({ status: 'PENDING', remainingApprovals: 1 });
  });

  it('is returned when a decided request is decided again', async () => {
    const { agent, approver, secondApprover } = await freshTenant(server);
    const { approval } = await request(agent, PAYMENT_ONE_APPROVER, 'PENDING');
    expectType(await approver.decide(approval.id), 'Approval');
    expect(expectError(await secondApprover.decide(approval.id, 'REJECT'), 'ALREADY_DECIDED')).toMatchObject({
      reason: 'not_pending',
      status: 'APPROVED',
    });
  });

  it('is returned when a request the policy allowed outright is voted on', async () => {
    const { agent, approver } = await freshTenant(server);
    const { approval } = await allowedToken(agent);
    expect(expectError(await approver.decide(approval.id, 'REJECT'), 'ALREADY_DECIDED')).toMatchObject({
      reason: 'not_pending',
      status: 'APPROVED',
    });
  });

  it('is returned when an execution outcome is reported twice', async () => {
    const { agent } = await freshTenant(server);
    const { token } = await allowedToken(agent);
    const started = expectType(await agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
    const executionId = started.execution?.id as string;
    expectType(await agent.completeExecution(executionId, 'SUCCEEDED'), 'ExecutePayload');
    const twice = expectError(await agent.completeExecution(executionId, 'FAILED'), 'ALREADY_DECIDED');
    expect(twice).toMatchObject({ status: 'EXECUTED', executionStatus: 'SUCCEEDED' });
    expect(twice.message).toContain(`Execution ${executionId}`);
  });
});

describe('SELF_APPROVAL', () => {
  it('is returned when the requester, who is also an approver, decides its own request', async () => {
    const tenant = await freshTenant(server);
    const agentApprover = await GateClient.as(server, `agent-approver-${tenant.name}`, tenant.name, ['agent', 'approver']);
    const { approval } = await request(agentApprover, PAYMENT_ONE_APPROVER, 'PENDING');

    expectError(await agentApprover.decide(approval.id), 'SELF_APPROVAL');
    expect(expectType(await tenant.approver.approval(approval.id), 'Approval')).toMatchObject({ status: 'PENDING', decisions: [] });
  });
});

describe('EXPIRED and TOKEN_EXPIRED', () => {
  let tenant: Tenant;
  let pending: ApprovalData;
  let allowed: { token: string; approval: ApprovalData };

  // Both requests live one second; one wait serves both tests.
  beforeAll(async () => {
    tenant = await freshTenant(server);
    pending = (await request(tenant.agent, { ...PAYMENT_ONE_APPROVER, ttlSeconds: 1 }, 'PENDING')).approval;
    allowed = await allowedToken(tenant.agent, { ...QUICK_EMAIL, ttlSeconds: 1 });
    server.clock.advance(1100);
  });

  it('EXPIRED is returned for a decision on a request past its lifetime', async () => {
    expect(expectError(await tenant.approver.decide(pending.id), 'EXPIRED').expiresAt).toBe(pending.expiresAt);
    expect(expectType(await tenant.approver.approval(pending.id), 'Approval').status).toBe('EXPIRED');
    // And stays EXPIRED, not ALREADY_DECIDED, for the next approver.
    expectError(await tenant.secondApprover.decide(pending.id), 'EXPIRED');
  });

  it('TOKEN_EXPIRED is returned for a token used after its request lifetime', async () => {
    expectError(await tenant.agent.execute(executionOf(allowed.token, QUICK_EMAIL)), 'TOKEN_EXPIRED');
  });
});

describe('token failures', () => {
  it('TOKEN_INVALID is returned for something that is not a token', async () => {
    const { agent } = await freshTenant(server);
    expect(expectError(await agent.execute(executionOf('not.a-token.at-all', QUICK_EMAIL)), 'TOKEN_INVALID').reason).toBe('malformed');
  });

  it('TOKEN_INVALID is returned for an unsigned token', async () => {
    const { agent } = await freshTenant(server);
    const { token } = await allowedToken(agent);
    const [, payload] = token.split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'countersign-decision+jwt' })).toString('base64url')}.${payload}.`;
    expectError(await agent.execute(executionOf(unsigned, QUICK_EMAIL)), 'TOKEN_INVALID');
  });

  it('TOKEN_REPLAYED is returned for a second use of a token', async () => {
    const { agent } = await freshTenant(server);
    const { token } = await allowedToken(agent);
    expectType(await agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
    expectError(await agent.execute(executionOf(token, QUICK_EMAIL)), 'TOKEN_REPLAYED');
  });

  it('CONTEXT_MISMATCH is returned for a token presented with another context, with both hashes', async () => {
    const { agent, name } = await freshTenant(server);
    const { token, approval } = await allowedToken(agent);
    const presented = { ...QUICK_EMAIL, context: { to: 'attacker@example.com' } };
    expect(expectError(await agent.execute(executionOf(token, presented)), 'CONTEXT_MISMATCH')).toMatchObject({
      expectedHash: approval.contextHash,
      presentedHash: contextHash({ tenant: name, ...presented }),
    });
  });
});
