import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../support/server.js';
import { allowedToken, expectError, expectType, freshTenant, PAYMENT_ONE_APPROVER, QUICK_EMAIL, request } from '../support/gate.js';

const server = useTestServer();

/** Allowed only by confidence: meeting_request is low risk and matches no auto-approve rule. */
const CONFIDENT_MEETING = { action: 'meeting_request', context: { with: 'vendor' }, confidence: 0.7 };

describe('tenant settings', () => {
  it('may be changed by admins only', async () => {
    const { agent, approver, auditor, admin } = await freshTenant(server);
    for (const caller of [agent, approver, auditor]) {
      expect(expectError(await caller.updateTenantSettings({ denylist: ['payment'] }), 'FORBIDDEN').requiredRoles).toEqual(['admin']);
    }
    expect(expectType(await approver.tenantSettings(), 'TenantSettings')).toMatchObject({ denylist: [], updatedBy: null });
    expect(await auditor.allAuditEvents({ type: 'settings_changed' })).toEqual([]);

    const updated = expectType(await admin.updateTenantSettings({ denylist: ['payment'] }), 'TenantSettings');
    expect(updated).toMatchObject({ denylist: ['payment'], updatedBy: admin.subject });
  });

  it('deny the next request for an action added to the denylist, without a restart', async () => {
    const { agent, admin } = await freshTenant(server);
    await request(agent, PAYMENT_ONE_APPROVER, 'PENDING');

    expectType(await admin.updateTenantSettings({ denylist: ['payment'] }), 'TenantSettings');

    const { approval } = await request(agent, PAYMENT_ONE_APPROVER, 'DENIED');
    expect(approval.reasons.map((reason) => reason.ruleId)).toEqual(['CS-110']);
  });

  it('apply to their own tenant only', async () => {
    const strict = await freshTenant(server, 'strict');
    const lenient = await freshTenant(server, 'lenient');
    expectType(await strict.admin.updateTenantSettings({ denylist: ['email_response'] }), 'TenantSettings');

    await request(strict.agent, QUICK_EMAIL, 'DENIED');
    await request(lenient.agent, QUICK_EMAIL, 'APPROVED');
  });

  it('allow a confident request once the threshold is lowered to its confidence', async () => {
    const { agent, admin } = await freshTenant(server);
    const before = await request(agent, CONFIDENT_MEETING, 'PENDING');
    expect(before.approval.reasons.map((reason) => reason.ruleId)).toEqual(['CS-900']);

    expectType(await admin.updateTenantSettings({ threshold: 0.7 }), 'TenantSettings');

    const after = await request(agent, CONFIDENT_MEETING, 'APPROVED');
    expect(after.approval.reasons.map((reason) => reason.ruleId)).toEqual(['CS-320']);
    expect(after.token).not.toBeNull();
  });

  it('allow an action on the allowlist, but never past a mandatory approval', async () => {
    const { agent, admin } = await freshTenant(server);
    expectType(await admin.updateTenantSettings({ allowlist: ['meeting_request', 'payment'] }), 'TenantSettings');

    await request(agent, { action: 'meeting_request', context: {} }, 'APPROVED');
    await request(agent, PAYMENT_ONE_APPROVER, 'PENDING');
  });

  it('restore the policy default when set to null', async () => {
    const { agent, admin } = await freshTenant(server);
    expectType(await admin.updateTenantSettings({ threshold: 0.7, denylist: ['email_response'] }), 'TenantSettings');
    await request(agent, CONFIDENT_MEETING, 'APPROVED');
    await request(agent, QUICK_EMAIL, 'DENIED');

    const restored = expectType(await admin.updateTenantSettings({ threshold: null, denylist: null }), 'TenantSettings');
    expect(restored).toMatchObject({ threshold: null, denylist: [] });
    await request(agent, CONFIDENT_MEETING, 'PENDING');
    await request(agent, QUICK_EMAIL, 'APPROVED');
  });

  it('leave fields that are not mentioned as they were', async () => {
    const { admin } = await freshTenant(server);
    expectType(await admin.updateTenantSettings({ denylist: ['payment'], threshold: 0.9 }), 'TenantSettings');
    const updated = expectType(await admin.updateTenantSettings({ allowlist: ['follow_up'] }), 'TenantSettings');
    expect(updated).toMatchObject({ denylist: ['payment'], threshold: 0.9, allowlist: ['follow_up'] });
  });

  it('set the lifetime of new requests and tokens', async () => {
    const { agent, admin } = await freshTenant(server);
    expectType(await admin.updateTenantSettings({ requestTtlSeconds: 600, tokenTtlSeconds: 60 }), 'TenantSettings');

    const { approval } = await request(agent, PAYMENT_ONE_APPROVER, 'PENDING');
    expect(Date.parse(approval.expiresAt) - Date.parse(approval.createdAt)).toBe(600_000);
    const { token } = await allowedToken(agent);
    const { iat, exp } = decodeJwt(token);
    expect((exp as number) - (iat as number)).toBe(60);
  });

  it('record each change in the audit chain, with who made it and the values before and after', async () => {
    const { admin, auditor } = await freshTenant(server);
    expectType(await admin.updateTenantSettings({ denylist: ['payment'] }), 'TenantSettings');
    expectType(await admin.updateTenantSettings({ threshold: 0.95 }), 'TenantSettings');

    const changes = await auditor.allAuditEvents({ type: 'settings_changed' });
    expect(changes).toHaveLength(2);
    expect(changes[0]).toMatchObject({
      actor: admin.subject,
      approvalId: null,
      details: { before: { denylist: [], threshold: null }, after: { denylist: ['payment'], threshold: null } },
    });
    expect(changes[1]).toMatchObject({ details: { before: { threshold: null }, after: { threshold: 0.95, denylist: ['payment'] } } });
    expect(expectType(await auditor.verifyAuditChain(), 'AuditChainVerification')).toMatchObject({ ok: true, checked: 2 });
  });
});
