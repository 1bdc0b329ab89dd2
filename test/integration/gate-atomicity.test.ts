/**
 * A call that fails changes nothing: every job of a group-commit batch runs in its own savepoint,
 * input is validated before any write, and a failed audit insert fails the call and leaves no row
 * behind. Attacks are sent the way an agent would send them: raw JSON over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../support/server.js';
import { allowedToken, EXECUTE, COMPLETE_EXECUTION, DECIDE, REQUEST_APPROVAL, executionOf, expectError, expectType, field, freshTenant, openDatabaseFile, PAYMENT_ONE_APPROVER, QUICK_EMAIL, request } from '../support/gate.js';
import type { GateClient, Tenant } from '../support/gate.js';

const server = useTestServer({ expirySweepMs: 3_600_000 });

/** POSTs a hand-written JSON body, so that escapes such as a lone `\ud800` reach the server's parser as sent. */
async function rawGraphQL(client: GateClient, body: string): Promise<any> {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${client.bearer}` },
    body,
  });
  return response.json();
}

function rawBody(query: string, input: Record<string, unknown>, rawMembers: Record<string, string>): string {
  const members = Object.entries(rawMembers).map(([name, json]) => `,${JSON.stringify(name)}:${json}`).join('');
  const inputJson = JSON.stringify(input).slice(0, -1) + members + '}';
  return `{"query":${JSON.stringify(query)},"variables":{"input":${inputJson}}}`;
}

function rows(sql: string, ...params: unknown[]): any[] {
  const database = openDatabaseFile(server);
  try {
    return database.prepare(sql).all(...params);
  } finally {
    database.close();
  }
}

function exec(sql: string): void {
  const database = openDatabaseFile(server);
  try {
    database.prepare(sql).run();
  } finally {
    database.close();
  }
}

/** Makes every audit insert of `tenant` fail, as a full disk or a broken audit store would. */
function breakAuditOf(tenant: string): () => void {
  const trigger = `fail_audit_${tenant.replace(/\W/g, '_')}`;
  exec(`create trigger ${trigger} before insert on audit_event when new.tenant = '${tenant}' begin select raise(abort, 'audit store unavailable'); end`);
  return () => exec(`drop trigger ${trigger}`);
}

async function expectChainIntact(tenant: Tenant): Promise<void> {
  const verification = expectType(await tenant.auditor.verifyAuditChain(), 'AuditChainVerification');
  expect(verification.ok, JSON.stringify(verification)).toBe(true);
}

function deep(levels: number): string {
  return '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

describe('an execution with a result that cannot be audited', () => {
  const badResults: [string, string][] = [
    ['a lone high surrogate', '{"note":"\\ud800"}'],
    // Deeper than a result may be (64), shallower than the request body's own limit (100).
    ['nesting 80 deep', deep(80)],
  ];

  for (const [what, resultJson] of badResults) {
    it(`is refused as INVALID_INPUT, with ${what}, and consumes nothing`, async () => {
      const tenant = await freshTenant(server, 'atom');
      const { token, approval } = await allowedToken(tenant.agent);
      const body = rawBody(EXECUTE, executionOf(token, QUICK_EMAIL, { outcome: 'SUCCEEDED' }) as unknown as Record<string, unknown>, {
        result: resultJson,
      });
      const refused = field(await rawGraphQL(tenant.agent, body), 'execute') as any;
      expect(expectError(refused, 'INVALID_INPUT').field).toBe('result');

      const after = expectType(await tenant.agent.approval(approval.id), 'Approval');
      expect(after.status).toBe('APPROVED');
      expect(rows('select id from execution where approval_id = ?', approval.id)).toEqual([]);
      const types = (await tenant.auditor.allAuditEvents({ approvalId: approval.id })).map((event) => event.type);
      expect(types).toEqual(['requested', 'token_issued']);

      // The token was not consumed: a retry with a well-formed result executes.
      const retried = expectType(
        await tenant.agent.execute(executionOf(token, QUICK_EMAIL, { outcome: 'SUCCEEDED', result: { note: 'sent' } })),
        'ExecutePayload',
      );
      expect(retried.execution?.status).toBe('SUCCEEDED');
      await expectChainIntact(tenant);
    });
  }

  it('is refused when reported with completeExecution(FAILED), leaving the execution STARTED', async () => {
    const tenant = await freshTenant(server, 'atom');
    const { token, approval } = await allowedToken(tenant.agent);
    const started = expectType(await tenant.agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
    const executionId = started.execution?.id as string;
    const body = rawBody(COMPLETE_EXECUTION, { executionId, outcome: 'FAILED' }, { result: '{"x":"\\udfff"}' });
    const refused = field(await rawGraphQL(tenant.agent, body), 'completeExecution') as any;
    expect(expectError(refused, 'INVALID_INPUT').field).toBe('result');

    expect(rows('select status from execution where id = ?', executionId)).toEqual([{ status: 'STARTED' }]);
    expect(expectType(await tenant.agent.approval(approval.id), 'Approval').status).toBe('EXECUTED');
    const completed = expectType(await tenant.agent.completeExecution(executionId, 'FAILED', { x: 'timeout' }), 'ExecutePayload');
    expect(completed.execution?.status).toBe('FAILED');
    await expectChainIntact(tenant);
  });

  it('is refused for a comment or an agent name with a lone surrogate, before any vote or request is written', async () => {
    const tenant = await freshTenant(server, 'atom');
    const pending = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
    const vote = rawBody(DECIDE, { approvalId: pending.approval.id, decision: 'APPROVE' }, { comment: '"ok \\udc00"' });
    expect(expectError(field(await rawGraphQL(tenant.approver, vote), 'decide') as any, 'INVALID_INPUT').field).toBe('comment');
    expect(rows('select id from vote where approval_id = ?', pending.approval.id)).toEqual([]);

    const requested = rawBody(REQUEST_APPROVAL, { ...QUICK_EMAIL }, { agent: '"bot \\ud800"' });
    expect(expectError(field(await rawGraphQL(tenant.agent, requested), 'requestApproval') as any, 'INVALID_INPUT').field).toBe('agent');
    expect(rows('select id from approval where tenant = ?', tenant.name)).toHaveLength(1);
    await expectChainIntact(tenant);
  });
});

describe('a failed audit insert', () => {
  it('fails requestApproval and leaves no approval behind', async () => {
    const tenant = await freshTenant(server, 'audit-down');
    const repair = breakAuditOf(tenant.name);
    try {
      const body = await server.gql(tenant.agent.bearer, REQUEST_APPROVAL, { input: PAYMENT_ONE_APPROVER });
      expect(body.errors?.[0]?.message).toBe('Unexpected error.');
      const allowed = await server.gql(tenant.agent.bearer, REQUEST_APPROVAL, { input: QUICK_EMAIL });
      expect(allowed.errors?.[0]?.message).toBe('Unexpected error.');
    } finally {
      repair();
    }
    expect(rows('select id from approval where tenant = ?', tenant.name)).toEqual([]);
    expect(rows('select id from audit_event where tenant = ?', tenant.name)).toEqual([]);
  });

  it('fails decide and leaves no vote behind, the request still pending', async () => {
    const tenant = await freshTenant(server, 'audit-down');
    const pending = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
    const repair = breakAuditOf(tenant.name);
    try {
      const body = await server.gql(tenant.approver.bearer, DECIDE, { input: { approvalId: pending.approval.id, decision: 'APPROVE' } });
      expect(body.errors?.[0]?.message).toBe('Unexpected error.');
    } finally {
      repair();
    }
    expect(rows('select id from vote where approval_id = ?', pending.approval.id)).toEqual([]);
    expect(rows('select status, token_jti from approval where id = ?', pending.approval.id)).toEqual([{ status: 'PENDING', token_jti: null }]);
    expectType(await tenant.approver.decide(pending.approval.id), 'Approval');
    await expectChainIntact(tenant);
  });

  it('fails execute and leaves no execution behind, the token still unconsumed', async () => {
    const tenant = await freshTenant(server, 'audit-down');
    const { token, approval } = await allowedToken(tenant.agent);
    const repair = breakAuditOf(tenant.name);
    try {
      const body = await server.gql(tenant.agent.bearer, EXECUTE, { input: executionOf(token, QUICK_EMAIL, { outcome: 'SUCCEEDED' }) });
      expect(body.errors?.[0]?.message).toBe('Unexpected error.');
    } finally {
      repair();
    }
    expect(rows('select id from execution where approval_id = ?', approval.id)).toEqual([]);
    expect(rows('select status from approval where id = ?', approval.id)).toEqual([{ status: 'APPROVED' }]);
    const executed = expectType(await tenant.agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
    expect(executed.execution?.status).toBe('STARTED');
    await expectChainIntact(tenant);
  });

  it('fails a refusal that must be audited (a replay) rather than refusing it unrecorded', async () => {
    const tenant = await freshTenant(server, 'audit-down');
    const { token } = await allowedToken(tenant.agent);
    expectType(await tenant.agent.execute(executionOf(token, QUICK_EMAIL)), 'ExecutePayload');
    const before = rows('select count(*) as n from audit_event where tenant = ?', tenant.name);
    const repair = breakAuditOf(tenant.name);
    try {
      const body = await server.gql(tenant.agent.bearer, EXECUTE, { input: executionOf(token, QUICK_EMAIL) });
      expect(body.errors?.[0]?.message).toBe('Unexpected error.');
    } finally {
      repair();
    }
    expect(rows('select count(*) as n from audit_event where tenant = ?', tenant.name)).toEqual(before);
    expectError(await tenant.agent.execute(executionOf(token, QUICK_EMAIL)), 'TOKEN_REPLAYED');
    const types = (await tenant.auditor.allAuditEvents()).map((event) => event.type);
    expect(types.filter((type) => type === 'replay_refused')).toHaveLength(1);
    await expectChainIntact(tenant);
  });

  it('fails only its own call when it shares a commit with other tenants\' requests', async () => {
    const broken = await freshTenant(server, 'audit-down');
    const healthy = await freshTenant(server, 'audit-up');
    const repair = breakAuditOf(broken.name);
    let outcomes: { tenant: string; ok: boolean }[];
    try {
      // Sent together, so that the committer groups them into shared transactions.
      outcomes = await Promise.all(
        Array.from({ length: 24 }, async (_, index) => {
          const tenant = index % 2 === 0 ? broken : healthy;
          const body = await server.gql(tenant.agent.bearer, REQUEST_APPROVAL, { input: { ...PAYMENT_ONE_APPROVER, idempotencyKey: `k-${index}` } });
          return { tenant: tenant.name, ok: !body.errors && body.data?.requestApproval?.__typename === 'RequestApprovalPayload' };
        }),
      );
    } finally {
      repair();
    }
    expect(outcomes.filter((outcome) => outcome.tenant === broken.name).every((outcome) => !outcome.ok)).toBe(true);
    expect(outcomes.filter((outcome) => outcome.tenant === healthy.name).every((outcome) => outcome.ok)).toBe(true);
    expect(rows('select id from approval where tenant = ?', broken.name)).toEqual([]);
    expect(rows('select id from approval where tenant = ?', healthy.name)).toHaveLength(12);
    const events = await healthy.auditor.allAuditEvents();
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
    await expectChainIntact(healthy);
  });
});
