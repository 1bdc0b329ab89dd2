import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mintCallerToken } from '../../src/transports/http/auth.js';
import { PAYMENT_ONE_APPROVER } from '../support/gate.js';
import { CREATE_CHANNEL, DELIVERIES } from '../support/notifications.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';
import { REPO_ROOT, TEST_AUTH_SECRET } from '../support/server.js';
import { CLI_MAIN } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'countersign-notify-kill-'));
const children: ChildProcess[] = [];
let receiver: WebhookReceiver | undefined;

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = {
  ...process.env,
  NODE_ENV: 'test',
  PORT: '0',
  HOST: '127.0.0.1',
  COUNTERSIGN_DB: join(dir, 'countersign.sqlite'),
  COUNTERSIGN_AUTH_SECRET: TEST_AUTH_SECRET,
  COUNTERSIGN_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  COUNTERSIGN_BUNDLE_DIR: join(REPO_ROOT, 'bundle'),
  COUNTERSIGN_POLICY_SOURCES: join(REPO_ROOT, 'policies'),
  COUNTERSIGN_WATCH_BUNDLE: 'false',
  COUNTERSIGN_NOTIFY_ALLOW_PRIVATE: 'true',
  // A failed attempt before the kill would wait ten minutes: the restart must not.
  COUNTERSIGN_NOTIFY_RETRY_BASE_MS: '600000',
};

/** Starts `countersign serve` as its own process; resolves with its URL once it listens. */
async function serve(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI_MAIN, 'serve'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 90_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/[\d.:]+)\/graphql/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  return { child, url };
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return ((await response.json()) as { data: any }).data;
}

describe('a server killed after a request went pending', () => {
  it('delivers the notification after the restart, with one webhook-id', async () => {
    const tenant = `kill-${randomBytes(4).toString('hex')}`;
    const admin = await mintCallerToken(TEST_AUTH_SECRET, { subject: 'admin', tenant, roles: ['admin'] });
    const agent = await mintCallerToken(TEST_AUTH_SECRET, { subject: 'agent', tenant, roles: ['agent'] });
    // The endpoint is down during the first life: nothing can be delivered before the kill.
    const probe = await startWebhookReceiver();
    const port = probe.port;
    await probe.close();

    const first = await serve();
    const created = (await gql(first.url, admin, CREATE_CHANNEL, {
      input: { kind: 'WEBHOOK', name: 'survivor', url: `http://127.0.0.1:${port}/hooks`, events: ['approval.required'] },
    })).createNotificationChannel;
    expect(created.__typename).toBe('CreateNotificationChannelPayload');
    const requested = (await gql(first.url, agent, `mutation ($input: RequestApprovalInput!) { requestApproval(input: $input) { ... on RequestApprovalPayload { approval { id status } } } }`, {
      input: PAYMENT_ONE_APPROVER,
    })).requestApproval;
    expect(requested.approval.status).toBe('PENDING');
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));

    receiver = await startWebhookReceiver({ port, secret: created.signingSecret });
    const second = await serve();
    const received = await receiver.arrivals.next(15_000);
    expect(received.verified).toBe(true);
    expect(received.body).toMatchObject({ type: 'approval.required', data: { approval: { id: requested.approval.id, status: 'PENDING' } } });

    const deadline = Date.now() + 10_000;
    let delivery: any;
    do {
      delivery = (await gql(second.url, admin, DELIVERIES, { channelId: created.channel.id })).notificationDeliveries.edges[0]?.node;
    } while (delivery?.status !== 'DELIVERED' && Date.now() < deadline && (await new Promise((resolve) => setTimeout(resolve, 50)), true));
    expect(delivery).toMatchObject({ id: received.headers['webhook-id'], status: 'DELIVERED' });
    expect(new Set(receiver.arrivals.all.map((arrival) => arrival.headers['webhook-id'])).size).toBe(1);
    second.child.kill('SIGTERM');
    await new Promise((resolve) => second.child.once('exit', resolve));
  }, 240_000);
});
