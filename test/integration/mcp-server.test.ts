import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ALLOWED_EMAIL, decide, PENDING_PAYMENT, uniqueTenant, untilSubscribed } from '../support/clients.js';
import { REPO_ROOT, type TestServer, useTestServer } from '../support/server.js';
import { CLI_MAIN } from '../support/cli.js';

/** A real MCP client over Streamable HTTP, authenticated with a bearer token as any agent would be. */
async function connect(server: TestServer, token: string | null): Promise<Client> {
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
    requestInit: { headers: token === null ? {} : { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

function structured(result: unknown): Record<string, any> {
  return (result as CallToolResult).structuredContent as Record<string, any>;
}

describe('the MCP server at /mcp', () => {
  const server = useTestServer();
  const clients: Client[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  async function agentClient(tenant: string, subject = 'agent-1'): Promise<Client> {
    const client = await connect(server, await server.token(subject, tenant, ['agent']));
    clients.push(client);
    return client;
  }

  it('lists the gate tools with input schemas and annotations', async () => {
    const client = await agentClient(uniqueTenant('mcp'));
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['complete_execution', 'execute', 'get_approval', 'request_approval', 'wait_for_decision']);
    const request = tools.find((tool) => tool.name === 'request_approval');
    expect(request?.inputSchema.required).toEqual(['action', 'context']);
    expect(request?.annotations?.readOnlyHint).toBe(false);
    expect(tools.find((tool) => tool.name === 'get_approval')?.annotations?.readOnlyHint).toBe(true);
  });

  it('refuses a caller without a valid bearer token with HTTP 401, as /graphql does', async () => {
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expect(connect(server, 'not-a-token')).rejects.toThrow(/401|invalid/i);
  });

  it('requests an allowed action, executes it and reports the outcome', async () => {
    const client = await agentClient(uniqueTenant('mcp'));
    const requested = structured(await client.callTool({ name: 'request_approval', arguments: ALLOWED_EMAIL }));
    expect(requested.status).toBe('APPROVED');
    expect(typeof requested.token).toBe('string');
    const executed = structured(
      await client.callTool({
        name: 'execute',
        arguments: { token: requested.token, action: ALLOWED_EMAIL.action, context: ALLOWED_EMAIL.context },
      }),
    );
    expect(executed).toMatchObject({ status: 'EXECUTED', executionStatus: 'STARTED', approvalId: requested.approvalId });
    const completed = structured(
      await client.callTool({ name: 'complete_execution', arguments: { executionId: executed.executionId, outcome: 'SUCCEEDED' } }),
    );
    expect(completed).toMatchObject({ executionStatus: 'SUCCEEDED', status: 'EXECUTED' });
  });

  it('waits for a human decision, with progress notifications, and returns the token', async () => {
    const tenant = uniqueTenant('mcp');
    const client = await agentClient(tenant);
    const requested = structured(await client.callTool({ name: 'request_approval', arguments: PENDING_PAYMENT }));
    expect(requested).toMatchObject({ status: 'PENDING', token: null, remainingApprovals: 1 });
    const progress: string[] = [];
    const waiting = client.callTool({ name: 'wait_for_decision', arguments: { approvalId: requested.approvalId, timeoutSeconds: 30 } }, undefined, {
      onprogress: (notification) => progress.push(notification.message ?? ''),
    });
    await untilSubscribed(server, tenant);
    await decide(server, await server.token('approver-1', tenant, ['approver']), requested.approvalId, 'APPROVE');
    const decided = structured(await waiting);
    expect(decided).toMatchObject({ status: 'APPROVED', decided: true, approvalId: requested.approvalId });
    expect(typeof decided.token).toBe('string');
    expect(progress[0]).toMatch(/Waiting for 1 more approval/);
    const executed = await client.callTool({
      name: 'execute',
      arguments: { token: decided.token, action: PENDING_PAYMENT.action, context: PENDING_PAYMENT.context, outcome: 'SUCCEEDED' },
    });
    expect(structured(executed)).toMatchObject({ status: 'EXECUTED', executionStatus: 'SUCCEEDED' });
  });

  it('returns a request still pending at the timeout as undecided, not as an error', async () => {
    const client = await agentClient(uniqueTenant('mcp'));
    const requested = structured(await client.callTool({ name: 'request_approval', arguments: PENDING_PAYMENT }));
    const result = await client.callTool({ name: 'wait_for_decision', arguments: { approvalId: requested.approvalId, timeoutSeconds: 0 } });
    expect(result.isError).toBeFalsy();
    expect(structured(result)).toMatchObject({ status: 'PENDING', decided: false, token: null });
  });

  it('answers refusals as isError results carrying the gate\'s stable code', async () => {
    const client = await agentClient(uniqueTenant('mcp'));
    const requested = structured(await client.callTool({ name: 'request_approval', arguments: ALLOWED_EMAIL }));
    const mismatch = await client.callTool({
      name: 'execute',
      arguments: { token: requested.token, action: ALLOWED_EMAIL.action, context: { to: 'attacker@example.com' } },
    });
    expect(mismatch.isError).toBe(true);
    expect(structured(mismatch).code).toBe('CONTEXT_MISMATCH');
    const missing = await client.callTool({ name: 'get_approval', arguments: { approvalId: 'no-such-approval' } });
    expect(missing.isError).toBe(true);
    expect(structured(missing).code).toBe('NOT_FOUND');
  });

  it('applies the caller\'s roles: an approver without the agent role may not request', async () => {
    const client = await connect(server, await server.token('approver-1', uniqueTenant('mcp'), ['approver']));
    clients.push(client);
    const result = await client.callTool({ name: 'request_approval', arguments: PENDING_PAYMENT });
    expect(result.isError).toBe(true);
    expect(structured(result).code).toBe('FORBIDDEN');
  });
});

describe('countersign mcp (stdio)', () => {
  const server = useTestServer();

  it('serves the same tools over stdio, as the caller of COUNTERSIGN_TOKEN', async () => {
    const tenant = uniqueTenant('mcp-stdio');
    const client = new Client({ name: 'desktop-agent', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI_MAIN, 'mcp'],
        env: { PATH: process.env['PATH'] ?? '', COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: await server.token('agent-1', tenant, ['agent']) },
        cwd: REPO_ROOT,
        stderr: 'pipe',
      }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('wait_for_decision');
      const requested = structured(await client.callTool({ name: 'request_approval', arguments: PENDING_PAYMENT }));
      expect(requested.status).toBe('PENDING');
      const read = structured(await client.callTool({ name: 'get_approval', arguments: { approvalId: requested.approvalId } }));
      expect(read).toMatchObject({ approvalId: requested.approvalId, status: 'PENDING', action: 'payment' });
      const stored = await server.gql(await server.token('approver-1', tenant, ['approver']), `query ($id: ID!) { approval(id: $id) { ... on Approval { requester } } }`, {
        id: requested.approvalId,
      });
      expect(stored.data?.approval.requester).toBe('agent-1');
    } finally {
      await client.close();
    }
  }, 60_000);
});
