import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PolicyEvaluator, type PolicyInput, type TenantPolicySettings } from '../../src/policy/index.js';
import { loadBuiltBundle, policyInput, POLICY_SOURCES_DIR } from '../support/bundles.js';

interface DecisionCase {
  name: string;
  input: PolicyInput;
  data?: Record<string, TenantPolicySettings>;
  expected: { outcome: string; risk_level: string; rule_ids: string[] };
}

// The same table `opa test` checks against the Rego (test_decision_table_cases), so the
// WASM the server runs and the policy authors' tests can never disagree.
const { decision_cases: cases } = JSON.parse(
  readFileSync(join(POLICY_SOURCES_DIR, 'approval', 'decision_cases_test.json'), 'utf8'),
) as { decision_cases: DecisionCase[] };

describe('the compiled policy bundle', () => {
  let evaluator: PolicyEvaluator;
  beforeAll(async () => {
    evaluator = await loadBuiltBundle();
  });

  it('has a table of decision cases to agree on', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases.map((decisionCase) => [decisionCase.name, decisionCase] as const))(
    'decides "%s" as the Rego tests say',
    (_name, decisionCase) => {
      evaluator.setTenantSettings(decisionCase.data ?? {});
      const decision = evaluator.evaluate(decisionCase.input);
      expect(decision.failSafe).toBe(false);
      expect(decision.outcome).toBe(decisionCase.expected.outcome);
      expect(decision.riskLevel).toBe(decisionCase.expected.risk_level);
      expect(new Set(decision.reasons.map((reason) => reason.ruleId))).toEqual(new Set(decisionCase.expected.rule_ids));
    },
  );

  it('never allows an action that no rule allows', () => {
    evaluator.setTenantSettings({});
    const decision = evaluator.evaluate(policyInput({ action: 'launch_rockets' }));
    expect(decision.outcome).toBe('require_approval');
  });
});
