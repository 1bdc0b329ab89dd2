import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { request, sseSubscribe, uniqueTenant } from '../support/clients.js';
import { TEST_AUTH_SECRET, type TestServer, useTestServer } from '../support/server.js';

/** A raw graphql-transport-ws socket, so the test sees close codes exactly. */
function rawSocket(server: TestServer) {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  const messages: any[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const message = async (predicate: (message: any) => boolean) => {
    for (;;) {
      const found = messages.find(predicate);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { socket, opened, closed, message, send: (value: unknown) => socket.send(typeof value === 'string' ? value : JSON.stringify(value)) };
}

const PENDING = 'subscription { pendingApprovals { kind } }';

describe('graphql-ws connections are bounded', () => {
  const server = useTestServer();
  let approver: string;
  beforeAll(async () => {
    approver = await server.token('alice', uniqueTenant('ws'), ['approver']);
  });

  it('refuses and closes a connection_init without a valid token (4403)', async () => {
    for (const payload of [undefined, {}, { authorization: 'Bearer not-a-token' }]) {
      const client = rawSocket(server);
      await client.opened;
      client.send({ type: 'connection_init', ...(payload && { payload }) });
      expect((await client.closed).code).toBe(4403);
    }
  });

  it('closes a socket that sends a message over the size limit (1 MiB) before parsing it', async () => {
    const client = rawSocket(server);
    await client.opened;
    client.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(1024 * 1024) } }));
    expect((await client.closed).code).toBe(1009);
  });

  it('closes a socket whose message names a member twice (4400)', async () => {
    const client = rawSocket(server);
    await client.opened;
    client.send(`{"type":"connection_init","payload":{"authorization":"Bearer ${approver}","authorization":"Bearer x"}}`);
    expect((await client.closed).code).toBe(4400);
  });

  it('allows at most 50 subscriptions on one connection', async () => {
    const client = rawSocket(server);
    await client.opened;
    client.send({ type: 'connection_init', payload: { authorization: `Bearer ${approver}` } });
    await client.message((message) => message.type === 'connection_ack');
    for (let index = 1; index <= 51; index++) client.send({ id: String(index), type: 'subscribe', payload: { query: PENDING } });
    const refused = await client.message((message) => message.type === 'error');
    expect(refused.id).toBe('51');
    expect(refused.payload[0].extensions.code).toBe('LIMIT_EXCEEDED');
    client.socket.close();
  });
});

describe('a subscriber that stops reading', () => {
  const server = useTestServer({ subscriberMaxBufferedBytes: 256 * 1024 });

  it('is cut off by the bytes held for it, long before 10,000 events', async () => {
    const tenant = uniqueTenant('slow');
    const agent = await server.token('bot', tenant, ['agent']);
    const approver = await server.token('alice', tenant, ['approver']);
    const client = rawSocket(server);
    await client.opened;
    client.send({ type: 'connection_init', payload: { authorization: `Bearer ${approver}` } });
    await client.message((message) => message.type === 'connection_ack');
    client.send({ id: '1', type: 'subscribe', payload: { query: 'subscription { pendingApprovals { kind approval { id context } } }' } });
    // One event read proves the subscription is live.
    await request(server, agent);
    await client.message((message) => message.type === 'next');
    // The client stops reading: the kernel's socket buffers fill, then the server's.
    (client.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const memo = 'x'.repeat(50_000);
    let requests = 0;
    while (server.app.changes.subscriberCount(tenant) > 0 && requests < 600) {
      await Promise.all(Array.from({ length: 10 }, () => request(server, agent, { action: 'payment', context: { amount: 1500, memo } })));
      requests += 10;
    }
    // 600 events of 50 KB are 30 MB: the kernel holds a few MB, the server at most 256 KiB more.
    expect(server.app.changes.subscriberCount(tenant)).toBe(0);
    expect(requests).toBeLessThan(600);
    client.socket.terminate();
  }, 120_000);
});

describe('a subscription lives no longer than its caller token', () => {
  const server = useTestServer({ authClockToleranceSeconds: 0 });

  const shortLived = (tenant: string, seconds: number) =>
    new SignJWT({ tenant, roles: ['approver'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
      .sign(new TextEncoder().encode(TEST_AUTH_SECRET));

  it('closes the graphql-ws connection with 4403 when the token expires', async () => {
    const token = await shortLived(uniqueTenant('expiry'), 2);
    const client = rawSocket(server);
    await client.opened;
    client.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    await client.message((message) => message.type === 'connection_ack');
    client.send({ id: '1', type: 'subscribe', payload: { query: PENDING } });
    const { code, reason } = await client.closed;
    expect(code).toBe(4403);
    expect(reason).toContain('expired');
  });

  it('ends an SSE subscription with an UNAUTHENTICATED error when the token expires', async () => {
    const token = await shortLived(uniqueTenant('expiry-sse'), 2);
    const stream = await sseSubscribe(server, token, PENDING);
    expect(stream.status).toBe(200);
    const last = await stream.next(10_000);
    expect(last.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    await expect(stream.next(5_000)).rejects.toThrow('ended');
  });
});

describe('an event after the caller token expired', () => {
  const server = useTestServer({ authClockToleranceSeconds: 0 });

  it('is never delivered, even before the expiry timer fires: the subscription ends with UNAUTHENTICATED instead', async () => {
    const tenant = uniqueTenant('late');
    const agent = await server.token('bot', tenant, ['agent']);
    const approverToken = await new SignJWT({ tenant, roles: ['approver'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(Math.floor(server.clock.now().getTime() / 1000) + 60)
      .sign(new TextEncoder().encode(TEST_AUTH_SECRET));
    const stream = await sseSubscribe(server, approverToken, 'subscription { pendingApprovals { kind approval { id context } } }');
    await request(server, agent);
    expect((await stream.next()).data?.pendingApprovals.kind).toBe('ADDED');
    server.clock.advance(61_000);
    await request(server, agent);
    const last = await stream.next();
    expect(last.data).toBeUndefined();
    expect(last.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    await expect(stream.next(5_000)).rejects.toThrow('ended');
  });
});
