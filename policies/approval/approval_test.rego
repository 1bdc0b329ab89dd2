# METADATA
# title: Tests of the Countersign default approval policy
# description: >-
#   One test per seed rule row and risk factor, the precedence between rule
#   groups, malformed input, tenant settings, and the shared decision-case table
#   in test/decision-cases/data.json.
# custom: {id: CS-POLICY-TEST}
package countersign.approval_test

import data.countersign.approval

# A well-formed request that no rule covers: crm_sync scores no risk points.
_request := {
	"tenant": "acme",
	"requester": {"subject": "agent-7", "roles": ["agent"]},
	"agent": "ops-bot",
	"action": "crm_sync",
	"resource": "crm/1",
	"context": {},
}

# The base request with the given fields replaced (nested objects are merged).
_input(fields) := object.union(_request, fields)

_rule_ids(result) := {reason.rule_id | some reason in result.reasons}

_requires_approval_by(result, rule_ids) if {
	result.outcome == "require_approval"
	_rule_ids(result) == rule_ids
}

# --- Seed 000 risk scoring table, one row each.

test_risk_email_response_scores_one if {
	approval.decision.risk_score == 1 with input as _input({"action": "email_response"})
}

test_risk_follow_up_scores_one if {
	approval.decision.risk_score == 1 with input as _input({"action": "follow_up"})
}

test_risk_meeting_request_scores_two if {
	approval.decision.risk_score == 2 with input as _input({"action": "meeting_request"})
}

test_risk_document_creation_scores_three if {
	approval.decision.risk_score == 3 with input as _input({"action": "document_creation"})
}

test_risk_data_analysis_scores_four if {
	approval.decision.risk_score == 4 with input as _input({"action": "data_analysis"})
}

test_risk_report_generation_scores_four if {
	approval.decision.risk_score == 4 with input as _input({"action": "report_generation"})
}

test_risk_unlisted_action_scores_zero if {
	approval.decision.risk_score == 0 with input as _request
}

test_risk_duration_over_180_scores_three if {
	approval.decision.risk_score == 3 with input as _input({"estimated_duration_minutes": 181})
}

test_risk_duration_over_120_scores_two if {
	approval.decision.risk_score == 2 with input as _input({"estimated_duration_minutes": 180})
	approval.decision.risk_score == 2 with input as _input({"estimated_duration_minutes": 121})
}

test_risk_duration_over_60_scores_one if {
	approval.decision.risk_score == 1 with input as _input({"estimated_duration_minutes": 120})
	approval.decision.risk_score == 1 with input as _input({"estimated_duration_minutes": 61})
}

test_risk_duration_of_60_scores_zero if {
	approval.decision.risk_score == 0 with input as _input({"estimated_duration_minutes": 60})
}

test_risk_duration_counts_only_the_highest_band if {
	approval.decision.risk_score == 3 with input as _input({"estimated_duration_minutes": 500})
}

test_risk_priority_high_scores_two if {
	approval.decision.risk_score == 2 with input as _input({"priority": "high"})
}

test_risk_priority_critical_scores_three if {
	approval.decision.risk_score == 3 with input as _input({"priority": "critical"})
}

test_risk_priority_low_and_normal_score_zero if {
	approval.decision.risk_score == 0 with input as _input({"priority": "low"})
	approval.decision.risk_score == 0 with input as _input({"priority": "normal"})
}

test_risk_external_source_scores_one if {
	approval.decision.risk_score == 1 with input as _input({"source": "external"})
	approval.decision.risk_score == 1 with input as _input({"source": "External"})
	approval.decision.risk_score == 0 with input as _input({"source": "internal"})
}

# --- Seed 003 risk factors (the points are ours; the seed names the factors).

test_risk_high_value_payment_scores_four if {
	approval.decision.risk_score == 4 with input as _input({"action": "payment", "context": {"amount": 1000.5}})
}

test_risk_medium_value_payment_scores_two if {
	approval.decision.risk_score == 2 with input as _input({"action": "payment", "context": {"amount": 1000}})
	approval.decision.risk_score == 2 with input as _input({"action": "transfer", "context": {"amount": 101}})
}

test_risk_low_value_payment_scores_zero if {
	approval.decision.risk_score == 0 with input as _input({"action": "withdrawal", "context": {"amount": 100}})
}

test_risk_payment_of_unknown_amount_scores_as_high_value if {
	approval.decision.risk_score == 4 with input as _input({"action": "payment"})
}

