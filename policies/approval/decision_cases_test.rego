# Tests of the default approval policy: the shared decision-case table (decision_cases_test.json).
package countersign.approval_test

import data.countersign.approval

# Loaded by `opa test policies` (run from the repository root) at
# data.approval.decision_cases, the data path of this folder; the Wasm tests
# (test/policy/decision-table.test.ts) read the same file.

# A failure names the cases that differ (opa test -v --var-values shows `failing`).
test_decision_table_cases if {
	count(data.approval.decision_cases) >= 25
	failing := {decision_case.name |
		some decision_case in data.approval.decision_cases
		tenants := object.get(decision_case, "data", {})
		result := approval.decision with input as decision_case.input with data.countersign.tenants as tenants
		not _matches_expectation(result, decision_case.expected)
	}
	failing == set()
}

# Outcome, risk level and the exact set of rule ids; reasons are never empty.
_matches_expectation(result, expected) if {
	result.outcome == expected.outcome
	result.risk_level == expected.risk_level
	count(result.reasons) > 0
	count(expected.rule_ids) == count({rule_id | some rule_id in expected.rule_ids})
	_rule_ids(result) == {rule_id | some rule_id in expected.rule_ids}
}
