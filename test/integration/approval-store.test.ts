import { OptimisticLockError } from '@mikro-orm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../src/db/stores/approval-store.js';
import { inTransaction } from '../../src/db/transaction.js';
import { PENDING_PAYMENT, REQUEST_APPROVAL, uniqueTenant } from '../support/clients.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let store: ApprovalStore;

beforeAll(async () => {
  server = await startTestServer({ expirySweepMs: 3_600_000 });
  store = new ApprovalStore(server.app.orm);
});

afterAll(async () => {
  await server?.close();
});

async function pendingApproval(): Promise<{ tenant: string; id: string }> {
  const tenant = uniqueTenant('store');
  const agent = await server.token('agent-1', tenant, ['agent']);
  const { data } = await server.gql(agent, REQUEST_APPROVAL, { input: PENDING_PAYMENT });
  return { tenant, id: data.requestApproval.approval.id };
}

describe('an approval read to change it', () => {
  it('is written back, its version bumped, without a unit of work to flush', async () => {
    const { tenant, id } = await pendingApproval();
    const decidedAt = new Date('2026-01-02T03:04:05.000Z');
    await inTransaction(server.app.orm, async (em) => {
      const approval = (await store.load(em, tenant, id))!;
      expect(em.getUnitOfWork().getIdentityMap().keys()).toEqual([]);
      Object.assign(approval, { status: 'REJECTED', decidedAt, updatedAt: decidedAt });
      await store.save(em, approval);
      expect(approval.version).toBe(2);
    });
    expect(await store.find(tenant, id)).toMatchObject({ status: 'REJECTED', decidedAt, updatedAt: decidedAt, version: 2 });
  });

  it('is refused when the row changed since it was read, and nothing of the transaction is kept', async () => {
    const { tenant, id } = await pendingApproval();
    const attempt = inTransaction(server.app.orm, async (em) => {
      const approval = (await store.load(em, tenant, id))!;
      await em.getConnection().execute('update approval set version = version + 1 where id = ?', [id], 'run', em.getTransactionContext());
      approval.status = 'REJECTED';
      await store.save(em, approval);
    });
    await expect(attempt).rejects.toBeInstanceOf(OptimisticLockError);
    expect(await store.find(tenant, id)).toMatchObject({ status: 'PENDING', version: 1 });
  });
});
