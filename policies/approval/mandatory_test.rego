# Tests of the default approval policy: seed 000's priority rules, seed 003's requires_approval.
package countersign.approval_test

import data.countersign.approval

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
