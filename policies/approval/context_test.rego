# Tests of the default approval policy: reading the context as a careful human would.
package countersign.approval_test

import data.countersign.approval

test_production_is_recognised_after_trimming_and_case_folding if {
	every environment in ["production", " production", "PRODUCTION ", "\tProduction\n", "Production"] {
		result := approval.decision with input as _input({"context": {"environment": environment}, "confidence": 0.9})
		_requires_approval_by(result, {"CS-222"})
		result.risk_score == 3
	}
}

test_production_aliases_count_as_production if {
	every environment in ["prod", "PRD", " Live ", "Prod"] {
		result := approval.decision with input as _input({"context": {"environment": environment}, "confidence": 0.9})
		_requires_approval_by(result, {"CS-222"})
	}
}

test_other_environments_are_not_production if {
	every environment in ["staging", "pre-prod", "production-like", "dev", "", 1, true, null] {
		result := approval.decision with input as _input({"context": {"environment": environment}, "confidence": 0.9})
		result.outcome == "allow"
	}
}

test_context_keys_are_read_case_insensitively if {
	every key in ["Environment", "ENVIRONMENT", " environment "] {
		context := {key: "production"}
		result := approval.decision with input as _input({"context": context, "confidence": 0.9})
		_requires_approval_by(result, {"CS-222"})
	}
}

test_bulk_and_amount_keys_are_read_case_insensitively if {
	bulk := approval.decision with input as _input({"context": {"BULK": true}, "confidence": 1})
	_requires_approval_by(bulk, {"CS-221"})

	payment := approval.decision with input as _input({"action": "payment", "context": {"Amount": 10}, "confidence": 1})
	payment.outcome == "allow"
	payment.risk_score == 0
}

test_keys_that_differ_only_in_case_require_approval if {
	context := {"environment": "staging", "Environment": "production"}
	result := approval.decision with input as _input({"context": context, "confidence": 1})
	_requires_approval_by(result, {"CS-207", "CS-222"})
	some reason in result.reasons
	reason.message == "context keys differ only in case or whitespace: environment"
}

test_ambiguous_keys_never_lower_the_risk if {
	context := {"amount": 10, "AMOUNT": 100000, "bulk": false, "Bulk": true}
	result := approval.decision with input as _input({"action": "payment", "context": context, "confidence": 1})
	_requires_approval_by(result, {"CS-207", "CS-211", "CS-220", "CS-221"})

	# 4 high value (an ambiguous amount is not usable) + 2 bulk
	result.risk_score == 6
	some reason in result.reasons
	reason.message == "context keys differ only in case or whitespace: amount, bulk"
}

test_unread_keys_may_differ_in_case if {
	context := {"note": "a", "Note": "b"}
	approval.decision.outcome == "allow" with input as _input({"context": context, "confidence": 1})
}

test_numeric_string_amount_is_an_amount if {
	large := approval.decision with input as _input({"action": "payment", "context": {"amount": "1500"}})
	large.reasons == [{
		"rule_id": "CS-220",
		"message": "payment of 1500 is at or above the limit of 500",
		"fields": ["amount"],
	}]
	large.risk_score == 4

	medium := approval.decision with input as _input({"action": "payment", "context": {"amount": " 750 "}})
	medium.reasons == [{
		"rule_id": "CS-220",
		"message": "payment of 750 is at or above the limit of 500",
		"fields": ["amount"],
	}]
	medium.risk_score == 2

	small := approval.decision with input as _input({"action": "payment", "context": {"amount": "499"}, "confidence": 1})
	small.outcome == "allow"
}

test_string_amounts_that_are_not_plain_numbers_are_not_usable if {
	every amount in ["1,500", "$1500", "-5", "1e3", "0x10", "", "Infinity", "NaN", "15 00"] {
		fields := {"action": "payment", "context": {"amount": amount}, "confidence": 1}
		result := approval.decision with input as _input(fields)
		_requires_approval_by(result, {"CS-220"})
		result.risk_score == 4
	}
}

test_a_reason_names_the_context_keys_it_rests_on_as_spelled if {
	context := {"Environment": " PROD ", "amount": 9000, "note": "quarterly"}
	result := approval.decision with input as _input({"action": "payment", "context": context})
	fields := {reason.rule_id: reason.fields | some reason in result.reasons}
	fields == {"CS-211": [], "CS-220": ["amount"], "CS-222": ["Environment"]}
}

test_ambiguous_keys_are_all_named if {
	result := approval.decision with input as _input({"context": {"amount": 1, "Amount ": 2}, "confidence": 1})
	some reason in result.reasons
	reason.rule_id == "CS-207"
	reason.fields == ["Amount ", "amount"]
}