test_risk_amount_outside_payments_scores_zero if {
	approval.decision.risk_score == 0 with input as _input({"context": {"amount": 5000}})
}

test_risk_deletion_scores_three if {
	approval.decision.risk_score == 3 with input as _input({"action": "delete_file"})
}

test_risk_production_scores_three if {
	approval.decision.risk_score == 3 with input as _input({"context": {"environment": "production"}})
}

test_risk_bulk_scores_two if {
	approval.decision.risk_score == 2 with input as _input({"context": {"bulk": true}})
}

test_risk_sensitive_action_scores_four if {
	approval.decision.risk_score == 4 with input as _input({"action": "api_key_create"})
}

test_risk_factors_add_up if {
	fields := {
		"action": "delete_records",
		"context": {"environment": "production", "bulk": true},
		"priority": "critical",
		"source": "external",
	}
	result := approval.decision with input as _input(fields)

	# 3 deletion + 3 production + 2 bulk + 3 priority + 1 external source
	result.risk_score == 12
	result.risk_level == "critical"
}

test_risk_levels_follow_the_seed_bands if {
	every fields_and_level in [
		[{"action": "document_creation"}, "low"], # 3
		[{"action": "data_analysis"}, "medium"], # 4
		[{"action": "data_analysis", "source": "external"}, "medium"], # 5
		[{"action": "data_analysis", "priority": "high"}, "high"], # 6
		[{"action": "data_analysis", "priority": "critical"}, "high"], # 7
		[{"action": "data_analysis", "priority": "critical", "source": "external"}, "critical"], # 8
	] {
		[fields, level] := fields_and_level
		approval.decision.risk_level == level with input as _input(fields)
	}
}

# --- Seed 000 priority rules.

test_critical_risk_escalates_to_admin if {
	fields := {"action": "report_generation", "priority": "critical", "source": "external"}
	result := approval.decision with input as _input(fields)
	_requires_approval_by(result, {"CS-210", "CS-211", "CS-214"})
	result.escalated == true
	result.approver_roles == ["admin"]
	result.required_approvals == 2
}

test_high_risk_requires_two_approvers if {
	fields := {"action": "document_creation", "priority": "critical", "confidence": 1}
	result := approval.decision with input as _input(fields)
	_requires_approval_by(result, {"CS-211"})
	result.required_approvals == 2
	result.approver_roles == ["approver"]
	result.escalated == false
}

test_duration_over_120_requires_approval if {
	result := approval.decision with input as _input({"estimated_duration_minutes": 121, "confidence": 1})
	_requires_approval_by(result, {"CS-212"})
}

test_duration_of_120_does_not_require_approval if {
	approval.decision.outcome == "allow" with input as _input({"estimated_duration_minutes": 120, "confidence": 1})
}

test_data_analysis_requires_approval if {
	result := approval.decision with input as _input({"action": "data_analysis", "confidence": 1})
	_requires_approval_by(result, {"CS-213"})
	result.required_approvals == 1
	result.approver_roles == ["approver"]
}

test_report_generation_requires_approval if {
	result := approval.decision with input as _input({"action": "report_generation", "confidence": 1})
	_requires_approval_by(result, {"CS-214"})
}

test_email_response_under_30_minutes_auto_approves if {
	result := approval.decision with input as _input({"action": "email_response", "estimated_duration_minutes": 29})
	result.outcome == "allow"
	_rule_ids(result) == {"CS-310"}
	result.required_approvals == 0
	result.approver_roles == []
}

test_email_response_of_30_minutes_is_not_auto_approved if {
	result := approval.decision with input as _input({"action": "email_response", "estimated_duration_minutes": 30})
	_requires_approval_by(result, {"CS-900"})
}

test_email_response_without_duration_is_not_auto_approved if {
	result := approval.decision with input as _input({"action": "email_response"})
	_requires_approval_by(result, {"CS-900"})
}

test_follow_up_low_risk_under_30_minutes_auto_approves if {
	fields := {"action": "follow_up", "estimated_duration_minutes": 10, "source": "external"}
	result := approval.decision with input as _input(fields)
	result.outcome == "allow"
	_rule_ids(result) == {"CS-311"}
}

test_follow_up_medium_risk_is_not_auto_approved if {
	fields := {"action": "follow_up", "estimated_duration_minutes": 10, "priority": "critical"}
	result := approval.decision with input as _input(fields)
	result.risk_level == "medium"
	_requires_approval_by(result, {"CS-900"})
}

