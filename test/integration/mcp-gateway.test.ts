import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, type CallToolResult, type ElicitRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountersignClient } from '../../src/client/index.js';
import { decide, uniqueTenant, untilSubscribed } from '../support/clients.js';
import { REPO_ROOT, type TestServer, useTestServer } from '../support/server.js';
import { CLI_MAIN } from '../support/cli.js';

const EVERYTHING = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
const LEDGER = join(REPO_ROOT, 'test', 'support', 'ledger-mcp-server.mjs');

/** A real MCP client that starts the real `countersign mcp-gateway` command over stdio. */
async function startGateway(
  server: TestServer,
  token: string,
  gatewayArgs: string[],
  upstream: string[] | null,
  options: { env?: Record<string, string>; elicitations?: ElicitRequest['params'][] } = {},
): Promise<Client> {
  const client = new Client(
    { name: 'test-agent', version: '1.0.0' },
    { capabilities: options.elicitations ? { elicitation: { url: {} } } : {} },
  );
  if (options.elicitations) {
    const seen = options.elicitations;
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      seen.push(request.params);
      return { action: 'accept' };
    });
  }
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_MAIN, 'mcp-gateway', ...gatewayArgs, ...(upstream === null ? [] : ['--', process.execPath, ...upstream])],
    env: { PATH: process.env['PATH'] ?? '', COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: token, ...options.env },
    cwd: REPO_ROOT,
    stderr: 'pipe',
  });
  await client.connect(transport);
  return client;
}

/** A real MCP client straight to the upstream, to compare with what the gateway passes through. */
async function startDirect(upstream: string[], env: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'test-direct', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: upstream, env: { PATH: process.env['PATH'] ?? '', ...env }, stderr: 'pipe' }));
  return client;
}

function structured(result: unknown): Record<string, any> {
  return (result as CallToolResult).structuredContent as Record<string, any>;
}

function text(result: unknown): string {
  return ((result as CallToolResult).content as { type: string; text?: string }[]).map((block) => block.text ?? '').join('');
}

/** The tenant a gateway serves: its settings, applied by an admin; the agent token the gateway runs with; an approver's token; an auditor's SDK client. */
interface GatewayTenant {
  name: string;
  agent: string;
  approver: string;
  auditor: CountersignClient;
}

async function gatewayTenant(server: TestServer, label: string, settings: Record<string, unknown>): Promise<GatewayTenant> {
  const name = uniqueTenant(label);
  const admin = await server.token('admin-1', name, ['admin']);
  const updated = await server.gql(admin, `mutation ($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { __typename } }`, { input: settings });
  expect(updated.data?.updateTenantSettings.__typename).toBe('TenantSettings');
  const [agent, approver, auditor] = await Promise.all([
    server.token('agent-1', name, ['agent']),
    server.token('approver-1', name, ['approver']),
    server.token('auditor-1', name, ['auditor']),
  ]);
  return { name, agent, approver, auditor: new CountersignClient({ url: server.url, token: auditor }) };
}

