import { describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/domain/canonical-json.js';
import { useTestServer } from '../support/server.js';
import { allowedToken, executionOf, expectType, freshTenant, GateClient, openDatabaseFile, PAYMENT_ONE_APPROVER, QUICK_EMAIL, request } from '../support/gate.js';
import type { ApprovalData, AuditEventData, Tenant } from '../support/gate.js';

const server = useTestServer();

/** Gives a tenant a chain of a few events: an approval decided and executed, and a refused replay. */
async function tenantWithHistory(): Promise<{ tenant: Tenant; events: AuditEventData[] }> {
  const tenant = await freshTenant(server);
  const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
  expectType(await tenant.approver.decide(approval.id), 'Approval');
  const token = expectType(await tenant.agent.approval(approval.id), 'Approval').decisionToken as string;
  expectType(await tenant.agent.execute(executionOf(token, PAYMENT_ONE_APPROVER)), 'ExecutePayload');
  await tenant.agent.execute(executionOf(token, PAYMENT_ONE_APPROVER));
  const events = await tenant.auditor.allAuditEvents();
  expect(events.map((event) => event.type)).toEqual(['requested', 'decided', 'approved', 'token_issued', 'executed', 'replay_refused']);
  return { tenant, events };
}

/** Runs `sql` on the server's SQLite file behind its back, once every queued write has committed. */
async function tamper(sql: string, ...params: unknown[]): Promise<void> {
  await server.app.gate.whenIdle();
  const database = openDatabaseFile(server);
  try {
    expect(database.prepare(sql).run(...params).changes).toBe(1);
  } finally {
    database.close();
  }
}

describe('the audit chain', () => {
  it('links every event to the one before it and verifies whole', async () => {
    const { tenant, events } = await tenantWithHistory();
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[0]?.previousHash).toBe('0'.repeat(64));
    for (let index = 1; index < events.length; index++) {
      expect(events[index]?.previousHash).toBe(events[index - 1]?.hash);
    }
    expect(expectType(await tenant.admin.verifyAuditChain(), 'AuditChainVerification')).toMatchObject({ ok: true, checked: 6, brokenAt: null });
  });

  it('stores each event\'s details as the canonical JSON text its hash covers', async () => {
    const { events } = await tenantWithHistory();
    await server.app.gate.whenIdle();
    const database = openDatabaseFile(server);
    try {
      const select = database.prepare('select details from audit_event where id = ?');
      for (const event of events) {
        const [row] = select.all(event.id) as { details: string }[];
        const stored = row?.details as string;
        expect(stored).toBe(canonicalize(JSON.parse(stored)));
        expect(JSON.parse(stored)).toEqual(event.details);
      }
    } finally {
      database.close();
    }
  });

  it('reports the first broken link when a row is altered in the database', async () => {
    const { tenant, events } = await tenantWithHistory();
    const decided = events[1] as AuditEventData;
    await tamper(`update audit_event set actor = 'someone-else' where id = ?`, decided.id);

    const verification = expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification');
    expect(verification).toMatchObject({ ok: false, checked: 1, brokenAt: { seq: 2, id: decided.id, reason: 'hash_mismatch' } });
  });

  it('reports the first broken link when a detail inside a row is altered', async () => {
    const { tenant, events } = await tenantWithHistory();
    const executed = events[4] as AuditEventData;
    await tamper(`update audit_event set details = json_set(details, '$.jti', 'forged') where id = ?`, executed.id);

    const verification = expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification');
    expect(verification).toMatchObject({ ok: false, checked: 4, brokenAt: { seq: 5, id: executed.id, reason: 'hash_mismatch' } });
  });

  it('reports the event after a row deleted from the middle of the chain', async () => {
    const { tenant, events } = await tenantWithHistory();
    await tamper('delete from audit_event where id = ?', (events[2] as AuditEventData).id);

    const verification = expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification');
    const next = events[3] as AuditEventData;
    expect(verification).toMatchObject({ ok: false, checked: 2, brokenAt: { seq: next.seq, id: next.id, reason: 'missing_predecessor' } });
  });

  it('reports the new first event when the first row is deleted', async () => {
    const { tenant, events } = await tenantWithHistory();
    await tamper('delete from audit_event where id = ?', (events[0] as AuditEventData).id);

    const verification = expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification');
    expect(verification).toMatchObject({ ok: false, checked: 0, brokenAt: { seq: 2, reason: 'missing_predecessor' } });
  });

  it("is one chain per tenant: tampering with one tenant's chain leaves another's intact", async () => {
    const victim = await tenantWithHistory();
    const bystander = await tenantWithHistory();
    await tamper(`update audit_event set type = 'approved' where id = ?`, (victim.events[1] as AuditEventData).id);

    expect(expectType(await victim.tenant.auditor.verifyAuditChain(), 'AuditChainVerification').ok).toBe(false);
    expect(expectType(await bystander.tenant.auditor.verifyAuditChain(), 'AuditChainVerification')).toMatchObject({ ok: true, checked: 6 });
  });

  it('still reports the first break after more events are appended behind it', async () => {
    const { tenant, events } = await tenantWithHistory();
    await tamper(`update audit_event set actor = 'someone-else' where id = ?`, (events[0] as AuditEventData).id);
    await allowedToken(tenant.agent);

    const verification = expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification');
    expect(verification).toMatchObject({ ok: false, checked: 0, brokenAt: { seq: 1, reason: 'hash_mismatch' } });
  });
});

