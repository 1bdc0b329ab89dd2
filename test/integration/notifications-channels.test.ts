import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { allowedToken, executionOf, expectType, freshTenant, PAYMENT_ONE_APPROVER, QUICK_EMAIL, request, type Tenant } from '../support/gate.js';
import { startJsonReceiver, startSmtpServer } from '../support/receivers.js';
import { createChannel, deliveryWhere, notifications, testNotifyConfig, withWebhookChannel } from '../support/notifications.js';

let server: TestServer;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;

beforeAll(async () => {
  smtp = await startSmtpServer();
  server = await startTestServer({
    expirySweepMs: 100,
    notify: testNotifyConfig({ smtpUrl: smtp.url, smtpFrom: 'Countersign <gate@example.com>' }),
  });
});

afterAll(async () => {
  await server?.close();
  await smtp?.close();
});

describe('Slack channels', () => {
  it('posts a Block Kit message whose only button opens the item in the inbox', async () => {
    const tenant = await freshTenant(server, 'slack');
    const slack = await startJsonReceiver();
    try {
      const created = await notifications.create(server, tenant.admin, { kind: 'SLACK', name: '#approvals', url: slack.url, events: ['approval.required'] });
      expect(created.__typename).toBe('CreateNotificationChannelPayload');
      expect(created.signingSecret).toBeNull();
      // The incoming-webhook URL is a credential: only its origin is shown.
      expect(created.channel.url).toBe(`${new URL(slack.url).origin}/…`);
      const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
      const { body } = await slack.arrivals.next();
      expect(body.text).toBe(`Approval required: payment invoice/INV-1 (${approval.riskLevel})`);
      const text = JSON.stringify(body.blocks);
      expect(text).toContain('`payment`');
      expect(text).toContain('invoice/INV-1');
      expect(text).toContain(`${approval.riskLevel} (${approval.riskScore})`);
      for (const reason of approval.reasons) expect(text).toContain(reason.ruleId);
      expect(text).toMatch(/<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^>]+> \(in \d+ (min|h)/);
      const buttons = body.blocks.flatMap((block: any) => (block.type === 'actions' ? block.elements : []));
      expect(buttons).toEqual([
        expect.objectContaining({ type: 'button', url: `https://countersign.example.com/?approval=${approval.id}` }),
      ]);
      expect(buttons[0].value).toBeUndefined();
      expect(text).not.toContain('amount');
    } finally {
      await slack.close();
    }
  });
});

describe('email channels', () => {
  it('sends text and HTML mail over SMTP to the configured addresses', async () => {
    const tenant = await freshTenant(server, 'mail');
    const channel = await createChannel(server, tenant.admin, {
      kind: 'EMAIL',
      name: 'approvers',
      emailTo: ['alice@example.com', 'bob@example.com'],
      events: ['approval.required'],
    });
    const { approval } = await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING');
    const mail = await smtp.arrivals.next(10_000, 'email');
    expect(mail.subject).toBe(`[Countersign] Approval required: payment invoice/INV-1 (${approval.riskLevel})`);
    expect(mail.to).toEqual(['alice@example.com', 'bob@example.com']);
    expect(mail.from).toBe('gate@example.com');
    expect(mail.raw).toMatch(/Content-Type: text\/plain/i);
    expect(mail.raw).toMatch(/Content-Type: text\/html/i);
    expect(mail.decoded).toContain(`https://countersign.example.com/?approval=${approval.id}`);
    for (const reason of approval.reasons) expect(mail.decoded).toContain(reason.ruleId);
    const delivery = await deliveryWhere(server, tenant.admin, channel.id, (node) => node.status === 'DELIVERED');
    expect(delivery.lastStatusCode).toBe(250);
    expect(delivery.attemptLog[0].result).toMatch(/^250 /);
  });
});

