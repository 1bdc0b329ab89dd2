# Tests of the default approval policy: risk scoring, one test per row of the seeds' tables.
package countersign.approval_test

import data.countersign.approval

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