describe('countersign mcp-gateway in front of server-everything', () => {
  const server = useTestServer();
  let gate: GatewayTenant;
  let gateway: Client;
  let direct: Client;
  const elicitations: ElicitRequest['params'][] = [];

  beforeAll(async () => {
    gate = await gatewayTenant(server, 'gateway', { allowlist: ['mcp.everything.echo'], denylist: ['mcp.everything.get-env'] });
    [gateway, direct] = await Promise.all([
      startGateway(server, gate.agent, ['--name', 'everything', '--wait', '60'], [EVERYTHING, 'stdio'], { elicitations }),
      startDirect([EVERYTHING, 'stdio']),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([gateway?.close(), direct?.close(), gate?.auditor.close()]);
  });

  it('lists the upstream\'s tools with their annotations, and passes resources and prompts through', async () => {
    const [gated, upstream] = await Promise.all([gateway.listTools(), direct.listTools()]);
    expect(gated.tools.map((tool) => tool.name)).toEqual(upstream.tools.map((tool) => tool.name));
    expect(gated.tools.find((tool) => tool.name === 'get-sum')?.annotations).toEqual(upstream.tools.find((tool) => tool.name === 'get-sum')?.annotations);
    expect(await gateway.listResources()).toEqual(await direct.listResources());
    expect(await gateway.listPrompts()).toEqual(await direct.listPrompts());
    const { resources } = await direct.listResources();
    const first = resources[0];
    expect(first).toBeDefined();
    expect(await gateway.readResource({ uri: first!.uri })).toEqual(await direct.readResource({ uri: first!.uri }));
  });

  it('forwards an allowlisted tool at once and returns the upstream\'s own result', async () => {
    const result = await gateway.callTool({ name: 'echo', arguments: { message: 'hello through the gate' } });
    expect(result.isError).toBeFalsy();
    expect(result).toEqual(await direct.callTool({ name: 'echo', arguments: { message: 'hello through the gate' } }));
    const { nodes } = await gate.auditor.approvals({ action: 'mcp.everything.echo' });
    expect(nodes[0]).toMatchObject({ status: 'EXECUTED', resource: 'mcp:everything', context: { arguments: { message: 'hello through the gate' } } });
  });

  it('answers a call the policy denies with the reasons and rule ids, and never forwards it', async () => {
    const result = await gateway.callTool({ name: 'get-env', arguments: {} });
    expect(result.isError).toBe(true);
    const denied = structured(result);
    expect(denied).toMatchObject({ code: 'DENIED', status: 'DENIED' });
    expect(denied.reasons.map((reason: { ruleId: string }) => reason.ruleId)).toContain('CS-110');
    expect(text(result)).not.toContain('PATH');
    const { nodes } = await gate.auditor.approvals({ action: 'mcp.everything.get-env' });
    expect(nodes.map((approval) => approval.status)).toEqual(['DENIED']);
  });

  it('holds a call that needs approval until a second identity approves it over GraphQL, then completes it', async () => {
    const progress: string[] = [];
    const call = gateway.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } }, undefined, {
      onprogress: (notification) => progress.push(notification.message ?? ''),
      timeout: 90_000,
    });
    await untilSubscribed(server, gate.name);
    const { nodes } = await gate.auditor.approvals({ action: 'mcp.everything.get-sum', status: 'PENDING' });
    expect(nodes).toHaveLength(1);
    const approvalId = nodes[0]!.id;
    expect(nodes[0]!.context).toEqual({ arguments: { a: 2, b: 40 } });
    expect(await decide(server, gate.approver, approvalId, 'APPROVE')).toBe('APPROVED');

    const result = await call;
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe(text(await direct.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } })));
    expect(progress.some((message) => message.includes(approvalId))).toBe(true);
    // The client supports URL-mode elicitation: it was offered the inbox link while waiting.
    expect(elicitations.some((params) => params.mode === 'url' && 'url' in params && params.url.includes(approvalId))).toBe(true);
    expect((await gate.auditor.approval(approvalId)).status).toBe('EXECUTED');
  });
});