describe('event types', () => {
  it('reports rejections, denials, expiries and execution outcomes to a channel that selects them', async () => {
    const events = ['approval.rejected', 'approval.denied', 'approval.expired', 'execution.completed', 'execution.failed'];
    await withWebhookChannel(server, { label: 'events', events }, async ({ tenant, receiver }) => {
      const next = async () => (await receiver.arrivals.next()).body;

      const rejected = (await request(tenant.agent, PAYMENT_ONE_APPROVER, 'PENDING')).approval;
      expectType(await tenant.approver.decide(rejected.id, 'REJECT', 'not this month'), 'Approval');
      expect(await next()).toMatchObject({ type: 'approval.rejected', data: { approval: { id: rejected.id, status: 'REJECTED' } } });

      expectType(await tenant.admin.updateTenantSettings({ denylist: ['wire_transfer'] }), 'TenantSettings');
      const denied = (await request(tenant.agent, { action: 'wire_transfer', context: { amount: 10 } }, 'DENIED')).approval;
      expect(await next()).toMatchObject({ type: 'approval.denied', data: { approval: { id: denied.id, status: 'DENIED' } } });

      const lapsing = (await request(tenant.agent, { ...PAYMENT_ONE_APPROVER, ttlSeconds: 1 }, 'PENDING')).approval;
      expect(await next()).toMatchObject({ type: 'approval.expired', data: { approval: { id: lapsing.id, status: 'EXPIRED' } } });

      const allowed = await allowedToken(tenant.agent);
      expectType(await tenant.agent.execute(executionOf(allowed.token, QUICK_EMAIL, { outcome: 'SUCCEEDED' })), 'ExecutePayload');
      expect(await next()).toMatchObject({ type: 'execution.completed', data: { approval: { id: allowed.approval.id }, execution: { outcome: 'SUCCEEDED' } } });

      const failing = await allowedToken(tenant.agent);
      expectType(await tenant.agent.execute(executionOf(failing.token, QUICK_EMAIL, { outcome: 'FAILED' })), 'ExecutePayload');
      expect(await next()).toMatchObject({ type: 'execution.failed', data: { approval: { id: failing.approval.id, status: 'FAILED' }, execution: { outcome: 'FAILED' } } });
      expect(receiver.arrivals.all.every((arrival) => arrival.verified)).toBe(true);
    });
  });

  it('announces approval.expiring once when a pending request enters the lead time', async () => {
    await withWebhookChannel(server, { label: 'expiring', events: ['approval.expiring'], channel: { expiringBeforeSeconds: 2 } }, async ({ tenant, receiver, channel }) => {
      const { approval } = await request(tenant.agent, { ...PAYMENT_ONE_APPROVER, ttlSeconds: 3 }, 'PENDING');
      const received = await receiver.arrivals.next();
      expect(received.body).toMatchObject({ type: 'approval.expiring', data: { approval: { id: approval.id, status: 'PENDING', remainingApprovals: 1 } } });
      const announcedAt = Date.parse(received.body.timestamp);
      expect(Date.parse(approval.expiresAt) - announcedAt).toBe(2_000);
      expect(received.receivedAt).toBeLessThan(Date.parse(approval.expiresAt));
      await deliveryWhere(server, tenant.admin, channel.id, (node) => node.status === 'DELIVERED');
      const page = await notifications.deliveries(server, tenant.admin, { channelId: channel.id });
      expect(page.edges).toHaveLength(1);
    });
  });
});

