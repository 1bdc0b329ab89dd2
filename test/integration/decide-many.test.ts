import { describe, expect, it } from 'vitest';
import { CountersignClient, RefusedError } from '../../src/client/index.js';
import { freshTenant, PAYMENT_ONE_APPROVER, type Tenant } from '../support/gate.js';
import { useTestServer } from '../support/server.js';

const server = useTestServer({ expirySweepMs: 3_600_000 });

const sdk = (client: { bearer: string | null }) => new CountersignClient({ url: server.url, token: client.bearer as string });

async function pending(tenant: Tenant, count: number): Promise<string[]> {
  const agent = sdk(tenant.agent);
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const { approval } = await agent.requestApproval({ ...PAYMENT_ONE_APPROVER, resource: `invoice/B-${index}`, context: { amount: 1500 + index } });
    expect(approval.status).toBe('PENDING');
    ids.push(approval.id);
  }
  return ids;
}

describe('decideMany', () => {
  it('decides each id on its own: accepted ones are approved and audited, refused ones report their own typed error', async () => {
    const tenant = await freshTenant(server, 'batch');
    const [first, second, third] = await pending(tenant, 3);
    const approver = sdk(tenant.approver);
    await approver.reject(second as string, 'not this one');

    const results = await approver.decideMany({ approvalIds: [first as string, second as string, 'no-such-id', third as string], decision: 'APPROVE', comment: 'batch ok' });
    expect(results.map((result) => [result.approvalId, result.ok ? result.approval.status : result.error.code])).toEqual([
      [first, 'APPROVED'],
      [second, 'ALREADY_DECIDED'],
      ['no-such-id', 'NOT_FOUND'],
      [third, 'APPROVED'],
    ]);
    const refused = results[1];
    expect(refused?.ok === false && refused.error).toBeInstanceOf(RefusedError);
    expect(refused?.ok === false && refused.error.details).toMatchObject({ status: 'REJECTED' });

    const auditor = sdk(tenant.auditor);
    for (const id of [first, third]) {
      const events = [];
      for await (const event of auditor.allAuditEvents({ approvalId: id as string })) events.push(event);
      expect(events.map((event) => event.type)).toEqual(['requested', 'decided', 'approved', 'token_issued']);
      expect(events[1]).toMatchObject({ actor: tenant.approver.subject, details: expect.objectContaining({ comment: 'batch ok' }) });
    }
    expect(await auditor.verifyAuditChain()).toMatchObject({ ok: true });
  });

  it('refuses an empty batch and a repeated id before deciding anything', async () => {
    const tenant = await freshTenant(server, 'batch-input');
    const [id] = await pending(tenant, 1);
    const approver = sdk(tenant.approver);
    await expect(approver.decideMany({ approvalIds: [], decision: 'APPROVE' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(approver.decideMany({ approvalIds: [id as string, id as string], decision: 'APPROVE' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      details: { field: 'approvalIds' },
    });
    expect((await approver.approval(id as string)).status).toBe('PENDING');
  });

  it('refuses every id to a caller who may not decide, and to nobody signed in', async () => {
    const tenant = await freshTenant(server, 'batch-roles');
    const ids = await pending(tenant, 2);
    const results = await sdk(tenant.auditor).decideMany({ approvalIds: ids, decision: 'REJECT', comment: 'no' });
    expect(results.map((result) => (result.ok ? result.approval.status : result.error.code))).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    await expect(new CountersignClient({ url: server.url, token: 'not-a-jwt' }).decideMany({ approvalIds: ids, decision: 'APPROVE' })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });
});
