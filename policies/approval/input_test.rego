# Tests of the default approval policy: malformed and missing input, and malformed tenant settings.
package countersign.approval_test

import data.countersign.approval

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
		"fields": [],
	}]
}

test_null_settings_count_as_unset if {
	tenants := {"acme": {"threshold": null, "allowlist": null, "denylist": null, "request_ttl_seconds": null}}
	request := _input({"confidence": 0.85})
	approval.decision.outcome == "allow" with input as request with data.countersign.tenants as tenants
}
