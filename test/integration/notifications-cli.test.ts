import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshTenant, PAYMENT_ONE_APPROVER, request } from '../support/gate.js';
import { deliveryWhere, testNotifyConfig } from '../support/notifications.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';
import { runCli } from '../support/cli.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let receiver: WebhookReceiver;

beforeAll(async () => {
  server = await startTestServer({ notify: testNotifyConfig() });
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await server?.close();
});

const countersign = (args: string[], token: string | null) => runCli(server, args, token);

describe('countersign notifications', () => {
  it('creates a webhook channel, shows its deliveries with every attempt, and refuses non-admins', async () => {
    const tenant = await freshTenant(server, 'cli');
    const created = await countersign(
      ['notifications', 'create', '--kind', 'webhook', '--name', 'ops', '--webhook-url', receiver.url, '--events', 'approval.required,approval.approved', '--json'],
      tenant.admin.bearer,
    );
    expect(created.code, created.stderr).toBe(0);
    const payload = JSON.parse(created.stdout);
    expect(payload.channel).toMatchObject({ kind: 'WEBHOOK', name: 'ops', events: ['approval.required', 'approval.approved'], enabled: true });
    expect(payload.signingSecret).toMatch(/^whsec_/);
    receiver.secret = payload.signingSecret;

    const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
    const received = await receiver.arrivals.next();
    expect(received.verified).toBe(true);
    await deliveryWhere(server, tenant.admin, payload.channel.id, (node) => node.status === 'DELIVERED');

    const [listed, deliveries, refused] = await Promise.all([
      countersign(['notifications', 'list'], tenant.admin.bearer),
      countersign(['notifications', 'deliveries', '--channel', payload.channel.id], tenant.admin.bearer),
      countersign(['notifications', 'list'], tenant.approver.bearer),
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`${payload.channel.id}  WEBHOOK on   ops  → ${receiver.url}`);
    expect(deliveries.code, deliveries.stderr).toBe(0);
    expect(deliveries.stdout).toContain(`${received.headers['webhook-id']}  DELIVERED approval.required  approval ${approval.id}`);
    expect(deliveries.stdout).toMatch(/#1 \S+ DELIVERED 200 200 OK/);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('FORBIDDEN');
  }, 120_000);
});
