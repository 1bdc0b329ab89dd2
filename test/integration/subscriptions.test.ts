import { afterAll, describe, expect, it } from 'vitest';
import { DECISION_TOKEN_TYPE } from '../../src/domain/decision-token.js';
import {
  EventQueue,
  decide,
  request,
  sseSubscribe,
  uniqueTenant,
  untilSubscribed,
  wsSubscribe,
} from '../support/clients.js';
import { useTestServer } from '../support/server.js';

const PENDING_APPROVALS = /* GraphQL */ `
  subscription ($current: Boolean) {
    pendingApprovals(current: $current) {
      kind
      approval { id status requester remainingApprovals requiredApprovals decisionToken decisions { approver decision comment } }
    }
  }
`;

const APPROVAL_UPDATED = /* GraphQL */ `
  subscription ($id: ID!, $current: Boolean) {
    approvalUpdated(id: $id, current: $current) {
      kind
      previousStatus
      token
      approval { id status decisionToken remainingApprovals }
    }
  }
`;

const APPROVAL_QUERY = /* GraphQL */ `
  query ($id: ID!) { approval(id: $id) { __typename ... on Approval { id status } } }
`;

const server = useTestServer({ expirySweepMs: 100 });
const open: EventQueue[] = [];

/** Every subscription a test opens is closed after the file, even when the test fails. */
function track<T extends EventQueue>(queue: T): T {
  open.push(queue);
  return queue;
}

afterAll(async () => {
  await Promise.all(open.map((queue) => queue.close()));
});

async function actors(tenant: string) {
  return {
    agent: await server.token('agent-1', tenant, ['agent']),
    alice: await server.token('alice', tenant, ['approver']),
    bob: await server.token('bob', tenant, ['approver']),
  };
}

