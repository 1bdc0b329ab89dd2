import { decodeProtectedHeader, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { allowedToken, executionOf, expectType, freshTenant, onServer, PAYMENT_TWO_APPROVERS, QUICK_EMAIL, request, type ApprovalData, type AuditEventData, type Tenant } from '../support/gate.js';

/**
 * One server life before the restart, one after, on the same SQLite file. The state is built in
 * beforeAll so each test below reads as one thing that survived.
 */
let server: TestServer;
let tenant: Tenant;
let kidsBefore: string[];
let tokenBefore: { token: string; approval: ApprovalData };
let tokenOfRotatedKey: { token: string; approval: ApprovalData };
let halfApproved: ApprovalData;
let eventsBefore: AuditEventData[];

async function publishedKids(on: TestServer): Promise<string[]> {
  const { keys } = (await (await fetch(`${on.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  return keys.map((key) => key.kid as string).sort();
}

beforeAll(async () => {
  server = await startTestServer();
  tenant = await freshTenant(server);
  tokenOfRotatedKey = await allowedToken(tenant.agent);
  await server.app.gate.rotateSigningKey();
  tokenBefore = await allowedToken(tenant.agent);
  halfApproved = (await request(tenant.agent, PAYMENT_TWO_APPROVERS, 'PENDING')).approval;
  expectType(await tenant.approver.decide(halfApproved.id, 'APPROVE', 'first look'), 'Approval');
  expectType(await tenant.admin.updateTenantSettings({ denylist: ['wire_transfer'] }), 'TenantSettings');
  kidsBefore = await publishedKids(server);
  eventsBefore = await tenant.auditor.allAuditEvents();

  await server.stop();
  server = await server.restart();
  tenant = onServer(tenant, server);
});

afterAll(async () => {
  await server?.close();
});

describe('after a restart on the same database', () => {
  it('publishes the same signing keys, including the one retired before the restart', async () => {
    expect(kidsBefore).toHaveLength(2);
    expect(await publishedKids(server)).toEqual(kidsBefore);
  });

  it('keeps signing with the key that was current before the restart', async () => {
    const { token } = await allowedToken(tenant.agent);
    expect(decodeProtectedHeader(token).kid).toBe(decodeProtectedHeader(tokenBefore.token).kid);
  });

  it('executes a token issued before the restart', async () => {
    const executed = expectType(await tenant.agent.execute(executionOf(tokenBefore.token, QUICK_EMAIL)), 'ExecutePayload');
    expect(executed.approval.id).toBe(tokenBefore.approval.id);
  });

  it('executes a token signed by a key retired before the restart', async () => {
    expectType(await tenant.agent.execute(executionOf(tokenOfRotatedKey.token, QUICK_EMAIL)), 'ExecutePayload');
  });

  it('keeps a half-approved request and its vote, so the second approver completes it', async () => {
    const stored = expectType(await tenant.approver.approval(halfApproved.id), 'Approval');
    expect(stored).toMatchObject({ status: 'PENDING', remainingApprovals: 1, contextHash: halfApproved.contextHash });
    expect(stored.decisions).toEqual([{ approver: tenant.approver.subject, decision: 'APPROVE', comment: 'first look' }]);

    expect(expectType(await tenant.secondApprover.decide(halfApproved.id), 'Approval').status).toBe('APPROVED');
    const token = expectType(await tenant.agent.approval(halfApproved.id), 'Approval').decisionToken as string;
    expectType(await tenant.agent.execute(executionOf(token, PAYMENT_TWO_APPROVERS)), 'ExecutePayload');
  });

  it('keeps the tenant settings in force', async () => {
    expect(expectType(await tenant.admin.tenantSettings(), 'TenantSettings').denylist).toEqual(['wire_transfer']);
    await request(tenant.agent, { action: 'wire_transfer', context: { amount: 1 } }, 'DENIED');
  });

  it('continues the audit chain where it stopped, and the whole chain verifies', async () => {
    const events = await tenant.auditor.allAuditEvents();
    expect(events.slice(0, eventsBefore.length)).toEqual(eventsBefore);
    const last = eventsBefore.at(-1) as AuditEventData;
    const firstAfter = events[eventsBefore.length] as AuditEventData;
    expect(firstAfter).toMatchObject({ seq: last.seq + 1, previousHash: last.hash });

    const verification = expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification');
    expect(verification).toEqual({ __typename: 'AuditChainVerification', ok: true, checked: events.length, brokenAt: null });
  });
});
