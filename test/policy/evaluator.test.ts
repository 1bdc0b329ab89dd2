import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  FAIL_SAFE_RULE_ID,
  parseDecision,
  PolicyBundleError,
  PolicyEvaluator,
  type PolicyEvent,
} from '../../src/policy/index.js';
import { sealBundle } from '../../src/policy/bundle-seal.mjs';
import { BUNDLE_DIR, bundleCopy, loadBuiltBundle, policyInput, POLICY_SOURCES_DIR, setRevision, watchedBundleCopy } from '../support/bundles.js';

const allowedInput = policyInput({ agent: 'mailer', action: 'email_response', context: { to: 'someone@example.com' }, estimated_duration_minutes: 5 });

describe('the policy evaluator', () => {
  it('says which bundle revision made each decision', async () => {
    const evaluator = await loadBuiltBundle();
    const decision = evaluator.evaluate(allowedInput);
    expect(decision.outcome).toBe('allow');
    expect(decision.policyRevision).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(decision.policyRevision).toBe(evaluator.revision);
  });

  it('refuses a corrupted bundle at load', async () => {
    const dir = bundleCopy();
    writeFileSync(join(dir, 'policy.wasm'), Buffer.from('definitely not webassembly'));
    await expect(PolicyEvaluator.load({ bundleDir: dir })).rejects.toMatchObject({ problem: 'tampered' });
    // Even with the digests recorded again, it is still not WebAssembly.
    sealBundle(dir);
    await expect(PolicyEvaluator.load({ bundleDir: dir })).rejects.toMatchObject({ problem: 'invalid_wasm' });
  });

  it('refuses a bundle whose revision does not match the policy sources', async () => {
    const dir = bundleCopy();
    setRevision(dir, 'sha256:0000000000000000');
    const loading = PolicyEvaluator.load({ bundleDir: dir, sourcesDir: POLICY_SOURCES_DIR });
    await expect(loading).rejects.toBeInstanceOf(PolicyBundleError);
    await expect(loading).rejects.toMatchObject({ problem: 'stale' });
  });

  it('fails safe, never allowing, when evaluation throws, and reports it', async () => {
    const events: PolicyEvent[] = [];
    const evaluator = await PolicyEvaluator.load({ bundleDir: BUNDLE_DIR, onEvent: (event) => events.push(event) });
    // A BigInt cannot be serialised into the WASM module's input: evaluation throws inside opa-wasm.
    const decision = evaluator.evaluate({ ...allowedInput, context: { amount: 10n } });
    expect(decision.outcome).toBe('require_approval');
    expect(decision.failSafe).toBe(true);
    expect(decision.approverRoles).toEqual(['admin']);
    expect(decision.reasons[0]?.ruleId).toBe(FAIL_SAFE_RULE_ID);
    expect(events).toMatchObject([{ kind: 'evaluation_failed', tenant: 'acme', action: 'email_response' }]);
  });

  it.each([
    ['an empty result set', []],
    ['a result that is not an object', [{ result: 'allow' }]],
    ['an unknown outcome', [{ result: { outcome: 'maybe' } }]],
    [
      'an approval that names no approvers',
      [
        {
          result: {
            outcome: 'require_approval', risk_score: 1, risk_level: 'low', reasons: [{ rule_id: 'X', message: 'm' }],
            required_approvals: 0, approver_roles: [], escalated: false, request_ttl_seconds: 60, token_ttl_seconds: 60,
          },
        },
      ],
    ],
    [
      'an allow without reasons',
      [
        {
          result: {
            outcome: 'allow', risk_score: 1, risk_level: 'low', reasons: [], required_approvals: 0, approver_roles: [],
            escalated: false, request_ttl_seconds: 60, token_ttl_seconds: 60,
          },
        },
      ],
    ],
    [
      'a reason whose fields are not a list of keys',
      [
        {
          result: {
            outcome: 'allow', risk_score: 1, risk_level: 'low', reasons: [{ rule_id: 'X', message: 'm', fields: [1] }],
            required_approvals: 0, approver_roles: [], escalated: false, request_ttl_seconds: 60, token_ttl_seconds: 60,
          },
        },
      ],
    ],
  ])('treats %s as malformed', (_what, resultSet) => {
    expect(typeof parseDecision(resultSet, 'rev')).toBe('string');
  });

  it('reloads a changed bundle without a restart, and keeps serving when the new one is broken', async () => {
    const { dir, evaluator, events } = await watchedBundleCopy();
    const firstRevision = evaluator.revision;
    try {
      setRevision(dir, 'sha256:1111111111111111');
      await vi.waitFor(() => expect(evaluator.revision).toBe('sha256:1111111111111111'), { timeout: 5000 });
      expect(events).toContainEqual({ kind: 'reloaded', revision: 'sha256:1111111111111111', previousRevision: firstRevision });

      writeFileSync(join(dir, 'policy.wasm'), Buffer.from('garbage'));
      await vi.waitFor(() => expect(events.some((event) => event.kind === 'reload_refused')).toBe(true), { timeout: 5000 });
      expect(evaluator.revision).toBe('sha256:1111111111111111');
      expect(evaluator.evaluate(allowedInput)).toMatchObject({ outcome: 'allow', failSafe: false });
    } finally {
      evaluator.close();
    }
  });

  it('applies tenant settings to the next evaluation without rebuilding the bundle', async () => {
    const evaluator = await PolicyEvaluator.load({ bundleDir: BUNDLE_DIR });
    expect(evaluator.evaluate(allowedInput).outcome).toBe('allow');
    evaluator.setTenant('acme', { denylist: ['email_response'] });
    expect(evaluator.evaluate(allowedInput).outcome).toBe('deny');
    expect(evaluator.evaluate({ ...allowedInput, tenant: 'other' }).outcome).toBe('allow');
  });
});
