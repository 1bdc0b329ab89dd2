import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/notify/backoff.js';
import { loadNotifyConfig } from '../../src/notify/config.js';
import { isNonPublicAddress, urlProblem } from '../../src/notify/destination.js';
import { notificationEventsOf } from '../../src/notify/events.js';
import { Webhook } from 'standardwebhooks';
import { ChannelConnections, postJson } from '../../src/notify/http-post.js';
import { webhookKey, webhookSignature } from '../../src/notify/signature.js';
import { emailMessage, slackMessage, webhookBody, type ApprovalSnapshot } from '../../src/notify/messages.js';

describe('destination checks', () => {
  it('treats loopback, private, link-local, CGNAT and mapped forms as non-public', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::10.0.0.1']) {
      expect(isNonPublicAddress(address), address).toBe(true);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(isNonPublicAddress(address), address).toBe(false);
    }
  });

  it('refuses URLs at private literals, localhost, other schemes and embedded credentials unless private is allowed', () => {
    expect(urlProblem('http://127.0.0.1:8080/hook', false)).toMatch(/non-public/);
    expect(urlProblem('http://[::1]/hook', false)).toMatch(/non-public/);
    expect(urlProblem('http://169.254.169.254/latest/meta-data', false)).toMatch(/non-public/);
    expect(urlProblem('http://localhost/hook', false)).toMatch(/localhost/);
    expect(urlProblem('file:///etc/passwd', false)).toMatch(/http/);
    expect(urlProblem('https://u:p@hooks.example.com/', false)).toMatch(/credentials/);
    expect(urlProblem('https://hooks.example.com/x', false)).toBeNull();
    expect(urlProblem('http://127.0.0.1:8080/hook', true)).toBeNull();
  });

  it('refuses a name that resolves to a private address when connecting, and never follows a redirect', async () => {
    let hits = 0;
    const server = createServer((_request, response) => {
      hits += 1;
      response.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    try {
      await expect(postJson(`http://localhost:${port}/`, '{}', { timeoutMs: 2_000, allowPrivate: false })).rejects.toThrow(/non-public/);
      await expect(postJson(`http://127.0.0.1:${port}/`, '{}', { timeoutMs: 2_000, allowPrivate: false })).rejects.toThrow(/not a public address/);
      expect(hits).toBe(0);
      const answer = await postJson(`http://localhost:${port}/`, '{}', { timeoutMs: 2_000, allowPrivate: true });
      expect(answer.statusCode).toBe(302);
      expect(answer.summary).toContain('not followed');
      expect(hits).toBe(1);
    } finally {
      server.close();
    }
  });

  it('gives up on a destination that does not answer within the timeout', async () => {
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    try {
      await expect(postJson(`http://127.0.0.1:${port}/`, '{}', { timeoutMs: 150, allowPrivate: true })).rejects.toThrow(/no answer within 150 ms/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('kept-alive connections of a channel', () => {
  async function countingServer(handler: (request: IncomingMessage, response: ServerResponse, requestOnConnection: number) => void = (_request, response) => response.end('ok')) {
    const counts = { connections: 0, requests: 0, closed: 0 };
    const server = createServer((request, response) => {
      counts.requests += 1;
      const socket = request.socket as typeof request.socket & { requestsServed?: number };
      socket.requestsServed = (socket.requestsServed ?? 0) + 1;
      request.resume();
      request.on('end', () => handler(request, response, socket.requestsServed as number));
    });
    const closed: (() => void)[] = [];
    server.on('connection', (socket) => {
      counts.connections += 1;
      socket.on('close', () => {
        counts.closed += 1;
        for (const wake of closed.splice(0)) wake();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    const allClosed = () =>
      new Promise<void>((resolve) => {
        const check = () => (counts.closed === counts.connections ? resolve() : closed.push(check));
        check();
      });
    return { server, port, counts, allClosed };
  }

  it('sends one post after another over one connection, and closes it when the channel lets go', async () => {
    const { server, port, counts, allClosed } = await countingServer();
    const connections = new ChannelConnections(4, true);
    try {
      for (let index = 0; index < 3; index++) {
        const answer = await postJson(`http://localhost:${port}/`, '{}', { timeoutMs: 2_000, allowPrivate: true, connections });
        expect(answer.statusCode).toBe(200);
      }
      expect(counts).toMatchObject({ connections: 1, requests: 3, closed: 0 });
      connections.close();
      await allClosed();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('checks the address of every new connection it makes', async () => {
    const { server, port, counts } = await countingServer();
    const connections = new ChannelConnections(4, false);
    try {
      await expect(postJson(`http://localhost:${port}/`, '{}', { timeoutMs: 2_000, allowPrivate: false, connections })).rejects.toThrow(/non-public/);
      expect(counts.connections).toBe(0);
    } finally {
      connections.close();
      server.close();
    }
  });

  it('sends a post again on a new connection when the receiver closed the kept-alive one', async () => {
    // The receiver drops each connection at its second request without answering, as one does
    // that closes an idle connection just as a post goes out on it.
    const { server, port, counts } = await countingServer((request, response, requestOnConnection) => {
      if (requestOnConnection > 1) request.socket.destroy();
      else response.end('ok');
    });
    const connections = new ChannelConnections(4, true);
    try {
      expect((await postJson(`http://localhost:${port}/`, '{}', { timeoutMs: 2_000, allowPrivate: true, connections })).statusCode).toBe(200);
      expect((await postJson(`http://localhost:${port}/`, '{}', { timeoutMs: 2_000, allowPrivate: true, connections })).statusCode).toBe(200);
      expect(counts).toMatchObject({ connections: 2, requests: 3 });
    } finally {
      connections.close();
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('webhook signatures', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;

  it('are byte for byte the standardwebhooks package\'s, and its verify accepts them', () => {
    const now = new Date();
    const timestamp = Math.floor(now.getTime() / 1000);
    for (const body of ['{}', JSON.stringify({ type: 'approval.required', data: { resource: 'facture/é—✓ 🚀', amount: 1500 } }), JSON.stringify({ padding: 'x'.repeat(70_000) })]) {
      const id = `msg_${randomBytes(16).toString('hex')}`;
      const signature = webhookSignature(webhookKey(secret), id, timestamp, body);
      expect(signature).toBe(new Webhook(secret).sign(id, now, body));
      const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    }
  });
});

describe('retry schedule', () => {
  it('grows by the backoff factor per failure, jittered a quarter either side of the step', () => {
    expect([1, 2, 3, 4].map((failures) => retryDelayMs(5_000, failures, () => 0.5))).toEqual([5_000, 13_900, 38_642, 107_425]);
    expect(retryDelayMs(5_000, 2, () => 0)).toBe(10_425);
    expect(retryDelayMs(5_000, 2, () => 1)).toBe(17_375);
    expect(retryDelayMs(3_600_000, 40, () => 1)).toBe(24 * 3_600_000);
  });

  it('spreads the default eight attempts over about an hour, within 45 to 75 minutes whatever the jitter', () => {
    const { retryBaseMs, maxAttempts } = loadNotifyConfig({});
    expect(maxAttempts).toBe(8);
    const spanMinutes = (random: () => number) =>
      Array.from({ length: maxAttempts - 1 }, (_, index) => retryDelayMs(retryBaseMs, index + 1, random)).reduce((sum, wait) => sum + wait, 0) / 60_000;
    expect(spanMinutes(() => 0.5)).toBeGreaterThan(57);
    expect(spanMinutes(() => 0.5)).toBeLessThan(63);
    // The extremes of the jitter: every wait at its shortest, every wait at its longest.
    expect(spanMinutes(() => 0)).toBeGreaterThanOrEqual(44);
    expect(spanMinutes(() => 0)).toBeLessThan(46);
    expect(spanMinutes(() => 1)).toBeGreaterThan(74);
    expect(spanMinutes(() => 1)).toBeLessThanOrEqual(76);
  });
});

describe('event mapping', () => {
  it('maps audit events to notification types', () => {
    expect(notificationEventsOf({ type: 'requested', newStatus: 'PENDING', details: {} }, false)).toEqual(['approval.required']);
    expect(notificationEventsOf({ type: 'requested', newStatus: 'PENDING', details: {} }, true)).toEqual(['approval.required', 'approval.escalated']);
    expect(notificationEventsOf({ type: 'requested', newStatus: 'APPROVED', details: {} }, false)).toEqual([]);
    expect(notificationEventsOf({ type: 'execution_completed', newStatus: 'FAILED', details: { outcome: 'FAILED' } }, false)).toEqual(['execution.failed']);
    expect(notificationEventsOf({ type: 'token_issued', newStatus: 'APPROVED', details: {} }, false)).toEqual([]);
  });
});

describe('messages', () => {
  const approval: ApprovalSnapshot = {
    id: 'a1',
    tenant: 't',
    action: 'payment',
    resource: 'invoice/<script>',
    status: 'PENDING',
    riskLevel: 'high',
    riskScore: 7,
    reasons: [{ ruleId: 'CS-220', message: 'amount > 1000 & priority high', fields: ['amount'] }],
    requiredApprovals: 2,
    remainingApprovals: 2,
    approverRoles: ['approver'],
    expiresAt: '2026-12-01T12:00:00.000Z',
    url: 'https://c.example.com/?approval=a1',
  };
  const body = webhookBody('approval.required', new Date('2026-12-01T11:00:00Z'), approval);

  it('writes the email subject the issue names and escapes the HTML part', () => {
    const mail = emailMessage(body, ['a@example.com'], new Date('2026-12-01T11:46:00Z'));
    expect(mail.subject).toBe('[Countersign] Approval required: payment invoice/<script> (high)');
    expect(mail.html).toContain('invoice/&lt;script&gt;');
    expect(mail.html).not.toContain('<script>');
    expect(mail.text).toContain('in 14 min');
  });

  it('escapes Slack mrkdwn and links only to the inbox', () => {
    const message = slackMessage(body, new Date('2026-12-01T11:00:00Z')) as { blocks: any[] };
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('invoice/&lt;script&gt;');
    expect(text).toContain('amount &gt; 1000 &amp; priority high');
    expect(text).toContain('in 1 h');
    const actions = message.blocks.filter((block) => block.type === 'actions');
    expect(actions).toHaveLength(1);
    expect(actions[0].elements.map((element: any) => element.url)).toEqual(['https://c.example.com/?approval=a1']);
  });
});