test_follow_up_of_30_minutes_is_not_auto_approved if {
	result := approval.decision with input as _input({"action": "follow_up", "estimated_duration_minutes": 30})
	_requires_approval_by(result, {"CS-900"})
}

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

# --- Seed 003 requires_approval.

test_payment_of_500_requires_approval if {
	result := approval.decision with input as _input({"action": "payment", "context": {"amount": 500}})
	_requires_approval_by(result, {"CS-220"})
}

test_payment_below_500_does_not_require_approval if {
	fields := {"action": "payment", "context": {"amount": 499.99}, "confidence": 1}
	approval.decision.outcome == "allow" with input as _input(fields)
}

test_transfer_and_withdrawal_are_payments if {
	every action in ["transfer", "withdrawal"] {
		result := approval.decision with input as _input({"action": action, "context": {"amount": 750}})
		_requires_approval_by(result, {"CS-220"})
	}
}

test_payment_without_usable_amount_requires_approval if {
	every context in [{}, {"amount": "5000"}, {"amount": -5000}, {"amount": null}] {
		fields := {"action": "payment", "context": context, "confidence": 1}
		result := approval.decision with input as _input(fields)
		_requires_approval_by(result, {"CS-220"})
	}
}

test_bulk_operation_requires_approval if {
	result := approval.decision with input as _input({"context": {"bulk": true}, "confidence": 1})
	_requires_approval_by(result, {"CS-221"})
}

test_bulk_flag_other_than_false_counts if {
	result := approval.decision with input as _input({"context": {"bulk": "yes"}, "confidence": 1})
	_requires_approval_by(result, {"CS-221"})
}

test_bulk_false_does_not_require_approval if {
	approval.decision.outcome == "allow" with input as _input({"context": {"bulk": false}, "confidence": 1})
}

test_production_environment_requires_approval if {
	result := approval.decision with input as _input({"context": {"environment": "Production"}, "confidence": 1})
	_requires_approval_by(result, {"CS-222"})
}

test_other_environment_does_not_require_approval if {
	approval.decision.outcome == "allow" with input as _input({"context": {"environment": "staging"}, "confidence": 1})
}

test_deletion_requires_approval if {
	result := approval.decision with input as _input({"action": "bulk_DELETE_users", "confidence": 1})
	_requires_approval_by(result, {"CS-223"})
}

test_api_key_create_requires_approval if {
	result := approval.decision with input as _input({"action": "api_key_create", "confidence": 1})
	_requires_approval_by(result, {"CS-224"})
}

test_user_permission_change_requires_approval if {
	result := approval.decision with input as _input({"action": "user_permission_change", "confidence": 1})
	_requires_approval_by(result, {"CS-224"})
}

test_database_modification_requires_approval if {
	result := approval.decision with input as _input({"action": "database_modification", "confidence": 1})
	_requires_approval_by(result, {"CS-224"})
}

# --- Precedence.

test_denylist_beats_allowlist_and_mandatory_rules if {
	tenants := {"acme": {"allowlist": ["delete_account"], "denylist": ["delete_account"]}}
	request := _input({"action": "delete_account", "context": {"environment": "production"}})
	result := approval.decision with input as request with data.countersign.tenants as tenants
	result.outcome == "deny"
	_rule_ids(result) == {"CS-110"}
}

test_denylist_beats_critical_escalation if {
	tenants := {"acme": {"denylist": ["report_generation"]}}
	request := _input({"action": "report_generation", "priority": "critical", "source": "external"})
	result := approval.decision with input as request with data.countersign.tenants as tenants
	result.outcome == "deny"
	result.risk_level == "critical"
	result.escalated == false
	result.required_approvals == 0
}

test_mandatory_rule_beats_allowlist if {
	tenants := {"acme": {"allowlist": ["delete_draft"]}}
	request := _input({"action": "delete_draft", "confidence": 1})
	result := approval.decision with input as request with data.countersign.tenants as tenants
	_requires_approval_by(result, {"CS-223"})
}

test_mandatory_rule_beats_auto_approval if {
	fields := {"action": "email_response", "estimated_duration_minutes": 5, "context": {"bulk": true}}
	result := approval.decision with input as _input(fields)
	_requires_approval_by(result, {"CS-221"})
}

test_mandatory_rule_beats_threshold if {
	result := approval.decision with input as _input({"action": "payment", "context": {"amount": 1500}, "confidence": 1})
	_requires_approval_by(result, {"CS-220"})
}

