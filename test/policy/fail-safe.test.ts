import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FAIL_SAFE_RULE_ID, failSafeDecision } from '../../src/policy/index.js';
import { REPO_ROOT } from '../support/server.js';

const run = promisify(execFile);

describe('the fail-safe decision', () => {
  it('is the same in the server and in the Rego default decision', async () => {
    // The Rego default answers when the policy leaves its verdict undefined (a policy bug).
    const query =
      'data.countersign.approval.decision with input as {"tenant": "acme", "action": "x"} ' +
      'with data.countersign.approval._verdict as {}';
    const { stdout } = await run(join(REPO_ROOT, '.tools', 'bin', 'opa'), ['eval', '--format', 'json', '-d', 'policies', query], {
      cwd: REPO_ROOT,
    });
    const rego = (JSON.parse(stdout) as { result: [{ expressions: [{ value: Record<string, unknown> }] }] }).result[0]
      .expressions[0].value;
    const server = failSafeDecision('test', 'rev');
    expect({
      outcome: rego['outcome'],
      riskScore: rego['risk_score'],
      riskLevel: rego['risk_level'],
      ruleIds: (rego['reasons'] as { rule_id: string }[]).map((reason) => reason.rule_id),
      requiredApprovals: rego['required_approvals'],
      approverRoles: rego['approver_roles'],
      escalated: rego['escalated'],
      requestTtlSeconds: rego['request_ttl_seconds'],
      tokenTtlSeconds: rego['token_ttl_seconds'],
    }).toEqual({
      outcome: server.outcome,
      riskScore: server.riskScore,
      riskLevel: server.riskLevel,
      ruleIds: [FAIL_SAFE_RULE_ID],
      requiredApprovals: server.requiredApprovals,
      approverRoles: server.approverRoles,
      escalated: server.escalated,
      requestTtlSeconds: server.requestTtlSeconds,
      tokenTtlSeconds: server.tokenTtlSeconds,
    });
    expect(server).toMatchObject({ outcome: 'require_approval', requiredApprovals: 2, approverRoles: ['admin'] });
  });
});
