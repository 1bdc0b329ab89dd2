import { beforeAll, describe, expect, it } from 'vitest';
import { type PolicyEvaluator, type PolicyInput, policyToolHints } from '../../src/policy/index.js';
import { loadBuiltBundle, policyInput } from '../support/bundles.js';

const toolCall = policyInput({
  requester: { subject: 'gateway', roles: ['agent'] },
  agent: 'mcp-gateway',
  action: 'mcp.files.write_file',
  resource: 'mcp:files',
  context: { arguments: { path: '/tmp/a' } },
});

const ruleIds = (decision: { reasons: { ruleId: string }[] }) => decision.reasons.map((reason) => reason.ruleId);

describe('MCP tool hints in the compiled policy', () => {
  let evaluator: PolicyEvaluator;
  beforeAll(async () => {
    evaluator = await loadBuiltBundle();
    evaluator.setTenant('acme', { allowlist: ['mcp.files.write_file'] });
  });

  it('maps the camelCase annotations to the policy input, leaving out absent and null hints', () => {
    expect(policyToolHints({ readOnlyHint: false, destructiveHint: true, idempotentHint: null })).toEqual({
      read_only_hint: false,
      destructive_hint: true,
    });
    expect(policyToolHints({})).toBeUndefined();
    expect(policyToolHints(null)).toBeUndefined();
  });

  it('allows an allowlisted tool that has no hints', () => {
    expect(evaluator.evaluate(toolCall)).toMatchObject({ outcome: 'allow', failSafe: false });
  });

  it('requires approval for an allowlisted tool hinted as destructive', () => {
    const decision = evaluator.evaluate({ ...toolCall, tool_hints: policyToolHints({ destructiveHint: true }) ?? null });
    expect(decision.outcome).toBe('require_approval');
    expect(ruleIds(decision)).toEqual(['CS-230']);
  });

  it('never lets a calm hint allow a tool that is not allowlisted', () => {
    const decision = evaluator.evaluate({
      ...toolCall,
      action: 'mcp.files.delete_all',
      confidence: 1,
      tool_hints: { read_only_hint: true, destructive_hint: false, idempotent_hint: true, open_world_hint: false },
    });
    expect(decision.outcome).toBe('require_approval');
    expect(ruleIds(decision)).toContain('CS-231');
  });

  it('requires approval when the hints are malformed', () => {
    const malformed = { destructive_hint: 'no' } as unknown as PolicyInput['tool_hints'];
    const decision = evaluator.evaluate({ ...toolCall, tool_hints: malformed });
    expect(decision.outcome).toBe('require_approval');
    expect(ruleIds(decision)).toEqual(['CS-208']);
  });
});
