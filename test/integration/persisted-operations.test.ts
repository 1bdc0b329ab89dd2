import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CountersignClient, TransportError } from '../../src/client/index.js';
import { PENDING_PAYMENT, REQUEST_APPROVAL, uniqueTenant, wsSubscribe } from '../support/clients.js';
import { testNotifyConfig } from '../support/notifications.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';
import { runCli } from '../support/cli.js';
import { useTestServer } from '../support/server.js';


describe('COUNTERSIGN_PERSISTED_ONLY=true', () => {
  const server = useTestServer({ persistedOnly: true, notify: testNotifyConfig() });
  let tenant: string;
  let agent: string;
  let approver: string;
  let admin: string;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    tenant = uniqueTenant('persisted');
    agent = await server.token('bot', tenant, ['agent']);
    approver = await server.token('alice', tenant, ['approver']);
    admin = await server.token('root', tenant, ['admin']);
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('refuses any document sent as text, over HTTP and graphql-ws', async () => {
    const result = await server.gql(agent, REQUEST_APPROVAL, { input: PENDING_PAYMENT });
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.extensions?.['code']).toBe('PERSISTED_QUERY_ONLY');
    const introspection = await server.gql(null, '{ __typename }');
    expect(introspection.errors?.[0]?.extensions?.['code']).toBe('PERSISTED_QUERY_ONLY');

    const events = wsSubscribe(server, approver, 'subscription { pendingApprovals { kind } }');
    expect((await events.next()).errors?.[0]?.extensions?.['code']).toBe('PERSISTED_QUERY_ONLY');
    await events.close();
  });

  it('refuses a hash that names no SDK operation', async () => {
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${agent}` },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } }),
    });
    const result = (await response.json()) as any;
    expect(result.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('serves the SDK in persisted mode, queries, mutations and subscriptions alike', async () => {
    const agentClient = new CountersignClient({ url: server.url, token: agent, persistedOperations: true, webSocketImpl: WebSocket });
    const approverClient = new CountersignClient({ url: server.url, token: approver, persistedOperations: true, webSocketImpl: WebSocket });
    const pending = approverClient.pendingApprovals({ current: true });
    const requested = await agentClient.requestApproval(PENDING_PAYMENT);
    expect(requested.approval.status).toBe('PENDING');
    const event = await pending.next();
    expect(event.value).toMatchObject({ approval: { id: requested.approval.id } });
    await pending.return?.();
    expect((await approverClient.approvals({ status: 'PENDING' })).nodes.map((node) => node.id)).toContain(requested.approval.id);
    await agentClient.close();
    await approverClient.close();

    // The SDK as it is by default sends documents as text, which this server refuses.
    const plain = new CountersignClient({ url: server.url, token: agent });
    await expect(plain.requestApproval(PENDING_PAYMENT)).rejects.toBeInstanceOf(TransportError);
  });

  it('serves the CLI, which sends hashes when COUNTERSIGN_PERSISTED_ONLY is set for it too', async () => {
    const client = new CountersignClient({ url: server.url, token: agent, persistedOperations: true });
    const id = (await client.requestApproval(PENDING_PAYMENT)).approval.id;
    const listed = await runCli(server, ['approvals', 'list', '--json'], approver, { COUNTERSIGN_PERSISTED_ONLY: 'true' });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(id);
    const refused = await runCli(server, ['approvals', 'list', '--json'], approver, { COUNTERSIGN_PERSISTED_ONLY: '' });
    expect(refused.code).not.toBe(0);
  }, 60_000);

  it('serves the CLI\'s notification commands: a channel is created, listed, changed, its deliveries shown and replayed, then deleted', async () => {
    const persisted = { COUNTERSIGN_PERSISTED_ONLY: 'true' };
    const created = await runCli(
      server,
      ['notifications', 'create', '--kind', 'webhook', '--name', 'ops', '--webhook-url', receiver.url, '--events', 'approval.required', '--json'],
      admin,
      persisted,
    );
    expect(created.code, created.stderr).toBe(0);
    const { channel, signingSecret } = JSON.parse(created.stdout);
    expect(signingSecret).toMatch(/^whsec_/);
    receiver.secret = signingSecret;

    const client = new CountersignClient({ url: server.url, token: agent, persistedOperations: true });
    await client.requestApproval(PENDING_PAYMENT);
    const arrival = await receiver.arrivals.next();
    expect(arrival.verified).toBe(true);

    const listed = await runCli(server, ['notifications', 'list'], admin, persisted);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`${channel.id}  WEBHOOK on   ops  → ${receiver.url}`);
    const [updated, rotated] = await Promise.all([
      runCli(server, ['notifications', 'update', channel.id, '--name', 'ops-2', '--json'], admin, persisted),
      runCli(server, ['notifications', 'rotate-secret', channel.id, '--json'], admin, persisted),
    ]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ id: channel.id, name: 'ops-2' });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout).signingSecret).not.toBe(signingSecret);

    const deliveries = await runCli(server, ['notifications', 'deliveries', '--channel', channel.id, '--json'], admin, persisted);
    expect(deliveries.code, deliveries.stderr).toBe(0);
    const [delivery] = JSON.parse(deliveries.stdout);
    expect(delivery).toMatchObject({ id: arrival.headers['webhook-id'], channelId: channel.id, eventType: 'approval.required' });
    const replayed = await runCli(server, ['notifications', 'replay', delivery.id], admin, persisted);
    expect(replayed.code, replayed.stderr).toBe(0);
    const deleted = await runCli(server, ['notifications', 'delete', channel.id], admin, persisted);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain(`Deleted channel ${channel.id}`);

    // A refusal still reads as one: an approver is not an admin.
    const refused = await runCli(server, ['notifications', 'list'], approver, persisted);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('FORBIDDEN');
  }, 120_000);
});

describe('without COUNTERSIGN_PERSISTED_ONLY', () => {
  const server = useTestServer();

  it('runs documents sent as text and SDK operations named by hash alike', async () => {
    const agent = await server.token('bot', uniqueTenant('mixed'), ['agent']);
    expect((await server.gql(agent, REQUEST_APPROVAL, { input: PENDING_PAYMENT })).data?.requestApproval.__typename).toBe('RequestApprovalPayload');
    const client = new CountersignClient({ url: server.url, token: agent, persistedOperations: true });
    expect((await client.requestApproval(PENDING_PAYMENT)).approval.status).toBe('PENDING');
  });
});
