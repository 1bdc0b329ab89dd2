/**
 * Every audit event says what it is about: its approval when there is one, the policy revision in
 * force and the context hash; a refused token whose approval is unknown is named by its `jti` and
 * `sub`, never by the token itself.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_TYPES } from '../../src/domain/transitions.js';
import { allowedToken, executionOf, expectError, expectType, freshTenant, PAYMENT_ONE_APPROVER, QUICK_EMAIL, request } from '../support/gate.js';
import { createChannel, notifications, testNotifyConfig } from '../support/notifications.js';
import { useTestServer } from '../support/server.js';

const server = useTestServer({ expirySweepMs: 3_600_000, notify: testNotifyConfig() });

const JWT = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+/;

describe('every audit event', () => {
  it('names its approval, the policy revision in force and the context hash, for every event type', async () => {
    const { agent, approver, admin, auditor } = await freshTenant(server);
    const revision = server.app.evaluator.revision;

    expectType(await admin.updateTenantSettings({ denylist: ['wire_transfer'] }), 'TenantSettings'); // settings_changed
    const denied = await request(agent, { action: 'wire_transfer', context: { amount: 10 } }, 'DENIED'); // requested, denied
    const allowed = await allowedToken(agent, QUICK_EMAIL); // requested, token_issued
    expectType(await agent.execute(executionOf(allowed.token, QUICK_EMAIL, { outcome: 'SUCCEEDED', result: { sent: 1 } })), 'ExecutePayload'); // executed, execution_completed
    expectError(await agent.execute(executionOf(allowed.token, QUICK_EMAIL)), 'TOKEN_REPLAYED'); // replay_refused
    const approved = await request(agent, PAYMENT_ONE_APPROVER, 'PENDING');
    expectType(await approver.decide(approved.approval.id, 'APPROVE'), 'Approval'); // decided, approved, token_issued
    const approvedToken = expectType(await agent.approval(approved.approval.id), 'Approval').decisionToken as string;
    expectError(
      await agent.execute(executionOf(approvedToken, { ...PAYMENT_ONE_APPROVER, context: { amount: 1_000_000, currency: 'USD' } })),
      'CONTEXT_MISMATCH',
    ); // context_mismatch
    server.clock.advance(301_000); // past the token's 300 s, within the request's hour
    const reissued = await server.gql(agent.bearer, 'mutation ($id: ID!) { reissueToken(approvalId: $id) { __typename } }', { id: approved.approval.id });
    expect(reissued.data?.reissueToken.__typename).toBe('ReissueTokenPayload'); // token_reissued
    const rejected = await request(agent, { ...PAYMENT_ONE_APPROVER, resource: 'invoice/rejected' }, 'PENDING');
    expectType(await approver.decide(rejected.approval.id, 'REJECT', 'no'), 'Approval'); // decided, rejected
    const lapsing = await request(agent, { ...PAYMENT_ONE_APPROVER, resource: 'invoice/lapsing', ttlSeconds: 1 }, 'PENDING');
    server.clock.advance(1100);
    expectError(await approver.decide(lapsing.approval.id, 'APPROVE'), 'EXPIRED'); // expired

    // A token that verifies nowhere (signed with a key of its own): its approval is unknown.
    const forged = await new SignJWT({ tenant: agent.tenant, action: 'payment', ctx: '0'.repeat(64), policy_rev: 'x' })
      .setProtectedHeader({ alg: 'HS256', typ: 'countersign-decision+jwt', kid: 'forged' })
      .setSubject('forged-approval-id')
      .setJti('forged-jti')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('an attacker key of 32 bytes at least!!'));
    expectError(await agent.execute(executionOf(forged, PAYMENT_ONE_APPROVER)), 'TOKEN_INVALID'); // token_refused

    // Channel administration (a replayed delivery is covered with a real receiver in notifications-webhook).
    const channel = await createChannel(server, admin, { kind: 'WEBHOOK', name: 'ops', url: 'http://127.0.0.1:9/hook', events: ['approval.rejected'] });
    await notifications.update(server, admin, { id: channel.id, name: 'ops-2' });
    await notifications.rotate(server, admin, channel.id);
    await notifications.delete(server, admin, channel.id);
    const revoked = await server.gql(admin.bearer, 'mutation { revokeCallerTokens(subject: "mallory") { __typename } }');
    expect(revoked.data?.revokeCallerTokens.__typename).toBe('CallerRevocation'); // caller_tokens_revoked

    const events = await auditor.allAuditEvents();
    expect(new Set(events.map((event) => event.type))).toEqual(new Set(AUDIT_EVENT_TYPES.filter((type) => type !== 'notification_delivery_replayed')));

    const hashes = new Map(
      [denied, allowed, approved, rejected, lapsing].map(({ approval }) => [approval.id, approval.contextHash] as const),
    );
    for (const event of events) {
      const label = `${event.seq} ${event.type}`;
      expect(event.details['policyRevision'], label).toBe(revision);
      expect(JSON.stringify(event.details), label).not.toMatch(JWT);
      if (
        event.type === 'settings_changed' ||
        event.type.startsWith('notification_channel_') ||
        event.type === 'notification_secret_rotated' ||
        event.type === 'caller_tokens_revoked'
      ) {
        expect(event.approvalId, label).toBeNull();
        expect(event.details['contextHash'], label).toBeNull();
      } else if (event.type === 'token_refused') {
        expect(event.approvalId, label).toBeNull();
        expect(event.details, label).toMatchObject({ presentedJti: 'forged-jti', presentedSub: 'forged-approval-id', stage: 'verification' });
        // The context hash of what was presented, as no approval is known.
        expect(event.details['contextHash'], label).toMatch(/^[0-9a-f]{64}$/);
      } else {
        expect(event.approvalId, label).not.toBeNull();
        expect(event.details['contextHash'], label).toBe(hashes.get(event.approvalId as string));
      }
    }
    const mismatch = events.find((event) => event.type === 'context_mismatch');
    expect(mismatch?.details['presentedContextHash']).toMatch(/^[0-9a-f]{64}$/);
    expect(mismatch?.details['presentedContextHash']).not.toBe(mismatch?.details['contextHash']);
    expect(expectType(await auditor.verifyAuditChain(), 'AuditChainVerification').ok).toBe(true);
  });

  it('names a garbage token by nothing it cannot hash, and still records the refusal', async () => {
    const { agent, auditor } = await freshTenant(server);
    const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'countersign-decision+jwt', kid: 'k' })).toString('base64url');
    // A lone surrogate in `sub` and an over-long `jti`: neither may reach the hashed chain.
    const payload = Buffer.from(`{"sub":"\\ud800","jti":"${'j'.repeat(300)}"}`).toString('base64url');
    expectError(await agent.execute(executionOf(`${header}.${payload}.c2ln`, QUICK_EMAIL)), 'TOKEN_INVALID');
    expectError(await agent.execute(executionOf('not-a-jwt', QUICK_EMAIL)), 'TOKEN_INVALID');
    const refusals = await auditor.allAuditEvents({ type: 'token_refused' });
    expect(refusals).toHaveLength(2);
    for (const refusal of refusals) expect(refusal.details).toMatchObject({ presentedJti: null, presentedSub: null, stage: 'verification' });
  });
});
