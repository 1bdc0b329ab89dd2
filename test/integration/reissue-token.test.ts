import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountersignClient, RefusedError } from '../../src/client/index.js';
import { PENDING_PAYMENT, decide, uniqueTenant, untilSubscribed, wsSubscribe } from '../support/clients.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SETTINGS = `mutation ($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { __typename } }`;

const refusal = async (promise: Promise<unknown>): Promise<RefusedError> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RefusedError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('reissueToken', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  /** A tenant whose tokens live 60 s within requests that stay open for an hour, and one approved request. */
  async function approvedWithShortToken() {
    const tenant = uniqueTenant('reissue');
    const admin = await server.token('root', tenant, ['admin']);
    expect((await server.gql(admin, SETTINGS, { input: { tokenTtlSeconds: 60, requestTtlSeconds: 3600 } })).data?.updateTenantSettings.__typename).toBe(
      'TenantSettings',
    );
    const agentToken = await server.token('bot', tenant, ['agent']);
    const agent = new CountersignClient({ url: server.url, token: agentToken });
    const requested = await agent.requestApproval(PENDING_PAYMENT);
    expect(await decide(server, await server.token('alice', tenant, ['approver']), requested.approval.id, 'APPROVE')).toBe('APPROVED');
    const approval = await agent.approval(requested.approval.id);
    return { tenant, agent, approval, oldToken: approval.decisionToken as string };
  }

  it('gives the requester a fresh token once the first expired unused, audited, and the old one never executes', async () => {
    const { tenant, agent, approval, oldToken } = await approvedWithShortToken();
    expect(oldToken).toBeTruthy();

    // While the token is valid there is nothing to reissue.
    expect((await refusal(agent.reissueToken(approval.id))).code).toBe('INVALID_INPUT');

    server.clock.advance(61_000);
    const execution = { action: PENDING_PAYMENT.action, context: PENDING_PAYMENT.context };
    expect((await refusal(agent.execute({ token: oldToken, ...execution }))).code).toBe('TOKEN_EXPIRED');

    // Another agent of the tenant does not even see the request; an approver may not ask.
    const other = new CountersignClient({ url: server.url, token: await server.token('other-bot', tenant, ['agent']) });
    expect((await refusal(other.reissueToken(approval.id))).code).toBe('NOT_FOUND');
    const approver = new CountersignClient({ url: server.url, token: await server.token('alice', tenant, ['approver']) });
    expect((await refusal(approver.reissueToken(approval.id))).code).toBe('FORBIDDEN');

    const reissued = await agent.reissueToken(approval.id);
    expect(reissued.token).not.toBe(oldToken);
    expect(reissued.approval.status).toBe('APPROVED');
    expect(new Date(reissued.approval.tokenExpiresAt as string).getTime()).toBeGreaterThan(server.clock.now().getTime());

    const auditor = new CountersignClient({ url: server.url, token: await server.token('audit', tenant, ['auditor']) });
    const events = [];
    for await (const event of auditor.allAuditEvents({ approvalId: approval.id })) events.push(event);
    expect(events.map((event) => event.type).slice(-1)).toEqual(['token_reissued']);
    const reissuedEvent = events[events.length - 1]!;
    const oldJti = JSON.parse(Buffer.from(oldToken.split('.')[1]!, 'base64url').toString()).jti as string;
    expect(reissuedEvent.details).toMatchObject({ previousJti: oldJti });
    expect(reissuedEvent.actor).toBe('bot');

    expect((await refusal(agent.execute({ token: oldToken, ...execution }))).code).toMatch(/^TOKEN_(EXPIRED|INVALID)$/);
    const executed = await agent.execute({ token: reissued.token, ...execution });
    expect(executed.execution?.status).toBe('STARTED');
    // Executed: there is no token to reissue any more.
    expect((await refusal(agent.reissueToken(approval.id))).code).toBe('INVALID_INPUT');
    expect((await auditor.verifyAuditChain()).ok).toBe(true);
  });

  it('sends the fresh token to the requester following the approval, and to nobody else', async () => {
    const { tenant, agent, approval } = await approvedWithShortToken();
    const updated = 'subscription ($id: ID!) { approvalUpdated(id: $id) { kind token approval { id decisionToken } } }';
    const requester = wsSubscribe(server, await server.token('bot', tenant, ['agent']), updated, { id: approval.id });
    const auditor = wsSubscribe(server, await server.token('audit', tenant, ['auditor']), updated, { id: approval.id });
    try {
      await untilSubscribed(server, tenant, 2);
      server.clock.advance(61_000);
      const reissued = await agent.reissueToken(approval.id);
      expect((await requester.nextData()).approvalUpdated).toEqual({
        kind: 'reissued',
        token: reissued.token,
        approval: { id: approval.id, decisionToken: reissued.token },
      });
      expect((await auditor.nextData()).approvalUpdated).toEqual({ kind: 'reissued', token: null, approval: { id: approval.id, decisionToken: null } });
    } finally {
      await Promise.all([requester.close(), auditor.close()]);
    }
  });

  it('refuses once the request\'s own window has closed: the request must be asked again', async () => {
    const { agent, approval } = await approvedWithShortToken();
    server.clock.advance(3601_000);
    const refused = await refusal(agent.reissueToken(approval.id));
    expect(refused.code).toBe('EXPIRED');
  });
});