describe('pendingApprovals over graphql-ws', () => {
  it('shows an approver a request when it becomes pending and when an approval takes it out of pending', async () => {
    const tenant = uniqueTenant('ws-approve');
    const { agent, alice, bob } = await actors(tenant);
    const events = track(wsSubscribe(server, alice, PENDING_APPROVALS));
    await untilSubscribed(server, tenant);

    const { id } = await request(server, agent);
    const added = (await events.nextData()).pendingApprovals;
    expect(added).toMatchObject({
      kind: 'ADDED',
      approval: { id, status: 'PENDING', requester: 'agent-1', requiredApprovals: 1, remainingApprovals: 1, decisions: [] },
    });

    await decide(server, bob, id, 'APPROVE', 'within budget');
    const removed = (await events.nextData()).pendingApprovals;
    expect(removed).toMatchObject({
      kind: 'REMOVED',
      approval: { id, status: 'APPROVED', remainingApprovals: 0, decisions: [{ approver: 'bob', decision: 'APPROVE', comment: 'within budget' }] },
    });
    // The token is the requester's alone.
    expect(removed.approval.decisionToken).toBeNull();
  });

  it('takes a request out of pending when it is rejected or expires', async () => {
    const tenant = uniqueTenant('ws-leave');
    const { agent, alice, bob } = await actors(tenant);
    const events = track(wsSubscribe(server, alice, PENDING_APPROVALS));
    await untilSubscribed(server, tenant);

    const rejected = await request(server, agent);
    expect((await events.nextData()).pendingApprovals).toMatchObject({ kind: 'ADDED', approval: { id: rejected.id } });
    await decide(server, bob, rejected.id, 'REJECT', 'not this quarter');
    expect((await events.nextData()).pendingApprovals).toMatchObject({ kind: 'REMOVED', approval: { id: rejected.id, status: 'REJECTED' } });

    const expiring = await request(server, agent, { action: 'payment', context: { amount: 1500 }, ttlSeconds: 1 });
    expect((await events.nextData()).pendingApprovals).toMatchObject({ kind: 'ADDED', approval: { id: expiring.id } });
    server.clock.advance(1100);
    expect((await events.nextData(5_000)).pendingApprovals).toMatchObject({ kind: 'REMOVED', approval: { id: expiring.id, status: 'EXPIRED' } });
  });

  it('shows another tenant\'s approver nothing', async () => {
    const tenant = uniqueTenant('ws-home');
    const otherTenant = uniqueTenant('ws-other');
    const { agent, alice, bob } = await actors(tenant);
    const outsider = await server.token('mallory', otherTenant, ['approver', 'admin']);
    const mine = track(wsSubscribe(server, alice, PENDING_APPROVALS));
    const theirs = track(wsSubscribe(server, outsider, PENDING_APPROVALS));
    await untilSubscribed(server, tenant);
    await untilSubscribed(server, otherTenant);

    const { id } = await request(server, agent);
    await mine.nextData();
    await decide(server, bob, id, 'APPROVE');
    await mine.nextData();
    await theirs.expectNothing(300);
  });

  it('does not show a requester its own request, which it may not decide', async () => {
    const tenant = uniqueTenant('ws-self');
    const both = await server.token('dual', tenant, ['agent', 'approver']);
    const { alice } = await actors(tenant);
    const own = track(wsSubscribe(server, both, PENDING_APPROVALS));
    const colleague = track(wsSubscribe(server, alice, PENDING_APPROVALS));
    await untilSubscribed(server, tenant, 2);

    const { id } = await request(server, both);
    expect((await colleague.nextData()).pendingApprovals).toMatchObject({ kind: 'ADDED', approval: { id } });
    await own.expectNothing(300);
  });

  it('starts with the requests already pending when asked for the current state', async () => {
    const tenant = uniqueTenant('ws-current');
    const { agent, alice } = await actors(tenant);
    const { id } = await request(server, agent);
    const events = track(wsSubscribe(server, alice, PENDING_APPROVALS, { current: true }));
    expect((await events.nextData()).pendingApprovals).toMatchObject({ kind: 'CURRENT', approval: { id, status: 'PENDING' } });
  });

  it('publishes only after the change has committed: the request can be read when its event arrives', async () => {
    const tenant = uniqueTenant('ws-commit');
    const { agent, alice } = await actors(tenant);
    const events = track(wsSubscribe(server, alice, PENDING_APPROVALS));
    await untilSubscribed(server, tenant);

    await Promise.all([request(server, agent), request(server, agent), request(server, agent)]);
    for (let index = 0; index < 3; index++) {
      const { approval } = (await events.nextData()).pendingApprovals;
      const read = await server.gql(alice, APPROVAL_QUERY, { id: approval.id });
      expect(read.data.approval).toEqual({ __typename: 'Approval', id: approval.id, status: 'PENDING' });
    }
  });

  it('stops listening as soon as the client unsubscribes, with no change needed to wake it', async () => {
    const tenant = uniqueTenant('ws-unsubscribe');
    const { alice } = await actors(tenant);
    const events = wsSubscribe(server, alice, PENDING_APPROVALS);
    await untilSubscribed(server, tenant);
    await events.close();
    const deadline = Date.now() + 2_000;
    while (server.app.changes.subscriberCount(tenant) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(server.app.changes.subscriberCount(tenant)).toBe(0);
  });

  it('refuses callers that are not approvers, and unauthenticated connections', async () => {
    const tenant = uniqueTenant('ws-refuse');
    const { agent } = await actors(tenant);
    const refused = track(wsSubscribe(server, agent, PENDING_APPROVALS));
    expect((await refused.next()).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    // Without a valid token the connection itself is refused: graphql-ws closes it with 4403 Forbidden.
    const anonymous = track(wsSubscribe(server, null, PENDING_APPROVALS));
    expect((await anonymous.next()).errors?.[0]?.message).toBe('Forbidden');
    const forged = track(wsSubscribe(server, 'not-a-jwt', PENDING_APPROVALS));
    expect((await forged.next()).errors?.[0]?.message).toBe('Forbidden');
  });
});

describe('approvalUpdated over graphql-ws', () => {
  it('gives the requester its decision token with the approval, and approvers the change without it', async () => {
    const tenant = uniqueTenant('ws-updated');
    const { agent, alice, bob } = await actors(tenant);
    const { id } = await request(server, agent);
    const requester = track(wsSubscribe(server, agent, APPROVAL_UPDATED, { id }));
    const approver = track(wsSubscribe(server, alice, APPROVAL_UPDATED, { id }));
    await untilSubscribed(server, tenant, 2);

    await decide(server, bob, id, 'APPROVE');
    const forRequester = (await requester.nextData()).approvalUpdated;
    expect(forRequester).toMatchObject({ kind: 'approved', previousStatus: 'PENDING', approval: { id, status: 'APPROVED' } });
    expect(forRequester.token).toEqual(expect.any(String));
    expect(forRequester.approval.decisionToken).toBe(forRequester.token);
    // The token the vote signed, sent as the change was published, is the one the store re-creates.
    const read = await server.gql(agent, 'query ($id: ID!) { approval(id: $id) { ... on Approval { decisionToken } } }', { id });
    expect(read.data.approval.decisionToken).toBe(forRequester.token);
    const header = JSON.parse(Buffer.from(forRequester.token.split('.')[0], 'base64url').toString('utf8'));
    expect(header.typ).toBe(DECISION_TOKEN_TYPE);

    const forApprover = (await approver.nextData()).approvalUpdated;
    expect(forApprover).toMatchObject({ kind: 'approved', token: null, approval: { id, status: 'APPROVED', decisionToken: null } });
  });

  it('starts with the approval as it stands, token included, for a requester that subscribes late', async () => {
    const tenant = uniqueTenant('ws-late');
    const { agent, bob } = await actors(tenant);
    const { id } = await request(server, agent);
    await decide(server, bob, id, 'APPROVE');
    const late = track(wsSubscribe(server, agent, APPROVAL_UPDATED, { id, current: true }));
    const first = (await late.nextData()).approvalUpdated;
    expect(first).toMatchObject({ kind: 'current', approval: { id, status: 'APPROVED' } });
    expect(first.token).toEqual(expect.any(String));
  });

  it('refuses an approval of another tenant as not found', async () => {
    const tenant = uniqueTenant('ws-hidden');
    const { agent } = await actors(tenant);
    const { id } = await request(server, agent);
    const outsider = await server.token('mallory', uniqueTenant('ws-outside'), ['approver', 'auditor']);
    const refused = track(wsSubscribe(server, outsider, APPROVAL_UPDATED, { id }));
    expect((await refused.next()).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });
});

describe('subscriptions over Server-Sent Events', () => {
  it('streams pending approvals to an approver authenticated by the bearer header', async () => {
    const tenant = uniqueTenant('sse');
    const { agent, alice, bob } = await actors(tenant);
    const events = track(await sseSubscribe(server, alice, PENDING_APPROVALS));
    expect(events.status).toBe(200);
    expect(events.contentType).toContain('text/event-stream');

    const { id } = await request(server, agent);
    expect((await events.nextData()).pendingApprovals).toMatchObject({ kind: 'ADDED', approval: { id, status: 'PENDING' } });
    await decide(server, bob, id, 'REJECT');
    expect((await events.nextData()).pendingApprovals).toMatchObject({ kind: 'REMOVED', approval: { id, status: 'REJECTED' } });
  });

  it('applies the same authentication and tenant checks as queries', async () => {
    const tenant = uniqueTenant('sse-checks');
    const { agent, alice } = await actors(tenant);
    const anonymous = track(await sseSubscribe(server, null, PENDING_APPROVALS));
    expect((await anonymous.next()).errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');

    const outsider = await server.token('mallory', uniqueTenant('sse-outside'), ['approver']);
    const theirs = track(await sseSubscribe(server, outsider, PENDING_APPROVALS));
    const mine = track(await sseSubscribe(server, alice, PENDING_APPROVALS));
    const { id } = await request(server, agent);
    expect((await mine.nextData()).pendingApprovals.approval.id).toBe(id);
    await theirs.expectNothing(300);
  });
});
