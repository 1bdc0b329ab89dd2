import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { compilePolicy, EXECUTIONS_BEFORE_COMPILING } from '../../src/transports/http/compiled-execution.js';

const runs = (times: number, decide: () => boolean): boolean[] => Array.from({ length: times }, decide);

describe('which executions run compiled', () => {
  it('compiles a document only once it has come back, so a one-off document costs no compilation', () => {
    const compiles = compilePolicy();
    const pending = parse('query Pending($first: Int) { approvals(first: $first) { __typename } }');
    const decisions = runs(EXECUTIONS_BEFORE_COMPILING + 2, () => compiles(pending, 'Pending'));
    expect(decisions.slice(0, EXECUTIONS_BEFORE_COMPILING)).not.toContain(true);
    expect(decisions.slice(EXECUTIONS_BEFORE_COMPILING)).toEqual([true, true]);
    // Another document, even of the same text, has its own count.
    expect(compiles(parse('query Pending($first: Int) { approvals(first: $first) { __typename } }'), 'Pending')).toBe(false);
  });

  it('never compiles a subscription, even in a document whose query does compile', () => {
    const compiles = compilePolicy();
    const both = parse('query Q { __typename } subscription S { pendingApprovals { __typename } }');
    runs(EXECUTIONS_BEFORE_COMPILING, () => compiles(both, 'Q'));
    expect(compiles(both, 'Q')).toBe(true);
    expect(runs(EXECUTIONS_BEFORE_COMPILING + 2, () => compiles(both, 'S'))).not.toContain(true);
  });

  it('never compiles a document with a variable inside an object or list literal', () => {
    const compiles = compilePolicy();
    const inObject = parse('mutation ($amount: Float!) { requestApproval(input: { action: "payment", context: { amount: $amount } }) { __typename } }');
    const inList = parse('mutation ($id: ID!) { decideMany(input: { approvalIds: [$id], decision: APPROVE }) { __typename } }');
    expect(runs(EXECUTIONS_BEFORE_COMPILING + 2, () => compiles(inObject))).not.toContain(true);
    expect(runs(EXECUTIONS_BEFORE_COMPILING + 2, () => compiles(inList))).not.toContain(true);
    const whole = parse('mutation ($input: RequestApprovalInput!) { requestApproval(input: $input) { __typename } }');
    expect(runs(EXECUTIONS_BEFORE_COMPILING + 1, () => compiles(whole)).at(-1)).toBe(true);
  });
});
