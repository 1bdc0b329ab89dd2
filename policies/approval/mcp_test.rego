# Tests of the default approval policy: MCP tool calls and their untrusted tool hints.
package countersign.approval_test

import data.countersign.approval

_tool_call := _input({"action": "mcp.files.read_file", "resource": "mcp:files", "context": {"arguments": {}}})

_allowlisting_the_tool := {"acme": {"allowlist": ["mcp.files.read_file"]}}

test_mcp_tool_not_allowlisted_requires_approval if {
	every hints in [
		null,
		{},
		{"read_only_hint": true},
		{"read_only_hint": true, "destructive_hint": false, "idempotent_hint": true, "open_world_hint": false},
	] {
		result := approval.decision with input as object.union(_tool_call, {"tool_hints": hints, "confidence": 1})
		_requires_approval_by(result, {"CS-231"})
		result.reasons == [{
			"rule_id": "CS-231",
			"message": "MCP tool call 'mcp.files.read_file' is not on the allowlist of tenant 'acme'",
			"fields": [],
		}]
	}
}

test_mcp_tool_without_hints_is_not_allowlisted_by_confidence if {
	result := approval.decision with input as object.remove(object.union(_tool_call, {"confidence": 1}), ["tool_hints"])
	_requires_approval_by(result, {"CS-231"})
}

test_mcp_prefix_is_recognised_in_any_case if {
	result := approval.decision with input as _input({"action": "MCP.files.read_file", "confidence": 1})
	_requires_approval_by(result, {"CS-231"})
}

test_allowlisted_mcp_tool_is_allowed if {
	every hints in [null, {}, {"read_only_hint": true}, {"destructive_hint": false}] {
		request := object.union(_tool_call, {"tool_hints": hints})
		result := approval.decision with input as request with data.countersign.tenants as _allowlisting_the_tool
		result.outcome == "allow"
		_rule_ids(result) == {"CS-301"}
	}
}

test_allowlist_names_one_tool_exactly if {
	request := _input({"action": "mcp.files.write_file", "confidence": 1})
	result := approval.decision with input as request with data.countersign.tenants as _allowlisting_the_tool
	_requires_approval_by(result, {"CS-231"})
}

test_destructive_hint_requires_approval_even_when_allowlisted if {
	request := object.union(_tool_call, {"tool_hints": {"destructive_hint": true, "read_only_hint": true}})
	result := approval.decision with input as request with data.countersign.tenants as _allowlisting_the_tool
	_requires_approval_by(result, {"CS-230"})
	result.risk_score == 3
	result.reasons == [{
		"rule_id": "CS-230",
		"message": "the tool of action 'mcp.files.read_file' declares itself destructive",
		"fields": [],
	}]
}

test_destructive_hint_adds_to_the_other_mcp_findings if {
	result := approval.decision with input as object.union(_tool_call, {"tool_hints": {"destructive_hint": true}})
	_requires_approval_by(result, {"CS-230", "CS-231"})
}

test_open_world_hint_raises_risk if {
	request := object.union(_tool_call, {"tool_hints": {"open_world_hint": true}})
	result := approval.decision with input as request with data.countersign.tenants as _allowlisting_the_tool
	result.outcome == "allow"
	result.risk_score == 1
}

test_hints_never_lower_risk if {
	calm := {"read_only_hint": true, "destructive_hint": false, "idempotent_hint": true, "open_world_hint": false}
	fields := {"action": "mcp.db.delete_rows", "context": {"environment": "prod"}, "tool_hints": calm}
	tenants := {"acme": {"allowlist": ["mcp.db.delete_rows"]}}
	hinted := approval.decision with input as _input(fields) with data.countersign.tenants as tenants
	unhinted := approval.decision with input as object.remove(_input(fields), ["tool_hints"])
		with data.countersign.tenants as tenants
	hinted.risk_score == unhinted.risk_score
	_requires_approval_by(hinted, {"CS-211", "CS-222", "CS-223"})
}

test_destructive_hint_counts_on_any_action if {
	result := approval.decision with input as _input({"tool_hints": {"destructive_hint": true}, "confidence": 1})
	_requires_approval_by(result, {"CS-230"})
}

test_malformed_tool_hints_require_approval if {
	every hints in [
		"destructive",
		[true],
		{"destructive_hint": "yes"},
		{"read_only_hint": 1},
		{"readOnlyHint": true},
	] {
		request := object.union(_tool_call, {"tool_hints": hints})
		result := approval.decision with input as request with data.countersign.tenants as _allowlisting_the_tool
		_requires_approval_by(result, {"CS-208"})
	}
}

test_malformed_tool_hints_message_names_the_hints if {
	hints := {"open_world_hint": "sometimes", "destructive_hint": 0, "colour": "red"}
	request := object.union(_tool_call, {"tool_hints": hints})
	result := approval.decision with input as request with data.countersign.tenants as _allowlisting_the_tool
	result.reasons == [{
		"rule_id": "CS-208",
		"message": "tool_hints are malformed: destructive_hint, open_world_hint, unknown key 'colour'",
		"fields": [],
	}]
}

test_tool_hints_that_are_not_an_object_are_named if {
	request := object.union(_tool_call, {"tool_hints": 7})
	result := approval.decision with input as request with data.countersign.tenants as _allowlisting_the_tool
	result.reasons == [{
		"rule_id": "CS-208",
		"message": "tool_hints are malformed: tool_hints must be an object",
		"fields": [],
	}]
}