test_malformed_field_beats_allow_rules if {
	tenants := {"acme": {"allowlist": ["crm_sync"]}}
	result := approval.decision with input as _input({"confidence": 7}) with data.countersign.tenants as tenants
	_requires_approval_by(result, {"CS-202"})
}

test_unusable_request_beats_denylist if {
	tenants := {"acme": {"denylist": [""]}}
	result := approval.decision with input as _input({"action": ""}) with data.countersign.tenants as tenants
	result.outcome == "deny"
	_rule_ids(result) == {"CS-102"}
}

test_every_allow_rule_that_fired_is_a_reason if {
	tenants := {"acme": {"allowlist": ["email_response"]}}
	request := _input({"action": "email_response", "estimated_duration_minutes": 5, "confidence": 0.9})
	result := approval.decision with input as request with data.countersign.tenants as tenants
	result.outcome == "allow"
	[reason.rule_id | some reason in result.reasons] == ["CS-301", "CS-310", "CS-320"]
}

test_mandatory_reasons_are_listed_in_rule_id_order if {
	fields := {
		"action": "delete_records",
		"context": {"environment": "production", "bulk": true},
		"priority": "critical",
		"estimated_duration_minutes": 300,
		"confidence": "sure",
	}
	result := approval.decision with input as _input(fields)
	[reason.rule_id | some reason in result.reasons] == [
		"CS-202", "CS-210", "CS-211", "CS-212",
		"CS-221", "CS-222", "CS-223",
	]
}

test_nothing_matched_requires_one_approval if {
	result := approval.decision with input as _request
	_requires_approval_by(result, {"CS-900"})
	result.required_approvals == 1
	result.approver_roles == ["approver"]
	result.escalated == false
}

# --- Malformed and missing input.

test_missing_tenant_is_denied if {
	result := approval.decision with input as object.remove(_request, ["tenant"])
	result.outcome == "deny"
	_rule_ids(result) == {"CS-101"}
}

test_blank_padded_or_non_string_tenant_is_denied if {
	every tenant in ["", "  ", "acme ", 7, null, {"id": "acme"}] {
		result := approval.decision with input as _input({"tenant": tenant})
		result.outcome == "deny"
		_rule_ids(result) == {"CS-101"}
	}
}

test_missing_action_is_denied if {
	result := approval.decision with input as object.remove(_request, ["action"])
	result.outcome == "deny"
	_rule_ids(result) == {"CS-102"}
}

test_blank_padded_or_non_string_action_is_denied if {
	every action in ["", "\t", " wire_transfer", 42, null, ["payment"]] {
		result := approval.decision with input as _input({"action": action})
		result.outcome == "deny"
		_rule_ids(result) == {"CS-102"}
	}
}

test_empty_or_non_object_input_is_denied if {
	every request in [{}, "payment", [], null] {
		result := approval.decision with input as request
		result.outcome == "deny"
		_rule_ids(result) == {"CS-101", "CS-102"}
	}
}

test_context_that_is_not_an_object_requires_approval if {
	every context in ["amount=5", [], 5, true] {
		result := approval.decision with input as _input({"context": context, "confidence": 1})
		_requires_approval_by(result, {"CS-201"})
	}
}

test_missing_context_is_treated_as_empty if {
	result := approval.decision with input as object.remove(_request, ["context"])
	_requires_approval_by(result, {"CS-900"})
}

test_malformed_confidence_requires_approval if {
	every confidence in [1.01, -0.1, "0.99", true, {}] {
		result := approval.decision with input as _input({"confidence": confidence})
		_requires_approval_by(result, {"CS-202"})
	}
}

test_malformed_duration_requires_approval if {
	every duration in [-1, "10", false] {
		fields := {"action": "email_response", "estimated_duration_minutes": duration, "confidence": 1}
		result := approval.decision with input as _input(fields)
		_requires_approval_by(result, {"CS-203"})
	}
}

test_unknown_priority_requires_approval if {
	every priority in ["urgent", "HIGH", 1] {
		result := approval.decision with input as _input({"priority": priority, "confidence": 1})
		_requires_approval_by(result, {"CS-204"})
	}
}

test_non_string_source_requires_approval if {
	result := approval.decision with input as _input({"source": ["external"], "confidence": 1})
	_requires_approval_by(result, {"CS-205"})
}

test_null_optional_fields_count_as_absent if {
	fields := {
		"agent": null, "resource": null, "confidence": null, "estimated_duration_minutes": null,
		"priority": null, "source": null, "context": null,
	}
	result := approval.decision with input as _input(fields)
	_requires_approval_by(result, {"CS-900"})
}

