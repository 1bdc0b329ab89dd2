# Tests of the default approval policy: tenant lists and the confidence threshold (seed 002).
package countersign.approval_test

import data.countersign.approval

# --- Seed 002 tenant lists and threshold.

test_denylisted_action_is_denied if {
	tenants := {"acme": {"denylist": ["crm_sync"]}}
	result := approval.decision with input as _input({"confidence": 1}) with data.countersign.tenants as tenants
	result.outcome == "deny"
	_rule_ids(result) == {"CS-110"}
	result.required_approvals == 0
	result.approver_roles == []
}

test_allowlisted_action_is_allowed if {
	tenants := {"acme": {"allowlist": ["crm_sync"]}}
	result := approval.decision with input as _request with data.countersign.tenants as tenants
	result.outcome == "allow"
	_rule_ids(result) == {"CS-301"}
}

test_lists_match_the_action_exactly if {
	tenants := {"acme": {"allowlist": ["crm_sync"], "denylist": ["CRM_SYNC"]}}
	every action in ["Crm_Sync", "crm_sync_all", "crm"] {
		result := approval.decision with input as _input({"action": action}) with data.countersign.tenants as tenants
		_requires_approval_by(result, {"CS-900"})
	}
}

test_confidence_at_default_threshold_is_allowed if {
	result := approval.decision with input as _input({"confidence": 0.85})
	result.outcome == "allow"
	_rule_ids(result) == {"CS-320"}
}

test_confidence_below_default_threshold_is_not_allowed if {
	result := approval.decision with input as _input({"confidence": 0.84})
	_requires_approval_by(result, {"CS-900"})
}

test_tenant_threshold_replaces_the_default if {
	strict := {"acme": {"threshold": 0.95}}
	approval.decision.outcome == "require_approval" with input as _input({"confidence": 0.9})
		with data.countersign.tenants as strict

	lenient := {"acme": {"threshold": 0.5}}
	approval.decision.outcome == "allow" with input as _input({"confidence": 0.6})
		with data.countersign.tenants as lenient
}

test_missing_confidence_never_passes_the_threshold if {
	tenants := {"acme": {"threshold": 0}}
	result := approval.decision with input as _request with data.countersign.tenants as tenants
	_requires_approval_by(result, {"CS-900"})
}

test_settings_of_another_tenant_do_not_apply if {
	tenants := {"acme": {"denylist": ["crm_sync"]}}
	request := _input({"tenant": "globex", "confidence": 0.9})
	result := approval.decision with input as request with data.countersign.tenants as tenants
	_rule_ids(result) == {"CS-320"}
}
