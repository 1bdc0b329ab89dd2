import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { narrowContext, readContextKeys } from '../../src/policy/context-reads.js';
import { POLICY_ENTRYPOINT, PolicyEvaluator, type PolicyInput } from '../../src/policy/index.js';
import { BUNDLE_DIR, loadBuiltBundle, policyInput, POLICY_SOURCES_DIR } from '../support/bundles.js';

const { decision_cases: cases } = JSON.parse(
  readFileSync(join(POLICY_SOURCES_DIR, 'approval', 'decision_cases_test.json'), 'utf8'),
) as { decision_cases: { name: string; input: PolicyInput }[] };

const base = policyInput({ action: 'payment' });

describe('the context handed to the policy', () => {
  let raw: LoadedPolicy;
  let evaluator: PolicyEvaluator;
  beforeAll(async () => {
    raw = await loadPolicy(readFileSync(join(BUNDLE_DIR, 'policy.wasm')));
    raw.setData({ ...JSON.parse(readFileSync(join(BUNDLE_DIR, 'data.json'), 'utf8')), countersign: { tenants: {} } });
    evaluator = await loadBuiltBundle();
  });

  it('is narrowed to the keys the bundle declares it reads', () => {
    expect(readContextKeys(raw)).toEqual(new Set(['amount', 'bulk', 'environment']));
  });

  it('keeps every member whose key reads as one of them, and any key with non-ASCII characters', () => {
    const keys = new Set(['amount', 'environment']);
    const context = { amount: 1, ' Amount ': 2, ENVIRONMENT: 'prod', lines: [1, 2], vendor: { id: 'v' }, 'amount\u00a0': 3, 'Ämount': 4 };
    expect(narrowContext({ ...base, context }, keys).context).toEqual({ amount: 1, ' Amount ': 2, ENVIRONMENT: 'prod', 'amount\u00a0': 3, 'Ämount': 4 });
  });

  it('hands over a context that is not an object, and the whole context when the bundle declares nothing', () => {
    const notObject = { ...base, context: ['amount'] as unknown as Record<string, unknown> };
    expect(narrowContext(notObject, new Set(['amount']))).toBe(notObject);
    const whole = { ...base, context: { lines: [1] } };
    expect(narrowContext(whole, null)).toBe(whole);
  });

  it.each(cases.map((decisionCase) => [decisionCase.name, decisionCase.input] as const))(
    'decides "%s" with a bulky context exactly as the policy does on the whole input',
    (_name, input) => {
      evaluator.setTenantSettings({});
      const context = input.context as unknown;
      const bulky =
        typeof context === 'object' && context !== null && !Array.isArray(context)
          ? { ...input, context: { ...(context as Record<string, unknown>), lines: Array.from({ length: 20 }, (_, index) => ({ sku: index })), note: 'x' } }
          : input;
      const [whole] = raw.evaluate(bulky, POLICY_ENTRYPOINT) as { result: Record<string, unknown> }[];
      const decision = evaluator.evaluate(bulky);
      expect(decision.outcome).toBe(whole?.result['outcome']);
      expect(decision.riskScore).toBe(whole?.result['risk_score']);
      expect(decision.reasons.map((reason) => reason.ruleId)).toEqual((whole?.result['reasons'] as { rule_id: string }[]).map((reason) => reason.rule_id));
    },
  );
});