test_several_malformed_fields_are_all_reported if {
	fields := {"context": 1, "confidence": "x", "estimated_duration_minutes": -5, "priority": "?", "source": 0}
	result := approval.decision with input as _input(fields)
	_requires_approval_by(result, {"CS-201", "CS-202", "CS-203", "CS-204", "CS-205"})
}

# --- Malformed tenant settings never fall back to a more permissive default.

test_malformed_settings_require_approval if {
	every settings in [
		"permissive",
		{"threshold": "0.99"},
		{"threshold": 1.5},
		{"allowlist": "crm_sync"},
		{"denylist": ["crm_sync", 7]},
		{"request_ttl_seconds": 0},
		{"request_ttl_seconds": 604801},
		{"token_ttl_seconds": 1.5},
		{"treshold": 0.99},
	] {
		request := _input({"confidence": 1})
		result := approval.decision with input as request with data.countersign.tenants as {"acme": settings}
		_requires_approval_by(result, {"CS-206"})
	}
}

test_malformed_settings_message_names_the_settings if {
	tenants := {"acme": {"threshold": "high", "treshold": 0.9, "denylist": {}}}
	result := approval.decision with input as _input({"confidence": 1}) with data.countersign.tenants as tenants
	result.reasons == [{
		"rule_id": "CS-206",
		"message": "settings of tenant 'acme' are malformed: threshold, denylist, unknown key 'treshold'",
	}]
}

test_null_settings_count_as_unset if {
	tenants := {"acme": {"threshold": null, "allowlist": null, "denylist": null, "request_ttl_seconds": null}}
	request := _input({"confidence": 0.85})
	approval.decision.outcome == "allow" with input as request with data.countersign.tenants as tenants
}

# --- Output shape and expiry.

test_decision_has_exactly_the_contract_keys if {
	keys := {
		"outcome", "risk_score", "risk_level", "reasons", "required_approvals",
		"approver_roles", "escalated", "request_ttl_seconds", "token_ttl_seconds",
	}
	every fields in [{}, {"confidence": 1}, {"tenant": null}] {
		object.keys(approval.decision) == keys with input as _input(fields)
	}
}

test_policy_bug_fails_safe_to_an_admin if {
	result := approval.decision with input as _request with approval._verdict as {}
	_requires_approval_by(result, {"CS-000"})
	result.escalated == true
	result.approver_roles == ["admin"]
}

test_reason_messages_include_the_values if {
	result := approval.decision with input as _input({"action": "payment", "context": {"amount": 1500}})
	result.reasons == [{"rule_id": "CS-220", "message": "payment of 1500 is at or above the limit of 500"}]
}

test_request_ttl_follows_priority_by_default if {
	approval.decision.request_ttl_seconds == 3600 with input as _request
	approval.decision.request_ttl_seconds == 3600 with input as _input({"priority": "high"})
	approval.decision.request_ttl_seconds == 1800 with input as _input({"priority": "critical"})
	approval.decision.request_ttl_seconds == 86400 with input as _input({"priority": "low"})
}

test_tenant_request_ttl_replaces_the_default if {
	tenants := {"acme": {"request_ttl_seconds": 7200}}
	request := _input({"priority": "critical"})
	approval.decision.request_ttl_seconds == 7200 with input as request with data.countersign.tenants as tenants
}

test_token_ttl_defaults_to_300_seconds if {
	approval.decision.token_ttl_seconds == 300 with input as _request
}

test_tenant_token_ttl_replaces_the_default if {
	tenants := {"acme": {"token_ttl_seconds": 60}}
	approval.decision.token_ttl_seconds == 60 with input as _request with data.countersign.tenants as tenants
}

# --- The shared decision-case table (test/decision-cases/data.json).

test_decision_table_cases if {
	count(data.decision_cases) >= 25
	every decision_case in data.decision_cases {
		tenants := object.get(decision_case, "data", {})
		result := approval.decision with input as decision_case.input with data.countersign.tenants as tenants
		_matches_expectation(result, decision_case.expected)
	}
}

# Outcome, risk level and the exact set of rule ids; reasons are never empty.
_matches_expectation(result, expected) if {
	result.outcome == expected.outcome
	result.risk_level == expected.risk_level
	count(result.reasons) > 0
	count(expected.rule_ids) == count({rule_id | some rule_id in expected.rule_ids})
	_rule_ids(result) == {rule_id | some rule_id in expected.rule_ids}
}
