import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '../../src/app/rate-limits.js';
import { PENDING_PAYMENT, decide, request, uniqueTenant } from '../support/clients.js';
import { runCli, startCli } from '../support/cli.js';
import { useTestServer } from '../support/server.js';

// The audit export test makes 205 requests of one agent at once, as a load test would.
const server = useTestServer({ rateLimits: { ...DEFAULT_RATE_LIMITS, enabled: false } });

const run = (args: string[], token: string | null, env: Record<string, string> = {}) => runCli(server, args, token, env);

async function until(condition: () => boolean, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function team(label: string) {
  const tenant = uniqueTenant(label);
  return {
    tenant,
    agent: await server.token('agent-1', tenant, ['agent']),
    approver: await server.token('bob', tenant, ['approver']),
    auditor: await server.token('carol', tenant, ['auditor']),
  };
}

describe('countersign approver commands', () => {
  it('lists pending approvals for humans and as JSON', async () => {
    const { agent, approver } = await team('cli-list');
    const first = await request(server, agent, { ...PENDING_PAYMENT, resource: 'invoice-1' });
    const second = await request(server, agent, { ...PENDING_PAYMENT, resource: 'invoice-2' });
    const [human, json] = await Promise.all([run(['approvals', 'list'], approver), run(['approvals', 'list', '--json'], approver)]);

    expect(human.code).toBe(0);
    expect(human.stdout).toContain('PENDING APPROVALS');
    expect(human.stdout).toContain(first.id);
    expect(human.stdout).toContain('payment (invoice-2)');
    expect(human.stdout).toContain('0 of 1 (roles: approver)');
    expect(human.stdout).toContain('Total: 2 pending approvals');
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as { id: string; status: string }[];
    expect(listed.map((approval) => approval.id)).toEqual([second.id, first.id]);
    expect(listed.every((approval) => approval.status === 'PENDING')).toBe(true);
  });

  it('approves and rejects with a reason, and lists them in the history', async () => {
    const { agent, approver } = await team('cli-decide');
    const approved = await request(server, agent);
    const rejected = await request(server, agent);
    const [approval, rejection] = await Promise.all([
      run(['approve', approved.id, '--reason', 'Business critical'], approver),
      run(['reject', rejected.id, '--reason', 'Budget exceeded'], approver),
    ]);
    expect(approval).toMatchObject({ code: 0 });
    expect(approval.stdout).toContain(`Approved: ${approved.id}`);
    expect(approval.stdout).toContain('Reason:     Business critical');
    expect(rejection.code).toBe(0);
    expect(rejection.stdout).toContain(`Rejected: ${rejected.id}`);

    const history = await run(['history', '--json'], approver);
    const decided = JSON.parse(history.stdout) as { id: string; status: string; decisions: { approver: string; comment: string }[] }[];
    expect(decided.map(({ id, status, decisions }) => ({ id, status, decisions: decisions.map(({ approver, comment }) => ({ approver, comment })) }))).toEqual([
      { id: rejected.id, status: 'REJECTED', decisions: [{ approver: 'bob', comment: 'Budget exceeded' }] },
      { id: approved.id, status: 'APPROVED', decisions: [{ approver: 'bob', comment: 'Business critical' }] },
    ]);
  });

  it('approves several ids in one command, recording the others when one is refused', async () => {
    const { agent, approver } = await team('cli-batch');
    const first = await request(server, agent);
    const second = await request(server, agent);
    const result = await run(['approve', first.id, 'no-such-id', second.id, '--reason', 'batch', '--json'], approver);
    expect(result.code).toBe(1);
    const outcomes = JSON.parse(result.stdout) as { approvalId: string; ok: boolean; approval?: { status: string }; error?: { code: string } }[];
    expect(outcomes.map((outcome) => [outcome.approvalId, outcome.ok ? outcome.approval?.status : outcome.error?.code])).toEqual([
      [first.id, 'APPROVED'],
      ['no-such-id', 'NOT_FOUND'],
      [second.id, 'APPROVED'],
    ]);
  });

  it('watches pending approvals live until interrupted', async () => {
    const { agent, approver } = await team('cli-watch');
    const existing = await request(server, agent);
    const watcher = startCli(server, ['watch', '--json'], approver);
    const events = () =>
      watcher.output.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { kind: string; approval: { id: string; status: string } });
    // The pending request comes first, read once the subscription listens: from then on nothing is missed.
    await until(() => events().length >= 1, 'the current pending approval');
    expect(events()[0]).toMatchObject({ kind: 'CURRENT', approval: { id: existing.id } });

    const added = await request(server, agent);
    await until(() => events().length >= 2, 'the new approval');
    expect(events()[1]).toMatchObject({ kind: 'ADDED', approval: { id: added.id } });
    await decide(server, approver, existing.id, 'APPROVE');
    await until(() => events().length >= 3, 'the approval leaving pending');
    expect(events()[2]).toMatchObject({ kind: 'REMOVED', approval: { id: existing.id, status: 'APPROVED' } });

    watcher.child.kill('SIGINT');
    expect((await watcher.done).code).toBe(0);
  });
});

describe('countersign audit commands', () => {
  it('exports the audit events of a date range as JSON lines, paging through them all', async () => {
    const { tenant, auditor } = await team('cli-audit');
    const before = new Date(Date.now() - 1_000).toISOString();
    // More events than one page (200) holds; made through the gate itself, as HTTP adds nothing here.
    const agent = { subject: 'agent-1', tenant, roles: ['agent'] };
    await Promise.all(
      Array.from({ length: 205 }, (_, index) => server.app.gate.requestApproval(agent, { ...PENDING_PAYMENT, resource: `invoice-${index}` })),
    );
    const after = new Date(Date.now() + 1_000).toISOString();

    const [all, none, verified] = await Promise.all([
      run(['audit', 'export', '--since', before, '--until', after], auditor),
      run(['audit', 'export', '--since', after], auditor),
      run(['audit', 'verify'], auditor),
    ]);
    expect(all.code).toBe(0);
    const events = all.stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number; type: string; occurredAt: string });
    expect(events).toHaveLength(205);
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 205 }, (_, index) => index + 1));
    expect(events.every((event) => event.type === 'requested' && event.occurredAt >= before && event.occurredAt < after)).toBe(true);
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('Audit chain links intact: 205 event(s) verified.');
    expect(verified.stdout).toContain('Audit verified.');
  });
});

describe('countersign exit codes', () => {
  it('exits 2 on usage errors, 1 on a refusal and 3 when the server cannot be reached', async () => {
    const { approver } = await team('cli-codes');
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const [badStatus, forbidden, unreachable] = await Promise.all([
      run(['approvals', 'list', '--status', 'maybe'], approver),
      run(['audit', 'export'], approver),
      run(['approvals', 'list', '--url', `http://127.0.0.1:${closedPort}`], approver),
    ]);
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toContain('--status must be one of');
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('FORBIDDEN');
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('Could not reach Countersign');
  });
});