describe('countersign mcp-gateway in front of a server whose tools leave a trace', () => {
  const server = useTestServer();
  let gate: GatewayTenant;
  let gateway: Client;
  let dir: string;
  let ledgerFile: string;

  const ledger = () => (existsSync(ledgerFile) ? readFileSync(ledgerFile, 'utf8') : '');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-ledger-'));
    ledgerFile = join(dir, 'ledger.txt');
    gate = await gatewayTenant(server, 'ledger', { allowlist: ['mcp.ledger.refuse_entry', 'mcp.ledger.clear_ledger'] });
    // --wait 0: a call that needs a decision answers PENDING at once, and is repeated.
    gateway = await startGateway(server, gate.agent, ['--name', 'ledger', '--wait', '0'], [LEDGER], { env: { LEDGER_FILE: ledgerFile } });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([gateway?.close(), gate?.auditor.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function pendingCall(args: Record<string, unknown>, tool = 'append_entry'): Promise<Record<string, any>> {
    const result = await gateway.callTool({ name: tool, arguments: args });
    expect(result.isError).toBe(true);
    const pending = structured(result);
    expect(pending).toMatchObject({ code: 'PENDING', status: 'PENDING' });
    return pending;
  }

  it('answers PENDING with the approval id and inbox link, and proceeds on the same call once approved', async () => {
    const pending = await pendingCall({ text: 'first' });
    expect(pending.url).toBe(`${server.url}/?approval=${pending.approvalId}`);
    expect(ledger()).toBe('');
    // The same call again finds the same request rather than filing a new one.
    expect((await pendingCall({ text: 'first' })).approvalId).toBe(pending.approvalId);

    await decide(server, gate.approver, pending.approvalId, 'APPROVE');
    const result = await gateway.callTool({ name: 'append_entry', arguments: { text: 'first' } });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe('appended first');
    expect(ledger()).toBe('first\n');
    const { nodes } = await gate.auditor.approvals({ action: 'mcp.ledger.append_entry' });
    expect(nodes.map((approval) => approval.status)).toEqual(['EXECUTED']);

    const events = await collect(gate.auditor.allAuditEvents({ approvalId: pending.approvalId }));
    const completed = events.find((event) => event.type === 'execution_completed');
    expect(completed?.details).toMatchObject({ outcome: 'SUCCEEDED', result: { mcpServer: 'ledger', tool: 'append_entry', upstreamOutcome: 'success' } });
    const order = events.map((event) => event.type);
    expect(order.indexOf('executed')).toBeLessThan(order.indexOf('execution_completed'));
  });

  it('never forwards a rejected call, and says who rejected it and why', async () => {
    const pending = await pendingCall({ text: 'rejected entry' });
    await decide(server, gate.approver, pending.approvalId, 'REJECT', 'not this one');
    const result = await gateway.callTool({ name: 'append_entry', arguments: { text: 'rejected entry' } });
    expect(result.isError).toBe(true);
    expect(structured(result)).toMatchObject({ code: 'REJECTED', approvalId: pending.approvalId });
    expect(text(result)).toMatch(/approver-1 rejected it: not this one/);
    expect(ledger()).not.toContain('rejected entry');
    expect((await gate.auditor.approval(pending.approvalId)).status).toBe('REJECTED');
  });

  it('refuses to run changed arguments on an approval given for others', async () => {
    const pending = await pendingCall({ text: 'approved amount 10' });
    await decide(server, gate.approver, pending.approvalId, 'APPROVE');
    const changed = await pendingCall({ text: 'approved amount 10000' });
    expect(changed.approvalId).not.toBe(pending.approvalId);
    expect(ledger()).not.toContain('10000');
    // The approval given stays bound to its own arguments, unspent.
    expect((await gate.auditor.approval(pending.approvalId)).status).toBe('APPROVED');
  });

  it('holds a tool whose server declares it destructive, even though the tenant allowlisted it', async () => {
    const before = ledger();
    const pending = await pendingCall({}, 'clear_ledger');
    const approval = await gate.auditor.approval(pending.approvalId);
    expect(approval.reasons.map((reason) => reason.ruleId)).toContain('CS-230');
    expect(ledger()).toBe(before);
  });

  it('asks a human for a tool call the tenant has not allowlisted, naming the rule', async () => {
    const pending = await pendingCall({ text: 'not allowlisted' });
    expect((await gate.auditor.approval(pending.approvalId)).reasons.map((reason) => reason.ruleId)).toContain('CS-231');
  });

  it('reports FAILED with the upstream outcome when the upstream answers isError', async () => {
    const result = await gateway.callTool({ name: 'refuse_entry', arguments: { text: 'x' } });
    expect(result.isError).toBe(true);
    expect(text(result)).toBe('the ledger refused the entry');
    expect(ledger()).toContain('attempt x');
    const { nodes } = await gate.auditor.approvals({ action: 'mcp.ledger.refuse_entry' });
    expect(nodes[0]?.status).toBe('FAILED');
    const events = await collect(gate.auditor.allAuditEvents({ approvalId: nodes[0]!.id }));
    expect(events.find((event) => event.type === 'execution_completed')?.details).toMatchObject({
      outcome: 'FAILED',
      result: { mcpServer: 'ledger', tool: 'refuse_entry', upstreamOutcome: 'error' },
    });
  });
});

describe('countersign mcp-gateway --upstream-url (Streamable HTTP upstream)', () => {
  const server = useTestServer();
  let gate: GatewayTenant;
  let upstream: ChildProcess;
  let gateway: Client;

  beforeAll(async () => {
    gate = await gatewayTenant(server, 'gateway-http', { allowlist: ['mcp.remote.get-sum'] });
    const port = await freePort();
    upstream = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { PATH: process.env['PATH'] ?? '', PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      upstream.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('listening on port')) resolve();
      });
      upstream.once('exit', (code) => reject(new Error(`server-everything exited with ${code}: ${output}`)));
    });
    gateway = await startGateway(server, gate.agent, ['--name', 'remote', '--upstream-url', `http://127.0.0.1:${port}/mcp`], null);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([gateway?.close(), gate?.auditor.close()]);
    upstream?.kill();
  });

  it('gates the tools of an upstream reached over HTTP', async () => {
    const { tools } = await gateway.listTools();
    expect(tools.map((tool) => tool.name)).toContain('get-sum');
    const result = await gateway.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toMatch(/3/);
  });
});

/** A port free at the moment of asking, for a peer that cannot report the one it picked. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