describe('channel administration', () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await freshTenant(server, 'admin');
  });

  it('is for admins only', async () => {
    for (const client of [tenant.agent, tenant.approver, tenant.auditor]) {
      expect((await notifications.channels(server, client)).code).toBe('FORBIDDEN');
      expect((await notifications.create(server, client, { kind: 'WEBHOOK', name: 'x', url: 'https://hooks.example.com/x', events: ['approval.required'] })).code).toBe('FORBIDDEN');
      expect((await notifications.deliveries(server, client)).code).toBe('FORBIDDEN');
    }
    const anonymous = await server.gql(null, 'query { notificationChannels { __typename ... on Error { code } } }');
    expect(anonymous.data.notificationChannels).toEqual({ __typename: 'UnauthenticatedError', code: 'UNAUTHENTICATED' });
  });

  it('refuses malformed channels with the field at fault', async () => {
    const refused = async (input: Record<string, unknown>) => {
      const result = await notifications.create(server, tenant.admin, { kind: 'WEBHOOK', name: 'x', url: 'https://hooks.example.com/x', events: ['approval.required'], ...input });
      expect(result.__typename, JSON.stringify(result)).toBe('InvalidInputError');
      return result.field;
    };
    expect(await refused({ events: [] })).toBe('events');
    expect(await refused({ events: ['approval.required', 'approval.maybe'] })).toBe('events');
    expect(await refused({ url: 'ftp://hooks.example.com/x' })).toBe('url');
    expect(await refused({ url: 'https://user:pw@hooks.example.com/x' })).toBe('url');
    expect(await refused({ url: null })).toBe('url');
    expect(await refused({ name: '  ' })).toBe('name');
    expect(await refused({ kind: 'EMAIL', url: null, emailTo: ['not an address'] })).toBe('emailTo');
    expect(await refused({ kind: 'EMAIL', url: null, emailTo: [] })).toBe('emailTo');
  });

  it('lists, updates, disables and deletes channels, never showing a secret again', async () => {
    const created = await createChannel(server, tenant.admin, { kind: 'WEBHOOK', name: 'audit sink', url: 'https://hooks.example.com/a', events: ['approval.required'] });
    const listed = await notifications.channels(server, tenant.admin);
    expect(listed.channels).toEqual([
      expect.objectContaining({ id: created.id, kind: 'WEBHOOK', name: 'audit sink', url: 'https://hooks.example.com/a', enabled: true, includeContext: false, expiringBeforeSeconds: 300 }),
    ]);
    expect(JSON.stringify(listed)).not.toContain(created.signingSecret);

    const updated = await notifications.update(server, tenant.admin, { id: created.id, name: 'renamed', events: ['approval.approved'], enabled: false });
    expect(updated.channel).toMatchObject({ name: 'renamed', events: ['approval.approved'], enabled: false });
    expect((await notifications.update(server, tenant.admin, { id: 'missing' })).code).toBe('NOT_FOUND');
    const other = await freshTenant(server, 'other');
    expect((await notifications.update(server, other.admin, { id: created.id, name: 'hijack' })).code).toBe('NOT_FOUND');
    expect((await notifications.rotate(server, other.admin, created.id)).code).toBe('NOT_FOUND');

    expect((await notifications.delete(server, tenant.admin, created.id)).deletedId).toBe(created.id);
    expect((await notifications.channels(server, tenant.admin)).channels).toEqual([]);
    expect((await notifications.delete(server, tenant.admin, created.id)).code).toBe('NOT_FOUND');
  });

  it('audits every channel change in the tenant chain, naming the admin and never a secret', async () => {
    const audited = await freshTenant(server, 'audited');
    const created = await createChannel(server, audited.admin, { kind: 'WEBHOOK', name: 'sink', url: 'https://hooks.example.com/one', events: ['approval.required'] });
    await notifications.update(server, audited.admin, { id: created.id, url: 'https://hooks.example.com/two' });
    const rotated = await notifications.rotate(server, audited.admin, created.id);
    expect((await notifications.update(server, audited.admin, { id: created.id, url: 'ftp://nowhere' })).code).toBe('INVALID_INPUT');
    await notifications.delete(server, audited.admin, created.id);

    const events = (await audited.auditor.allAuditEvents()).filter((event) => event.type.startsWith('notification_'));
    expect(events.map((event) => [event.type, event.actor])).toEqual([
      ['notification_channel_created', audited.admin.subject],
      ['notification_channel_updated', audited.admin.subject],
      ['notification_secret_rotated', audited.admin.subject],
      ['notification_channel_deleted', audited.admin.subject],
    ]);
    expect(events[1]?.details).toMatchObject({ before: { url: 'https://hooks.example.com/one' }, after: { url: 'https://hooks.example.com/two' } });
    const trail = JSON.stringify(events);
    expect(trail).not.toContain((created.signingSecret as string).slice('whsec_'.length));
    expect(trail).not.toContain((rotated.signingSecret as string).slice('whsec_'.length));
    expect(expectType(await audited.auditor.verifyAuditChain(), 'AuditChainVerification').ok).toBe(true);
  });

  it('keeps webhook secrets and Slack URLs sealed at rest', async () => {
    const webhook = await createChannel(server, tenant.admin, { kind: 'WEBHOOK', name: 'sealed', url: 'https://hooks.example.com/sealed', events: ['approval.required'] });
    const slackUrl = 'https://hooks.slack.com/services/T0SEALED/B0SEALED/sealedsealedsealed';
    await createChannel(server, tenant.admin, { kind: 'SLACK', name: 'sealed slack', url: slackUrl, events: ['approval.required'] });
    const file = server.config.databasePath;
    const bytes = Buffer.concat([readFileSync(file), ...(existsSync(`${file}-wal`) ? [readFileSync(`${file}-wal`)] : [])]).toString('latin1');
    const secret = (webhook.signingSecret as string).slice('whsec_'.length);
    expect(bytes).toContain('cs1.');
    expect(bytes).not.toContain(secret);
    expect(bytes).not.toContain(Buffer.from(secret, 'base64').toString('latin1'));
    expect(bytes).not.toContain('sealedsealedsealed');
  });
});
