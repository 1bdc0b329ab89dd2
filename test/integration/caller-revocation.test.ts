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
import { startTestServer, type TestServer } from '../support/server.js';

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
