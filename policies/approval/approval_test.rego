# METADATA
# title: Tests of the Countersign default approval policy
# description: >-
#   One test per seed rule row and risk factor, the precedence between rule
#   groups, malformed input, tenant settings, context reading, MCP tool calls,
#   and the shared decision-case table (decision_cases_test.json), one file per
#   rule group. This file holds the shared helpers, the precedence between
#   groups, the output shape and the fail-safe.
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
	result.reasons == [{
		"rule_id": "CS-220",
		"message": "payment of 1500 is at or above the limit of 500",
		"fields": ["amount"],
	}]
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
