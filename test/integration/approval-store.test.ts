import { OptimisticLockError, wrap } from '@mikro-orm/core';
import { Approval } from '../../src/db/entities/approval.entity.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../src/db/stores/approval-store.js';
import { inTransaction } from '../../src/db/transaction.js';
import { decide, PENDING_PAYMENT, REQUEST_APPROVAL, request, uniqueTenant } from '../support/clients.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase } from '../support/services.js';

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

describe('an approval read through the prepared statements', () => {
  /** What MikroORM's own query hydrates: the entity MikroORM's `findOne` with its votes gives. */
  const fromOrm = (tenant: string, id: string) => server.app.orm.em.fork().findOne(Approval, { id, tenant }, { populate: ['decisions'] });
  const asData = (approval: Approval | null) => (approval ? wrap(approval).toObject() : null);

  it('is the entity MikroORM hydrates, votes in the order they were cast, types and nulls alike', async () => {
    const tenant = uniqueTenant('store-read');
    const agent = await server.token('agent-1', tenant, ['agent']);
    const pending = await request(server, agent, { ...PENDING_PAYMENT, resource: 'invoice/9', context: { amount: 1500, lines: [{ sku: 'a' }] } });
    const twoApprovers = await request(server, agent, { action: 'payment', context: { amount: 5000 }, priority: 'high', confidence: 0.5 });
    const approved = await request(server, agent, PENDING_PAYMENT);
    const rejected = await request(server, agent, PENDING_PAYMENT);
    const allowed = await request(server, agent, { action: 'email_response', context: { to: 'a@example.com' }, estimatedDurationMinutes: 5 });
    await decide(server, await server.token('bob', tenant, ['approver']), twoApprovers.id, 'APPROVE', 'first of two');
    await decide(server, await server.token('carol', tenant, ['approver']), approved.id, 'APPROVE');
    await decide(server, await server.token('dave', tenant, ['approver']), rejected.id, 'REJECT', 'no');

    for (const { id } of [pending, twoApprovers, approved, rejected, allowed]) {
      const read = await store.find(tenant, id);
      expect(asData(read)).toEqual(asData(await fromOrm(tenant, id)));
      expect(read!.createdAt).toBeInstanceOf(Date);
      expect(typeof read!.escalated).toBe('boolean');
      const loaded = await inTransaction(server.app.orm, (em) => store.load(em, tenant, id));
      expect(asData(loaded)).toEqual(asData(read));
    }
    const withVote = await store.find(tenant, twoApprovers.id);
    expect(withVote!.decisions.getItems().map((vote) => [vote.approver, vote.decision, vote.comment])).toEqual([['bob', 'APPROVE', 'first of two']]);
    expect(withVote!.decisions.getItems()[0]!.approval.unwrap()).toBe(withVote);
    expect((await store.find(tenant, approved.id))!.tokenJti).toEqual(expect.any(String));
  });

  it('is nothing for an unknown id or another tenant', async () => {
    const { tenant, id } = await pendingApproval();
    expect(await store.find(tenant, 'no-such-id')).toBeNull();
    expect(await store.find(uniqueTenant('other'), id)).toBeNull();
    expect(await inTransaction(server.app.orm, (em) => store.load(em, uniqueTenant('other'), id))).toBeNull();
  });
});

describe("a tenant's statuses read page by page", () => {
  for (const driver of ['sqlite', 'postgresql'] as const) {
    it(`gives every approval once, also when two were created at the same instant and one is decided between pages (${driver})`, async () => {
      const database = driver === 'postgresql' ? await createTestDatabase() : null;
      const target = database ? await startTestServer({ databaseDriver: 'postgresql', databaseUrl: database.url }) : server;
      const pages = new ApprovalStore(target.app.orm);
      try {
        const tenant = uniqueTenant('store-statuses');
        const agent = await target.token('agent-1', tenant, ['agent']);
        const ids: string[] = [];
        for (let index = 0; index < 5; index++) ids.push((await request(target, agent, PENDING_PAYMENT)).id);
        await request(target, await target.token('agent-1', uniqueTenant('store-statuses-other'), ['agent']), PENDING_PAYMENT);
        // Two approvals of one instant, on either side of the first page's end: the id orders them.
        await target.app.orm.em.fork().nativeUpdate(Approval, { id: { $in: [ids[1] as string, ids[2] as string] } }, { createdAt: new Date('2026-01-01T00:00:00.000Z') });

        const first = await pages.statuses(tenant, null, 2);
        expect(first.approvals).toHaveLength(2);
        await decide(target, await target.token('bob', tenant, ['approver']), (first.approvals[0] as { id: string }).id, 'REJECT');
        const read = [...first.approvals];
        for (let after = first.end; ; ) {
          const page = await pages.statuses(tenant, after, 2);
          read.push(...page.approvals);
          if (page.approvals.length < 2) break;
          after = page.end;
        }
        expect(read.map((approval) => approval.id).sort()).toEqual([...ids].sort());
        expect(read.every((approval) => approval.status === 'PENDING')).toBe(true);
        const [tiedFirst, tiedSecond] = [ids[1], ids[2]].sort() as [string, string];
        expect(read.findIndex((approval) => approval.id === tiedFirst)).toBe(read.findIndex((approval) => approval.id === tiedSecond) - 1);
      } finally {
        if (database) {
          await target.close();
          await database.drop();
        }
      }
    });
  }
});
