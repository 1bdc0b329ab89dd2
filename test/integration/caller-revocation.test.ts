/**
 * A subscription lives no longer than its caller's token: when the identity provider withdraws
 * the key that signed it (the key was compromised, or its holder removed), the caller's live
 * subscriptions end, over graphql-ws (close 4403) and SSE (an UNAUTHENTICATED error, then the
 * end), and its next request is refused; others' go on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PENDING_PAYMENT, REQUEST_APPROVAL, sseSubscribe, uniqueTenant, untilSubscribed, wsSubscribe } from '../support/clients.js';
import { idpToken, JwksServer } from '../support/identity-provider.js';
import { mintCallerToken } from '../../src/transports/http/auth.js';
import { startTestServer, TEST_AUTH_SECRET, type TestServer } from '../support/server.js';

const PENDING = 'subscription { pendingApprovals { kind approval { id context } } }';

/** A graphql-transport-ws socket subscribed to pendingApprovals, so the test sees the close code exactly. */
async function subscribedSocket(server: TestServer, token: string) {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  const messages: any[] = [];
  let wake = () => {};
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const message = async (type: string) => {
    for (;;) {
      const found = messages.find((candidate) => candidate.type === type);
      if (found) return found;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  await new Promise<void>((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  const acknowledged = await Promise.race([message('connection_ack').then(() => true), closed.then(() => false)]);
  if (acknowledged) socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: PENDING } }));
  return { acknowledged, closed, next: () => message('next') };
}