describe('audit events', () => {
  it('filter by approval, type and actor', async () => {
    const { tenant, events } = await tenantWithHistory();
    const other = await allowedToken(tenant.agent);
    const approvalId = events[0]?.approvalId as string;

    expect((await tenant.auditor.allAuditEvents({ approvalId })).map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await tenant.auditor.allAuditEvents({ approvalId: other.approval.id })).map((event) => event.type)).toEqual(['requested', 'token_issued']);
    expect((await tenant.auditor.allAuditEvents({ type: 'token_issued' })).map((event) => event.approvalId)).toEqual([approvalId, other.approval.id]);
    expect((await tenant.auditor.allAuditEvents({ actor: tenant.approver.subject })).map((event) => event.type)).toEqual(['decided', 'approved']);
  });

  it('page forward with a cursor, in chain order, without gaps or repeats', async () => {
    const { tenant } = await tenantWithHistory();
    await allowedToken(tenant.agent);
    await allowedToken(tenant.agent);
    const all = await tenant.auditor.allAuditEvents();
    expect(all).toHaveLength(10);

    const seen: number[] = [];
    const pageSizes: number[] = [];
    let after: string | undefined;
    for (;;) {
      const page = expectType(await tenant.auditor.auditEvents({ first: 3, ...(after !== undefined && { after }) }), 'AuditEventConnection');
      seen.push(...page.edges.map((edge) => edge.node.seq));
      pageSizes.push(page.edges.length);
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor as string;
    }
    expect(pageSizes).toEqual([3, 3, 3, 1]);
    expect(seen).toEqual(all.map((event) => event.seq));
  });
});

describe('approvals', () => {
  /** Creates `count` approvals at once, so several may share a creation millisecond. */
  async function manyApprovals(agent: GateClient, count: number): Promise<ApprovalData[]> {
    const created = await Promise.all(
      Array.from({ length: count }, (_, index) => request(agent, { ...PAYMENT_ONE_APPROVER, context: { amount: 1000 + index } })),
    );
    return created.map((payload) => payload.approval);
  }

  async function everyPage(reader: GateClient, first: number, filter: { status?: 'PENDING' | 'APPROVED' } = {}) {
    const pages: ApprovalData[][] = [];
    let after: string | undefined;
    for (;;) {
      const page = expectType(await reader.approvals({ ...filter, first, ...(after !== undefined && { after }) }), 'ApprovalConnection');
      pages.push(page.edges.map((edge) => edge.node));
      if (!page.pageInfo.hasNextPage) return pages;
      after = page.pageInfo.endCursor as string;
    }
  }

  it('page newest first with a cursor, without gaps or repeats', async () => {
    const { agent, approver } = await freshTenant(server);
    const created = await manyApprovals(agent, 7);
    const newestFirst = [...created].sort((a, b) =>
      a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : Date.parse(b.createdAt) - Date.parse(a.createdAt),
    );

    const pages = await everyPage(approver, 3);
    expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
    expect(pages.flat().map((approval) => approval.id)).toEqual(newestFirst.map((approval) => approval.id));
  });

  it('break ties between approvals created in the same millisecond by id, so no page skips or repeats one', async () => {
    const { agent, approver } = await freshTenant(server);
    const created = await manyApprovals(agent, 7);
    // A burst of requests can share a creation millisecond; make four of them do so.
    const burst = created.slice(0, 4).map((approval) => approval.id);
    await server.app.gate.whenIdle();
    const database = openDatabaseFile(server);
    try {
      const instant = Date.parse(created[0]?.createdAt as string);
      const updated = database.prepare(`update approval set created_at = ? where id in (${burst.map(() => '?').join(', ')})`).run(instant, ...burst);
      expect(updated.changes).toBe(4);
    } finally {
      database.close();
    }

    const pages = await everyPage(approver, 2);
    const listed = pages.flat();
    expect(pages.map((page) => page.length)).toEqual([2, 2, 2, 1]);
    expect(new Set(listed.map((approval) => approval.id)).size).toBe(7);
    const newestFirst = [...listed].sort((a, b) =>
      a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : Date.parse(b.createdAt) - Date.parse(a.createdAt),
    );
    expect(listed.map((approval) => approval.id)).toEqual(newestFirst.map((approval) => approval.id));
  });

  it('page within a status filter', async () => {
    const { agent, approver } = await freshTenant(server);
    const pending = await manyApprovals(agent, 3);
    await allowedToken(agent);
    await allowedToken(agent);

    const pages = await everyPage(approver, 2, { status: 'PENDING' });
    expect(pages.flat().map((approval) => approval.id).sort()).toEqual(pending.map((approval) => approval.id).sort());
    expect(pages.flat().every((approval) => approval.status === 'PENDING')).toBe(true);
  });

  it("show an agent only its own requests, and deciders all of the tenant's", async () => {
    const tenant = await freshTenant(server);
    const otherAgent = await GateClient.as(server, `other-agent-${tenant.name}`, tenant.name, ['agent']);
    const mine = await request(tenant.agent, QUICK_EMAIL);
    const theirs = await request(otherAgent, QUICK_EMAIL);

    const seenByAgent = expectType(await tenant.agent.approvals(), 'ApprovalConnection');
    expect(seenByAgent.edges.map((edge) => edge.node.id)).toEqual([mine.approval.id]);
    const seenByAuditor = expectType(await tenant.auditor.approvals(), 'ApprovalConnection');
    expect(seenByAuditor.edges.map((edge) => edge.node.id).sort()).toEqual([mine.approval.id, theirs.approval.id].sort());
  });
});
