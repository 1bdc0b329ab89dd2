import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../src/policy/decision.js';
import { REQUEST_APPROVAL, uniqueTenant } from '../support/clients.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('MCP tool hints on requestApproval', () => {
  let server: TestServer;
  const seen: PolicyInput[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    // Observe what the real evaluator is asked, without changing its answer.
    const evaluate = server.app.evaluator.evaluate.bind(server.app.evaluator);
    server.app.evaluator.evaluate = (input) => {
      seen.push(structuredClone(input));
      return evaluate(input);
    };
  });
  afterAll(() => server.close());

  it('hands the hints to the policy in snake_case, leaving out the ones not given', async () => {
    const tenant = uniqueTenant('hints');
    const agent = await server.token('agent-1', tenant, ['agent']);
    const body = await server.gql(agent, REQUEST_APPROVAL, {
      input: { action: 'mcp.files.delete', context: { arguments: { path: '/tmp/x' } }, toolHints: { destructiveHint: true, readOnlyHint: false } },
    });
    expect(body.data?.requestApproval.__typename).toBe('RequestApprovalPayload');
    const input = seen.find((entry) => entry.tenant === tenant);
    expect(input?.tool_hints).toEqual({ destructive_hint: true, read_only_hint: false });
  });

  it('gives the policy no tool_hints at all when the request has none', async () => {
    const tenant = uniqueTenant('hints');
    const agent = await server.token('agent-1', tenant, ['agent']);
    await server.gql(agent, REQUEST_APPROVAL, { input: { action: 'payment', context: { amount: 5 } } });
    const input = seen.find((entry) => entry.tenant === tenant);
    expect(input).toBeDefined();
    expect(input && 'tool_hints' in input).toBe(false);
  });

  it('refuses a hint that is not a boolean before anything is stored', async () => {
    const tenant = uniqueTenant('hints');
    const agent = await server.token('agent-1', tenant, ['agent']);
    const body = await server.gql(agent, REQUEST_APPROVAL, {
      input: { action: 'payment', context: { amount: 5 }, toolHints: { destructiveHint: 'yes' } },
    });
    expect(body.errors?.[0]?.message).toMatch(/Boolean/);
    expect(seen.some((entry) => entry.tenant === tenant)).toBe(false);
  });
});