describe('a caller whose signing key the identity provider withdrew', () => {
  const idp = new JwksServer();
  let server: TestServer;
  beforeAll(async () => {
    await idp.start();
    // No cooldown between JWKS fetches: each test publishes a key just after the last fetch.
    server = await startTestServer({ authJwksUrl: idp.url, authJwksCooldownMs: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await idp.close();
  });

  it('loses its graphql-ws and SSE subscriptions and its next request is refused, while others keep theirs', async () => {
    const aliceKey = await idp.rotate('alice-device');
    const teamKey = await idp.rotate('team');
    const tenant = uniqueTenant('revoked');
    const alice = await idpToken(aliceKey, 'alice-device', { subject: 'alice', tenant, roles: ['approver'] });
    const bob = await idpToken(teamKey, 'team', { subject: 'bob', tenant, roles: ['approver'] });
    const agent = await idpToken(teamKey, 'team', { subject: 'bot', tenant, roles: ['agent'] });

    const aliceSocket = await subscribedSocket(server, alice);
    expect(aliceSocket.acknowledged).toBe(true);
    const aliceStream = await sseSubscribe(server, alice, PENDING);
    const bobEvents = wsSubscribe(server, bob, PENDING);
    await untilSubscribed(server, tenant, 3);
    const first = (await server.gql(agent, REQUEST_APPROVAL, { input: PENDING_PAYMENT })).data?.requestApproval;
    expect(first.__typename).toBe('RequestApprovalPayload');
    expect((await aliceSocket.next()).payload.data.pendingApprovals.kind).toBe('ADDED');
    expect((await aliceStream.nextData()).pendingApprovals.kind).toBe('ADDED');
    expect((await bobEvents.nextData()).pendingApprovals.kind).toBe('ADDED');

    idp.withdraw('alice-device');
    expect(await server.app.revalidateCallers()).toBe(1);

    const { code, reason } = await aliceSocket.closed;
    expect(code).toBe(4403);
    expect(reason).toContain('revoked');
    const last = await aliceStream.next();
    expect(last.data).toBeUndefined();
    expect(last.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(last.errors?.[0]?.message).toContain('no longer publishes');
    await expect(aliceStream.next(2_000)).rejects.toThrow('ended');

    // Nothing more for Alice, however she asks; Bob, under a key still published, hears the next request.
    const refused = await server.gql(alice, '{ approvals { __typename ... on Error { code } } }');
    expect(refused.data?.approvals).toEqual({ __typename: 'UnauthenticatedError', code: 'UNAUTHENTICATED' });
    const again = await subscribedSocket(server, alice);
    expect(again.acknowledged).toBe(false);
    expect((await again.closed).code).toBe(4403);
    await server.gql(agent, REQUEST_APPROVAL, { input: PENDING_PAYMENT });
    expect((await bobEvents.nextData()).pendingApprovals.kind).toBe('ADDED');
    await bobEvents.close();
  });

  it('revokes nothing while the identity provider cannot be reached: an outage is not a revocation', async () => {
    const key = await idp.rotate('carol-device');
    const tenant = uniqueTenant('outage');
    const carol = await idpToken(key, 'carol-device', { subject: 'carol', tenant, roles: ['approver'] });
    const agent = await idpToken(key, 'carol-device', { subject: 'bot', tenant, roles: ['agent'] });
    const events = wsSubscribe(server, carol, PENDING);
    await untilSubscribed(server, tenant);
    idp.unavailable = true;
    await expect(server.app.revalidateCallers()).rejects.toThrow();
    idp.unavailable = false;
    await server.gql(agent, REQUEST_APPROVAL, { input: PENDING_PAYMENT });
    expect((await events.nextData()).pendingApprovals.kind).toBe('ADDED');
    await events.close();
  });
});

const REVOKE = /* GraphQL */ `
  mutation ($subject: String!) {
    revokeCallerTokens(subject: $subject) {
      __typename
      ... on CallerRevocation { tenant subject revokedBefore }
      ... on Error { code message }
    }
  }
`;

describe('a subject whose caller tokens an admin revoked', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ expirySweepMs: 3_600_000 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('loses its subscriptions and its next requests, across a restart, until it gets a token issued after the revocation', async () => {
    const tenant = uniqueTenant('removed');
    const alice = await server.token('alice', tenant, ['approver']);
    const bob = await server.token('bob', tenant, ['approver']);
    const admin = await server.token('ada', tenant, ['admin']);
    const agent = await server.token('bot', tenant, ['agent']);
    const aliceSocket = await subscribedSocket(server, alice);
    expect(aliceSocket.acknowledged).toBe(true);
    const aliceStream = await sseSubscribe(server, alice, PENDING);
    const bobEvents = wsSubscribe(server, bob, PENDING);
    await untilSubscribed(server, tenant, 3);

    // Only an admin may revoke, and only in its own tenant.
    const byApprover = await server.gql(bob, REVOKE, { subject: 'alice' });
    expect(byApprover.data.revokeCallerTokens).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    const empty = await server.gql(admin, REVOKE, { subject: '' });
    expect(empty.data.revokeCallerTokens).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });

    const revoked = await server.gql(admin, REVOKE, { subject: 'alice' });
    expect(revoked.data.revokeCallerTokens).toMatchObject({ __typename: 'CallerRevocation', tenant, subject: 'alice' });
    const { code, reason } = await aliceSocket.closed;
    expect(code).toBe(4403);
    expect(reason).toContain('revoked');
    const last = await aliceStream.next();
    expect(last.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const refused = await server.gql(alice, '{ approvals { __typename ... on Error { code } } }');
    expect(refused.data?.approvals).toEqual({ __typename: 'UnauthenticatedError', code: 'UNAUTHENTICATED' });

    // Bob, another subject of the tenant, still hears the next request.
    await server.gql(agent, REQUEST_APPROVAL, { input: PENDING_PAYMENT });
    expect((await bobEvents.nextData()).pendingApprovals.kind).toBe('ADDED');
    await bobEvents.close();

    const audit = await server.gql(admin, '{ auditEvents(first: 50, type: "caller_tokens_revoked") { ... on AuditEventConnection { nodes { type actor details } } } }');
    const events = (audit.data?.auditEvents?.nodes ?? []) as { type: string; actor: string; details: Record<string, unknown> }[];
    expect(events.find((event) => event.type === 'caller_tokens_revoked')).toMatchObject({ actor: 'ada', details: { subject: 'alice' } });

    // The revocation is stored: a restarted server refuses the old token too.
    await server.stop();
    server = await server.restart();
    const afterRestart = await server.gql(alice, '{ approvals { __typename ... on Error { code } } }');
    expect(afterRestart.data?.approvals).toEqual({ __typename: 'UnauthenticatedError', code: 'UNAUTHENTICATED' });
    // A token the identity provider issues after the revocation is accepted.
    const revokedBefore = Date.parse(revoked.data.revokeCallerTokens.revokedBefore);
    const fresh = await mintCallerToken(TEST_AUTH_SECRET, { subject: 'alice', tenant, roles: ['approver'], issuedAt: Math.floor(revokedBefore / 1000) + 1 });
    const accepted = await server.gql(fresh, '{ approvals { __typename } }');
    expect(accepted.data?.approvals?.__typename).toBe('ApprovalConnection');
  });
});
