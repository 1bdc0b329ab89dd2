import { afterAll, describe, expect, it } from 'vitest';
import {
  ApprovalAbortedError,
  ApprovalDeniedError,
  ApprovalExpiredError,
  ApprovalRejectedError,
  ApprovalTimeoutError,
  CountersignClient,
  RefusedError,
  TransportError,
  withApproval,
  type Approval,
} from '../../src/client/index.js';
import { ALLOWED_EMAIL, PENDING_PAYMENT, uniqueTenant, untilSubscribed } from '../support/clients.js';
import { useTestServer } from '../support/server.js';

// No expiry sweep during the test: the SDK itself must notice a request that lapsed.
const server = useTestServer({ expirySweepMs: 3_600_000 });
const clients: CountersignClient[] = [];

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
});

async function client(subject: string, tenant: string, roles: string[]): Promise<CountersignClient> {
  const created = new CountersignClient({ url: server.url, token: await server.token(subject, tenant, roles) });
  clients.push(created);
  return created;
}

async function team(label: string) {
  const tenant = uniqueTenant(label);
  return {
    tenant,
    agent: await client('agent-1', tenant, ['agent']),
    approver: await client('bob', tenant, ['approver']),
    admin: await client('ada', tenant, ['admin']),
  };
}

/** Calls `act` once the request is pending and the SDK's subscription is live. */
function whenWaiting(tenant: string, act: (approval: Approval) => Promise<unknown>) {
  return (approval: Approval) => {
    void untilSubscribed(server, tenant).then(() => act(approval));
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('requireApproval', () => {
  it('resolves at once with the token when the policy allows the action outright', async () => {
    const { agent } = await team('sdk-allow');
    const token = await agent.requireApproval(ALLOWED_EMAIL);
    expect(token.split('.')).toHaveLength(3);
  });

  it('resolves with the decision token when a second client approves', async () => {
    const { tenant, agent, approver } = await team('sdk-approve');
    let pending: Approval | null = null;
    const token = await agent.requireApproval(PENDING_PAYMENT, {
      timeoutMs: 10_000,
      onPending: whenWaiting(tenant, (approval) => {
        pending = approval;
        return approver.approve(approval.id, 'fine');
      }),
    });
    expect(pending).not.toBeNull();
    const approval = await agent.approval(pending!.id);
    expect(approval.status).toBe('APPROVED');
    expect(token).toBe(approval.decisionToken);
  });

  it('does not miss an approval made before its subscription is live', async () => {
    const { agent, approver } = await team('sdk-race');
    const token = await agent.requireApproval(PENDING_PAYMENT, {
      timeoutMs: 10_000,
      // Approve before the SDK even subscribes; the subscription's current state must carry it.
      onPending: (approval) => void approver.approve(approval.id),
    });
    expect(token.split('.')).toHaveLength(3);
  });

  it('rejects with REJECTED when an approver rejects the request', async () => {
    const { tenant, agent, approver } = await team('sdk-reject');
    const error = await rejection(
      agent.requireApproval(PENDING_PAYMENT, {
        timeoutMs: 10_000,
        onPending: whenWaiting(tenant, (approval) => approver.reject(approval.id, 'over budget')),
      }),
    );
    expect(error).toBeInstanceOf(ApprovalRejectedError);
    expect((error as ApprovalRejectedError).code).toBe('REJECTED');
    expect((error as ApprovalRejectedError).approval.decisions).toMatchObject([{ approver: 'bob', decision: 'REJECT', comment: 'over budget' }]);
  });

  it('rejects with EXPIRED when nobody decides before the request expires', async () => {
    const { agent } = await team('sdk-expire');
    const started = Date.now();
    const error = await rejection(agent.requireApproval({ ...PENDING_PAYMENT, ttlSeconds: 1 }, { timeoutMs: 10_000 }));
    expect(error).toBeInstanceOf(ApprovalExpiredError);
    expect((error as ApprovalExpiredError).code).toBe('EXPIRED');
    expect((error as ApprovalExpiredError).approval.status).toBe('EXPIRED');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('rejects with TIMEOUT when its own time limit passes first, leaving the request pending', async () => {
    const { agent } = await team('sdk-timeout');
    let pending: Approval | null = null;
    // Long enough for the request itself to be answered on a loaded machine: the limit must pass while it waits for a decision.
    const error = await rejection(agent.requireApproval(PENDING_PAYMENT, { timeoutMs: 2_000, onPending: (approval) => (pending = approval) }));
    expect(pending).not.toBeNull();
    expect(error).toBeInstanceOf(ApprovalTimeoutError);
    expect((error as ApprovalTimeoutError).code).toBe('TIMEOUT');
    expect((await agent.approval(pending!.id)).status).toBe('PENDING');
  });

  it('rejects with ABORTED when the caller aborts', async () => {
    const { agent } = await team('sdk-abort');
    const controller = new AbortController();
    const waiting = agent.requireApproval(PENDING_PAYMENT, { signal: controller.signal, onPending: () => controller.abort() });
    const error = await rejection(waiting);
    expect(error).toBeInstanceOf(ApprovalAbortedError);
    expect((error as ApprovalAbortedError).code).toBe('ABORTED');
  });

  it('rejects with DENIED when the policy refuses the action', async () => {
    const { tenant, agent } = await team('sdk-deny');
    const admin = await server.token('ada', tenant, ['admin']);
    const updated = await server.gql(admin, UPDATE_SETTINGS, { input: { denylist: ['delete_records'] } });
    expect(updated.data.updateTenantSettings.__typename).toBe('TenantSettings');
    const error = await rejection(agent.requireApproval({ action: 'delete_records', context: { table: 'customers' } }));
    expect(error).toBeInstanceOf(ApprovalDeniedError);
    expect((error as ApprovalDeniedError).code).toBe('DENIED');
    expect((error as ApprovalDeniedError).approval.reasons.map((reason) => reason.ruleId)).toContain('CS-110');
  });

  it('rejects with the server\'s typed error when the request itself is refused', async () => {
    const { approver } = await team('sdk-forbidden');
    const error = await rejection(approver.requireApproval(PENDING_PAYMENT));
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as RefusedError).code).toBe('FORBIDDEN');
    expect((error as RefusedError).details['requiredRoles']).toEqual(['agent']);
  });
});

describe('withApproval', () => {
  it('runs the function only after approval, redeems the token first and records success', async () => {
    const { tenant, agent, approver } = await team('sdk-with');
    const order: string[] = [];
    const result = await withApproval(
      agent,
      PENDING_PAYMENT,
      async ({ approvalId, executionId }) => {
        const approval = await agent.approval(approvalId);
        order.push(`run while ${approval.status}`);
        return { paid: true, executionId };
      },
      {
        timeoutMs: 10_000,
        describeResult: (value) => ({ paid: value.paid }),
        onPending: whenWaiting(tenant, (approval) => {
          order.push('pending');
          return approver.approve(approval.id);
        }),
      },
    );
    expect(order).toEqual(['pending', 'run while EXECUTED']);
    const completed = await agent.completeExecution({ executionId: result.executionId, outcome: 'SUCCEEDED' }).catch((error: unknown) => error);
    expect(completed).toBeInstanceOf(RefusedError);
    expect((completed as RefusedError).code).toBe('ALREADY_DECIDED');
  });

  it('records a failure and rethrows it when the function throws', async () => {
    const { agent } = await team('sdk-with-fail');
    let approvalId = '';
    const error = await rejection(
      withApproval(agent, ALLOWED_EMAIL, ({ approvalId: id }) => {
        approvalId = id;
        throw new Error('mail server down');
      }),
    );
    expect((error as Error).message).toBe('mail server down');
    expect((await agent.approval(approvalId)).status).toBe('FAILED');
  });

  it('never runs the function when the request is rejected', async () => {
    const { tenant, agent, approver } = await team('sdk-with-reject');
    let ran = false;
    const error = await rejection(
      withApproval(agent, PENDING_PAYMENT, () => (ran = true), {
        timeoutMs: 10_000,
        onPending: whenWaiting(tenant, (approval) => approver.reject(approval.id)),
      }),
    );
    expect(error).toBeInstanceOf(ApprovalRejectedError);
    expect(ran).toBe(false);
  });
});

describe('CountersignClient', () => {
  it('reports typed refusals with the server\'s stable codes', async () => {
    const { agent, approver } = await team('sdk-codes');
    const { approval } = await agent.requestApproval(PENDING_PAYMENT);
    await approver.approve(approval.id);
    const again = await rejection(approver.approve(approval.id));
    expect(again).toMatchObject({ code: 'ALREADY_DECIDED', details: { reason: 'not_pending', status: 'APPROVED' } });
    const missing = await rejection(approver.approval('00000000-0000-0000-0000-000000000000'));
    expect(missing).toMatchObject({ code: 'NOT_FOUND', details: { entity: 'Approval' } });
    const tampered = await rejection(agent.execute({ token: 'a.b.c', action: 'payment', context: { amount: 1500 } }));
    expect(tampered).toMatchObject({ code: 'TOKEN_INVALID', details: { reason: 'malformed' } });
  });

  it('reports a bad caller token as UNAUTHENTICATED and an unreachable server as TRANSPORT', async () => {
    const forged = new CountersignClient({ url: server.url, token: 'not-a-jwt' });
    expect(await rejection(forged.approvals())).toMatchObject({ code: 'UNAUTHENTICATED' });
    const nowhere = new CountersignClient({ url: 'http://127.0.0.1:9/', token: 'x', requestTimeoutMs: 2_000 });
    const error = await rejection(nowhere.approvals());
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('TRANSPORT');
    const unreachableStream = await rejection(nowhere.pendingApprovals().next());
    expect(unreachableStream).toBeInstanceOf(TransportError);
    await nowhere.close();
  });

  it('streams pending approvals, starting with the current ones when asked', async () => {
    const { tenant, agent, approver } = await team('sdk-stream');
    const first = await agent.requestApproval(PENDING_PAYMENT);
    const stream = approver.pendingApprovals({ current: true });
    try {
      expect(await stream.next()).toMatchObject({ value: { kind: 'CURRENT', approval: { id: first.approval.id } } });
      await untilSubscribed(server, tenant);
      const second = await agent.requestApproval(PENDING_PAYMENT);
      expect(await stream.next()).toMatchObject({ value: { kind: 'ADDED', approval: { id: second.approval.id } } });
    } finally {
      await stream.return?.();
    }
  });
});

const UPDATE_SETTINGS = /* GraphQL */ `
  mutation ($input: UpdateTenantSettingsInput!) {
    updateTenantSettings(input: $input) { __typename ... on Error { code message } }
  }
`;
