# Risk score and level.
# Seed 000's table plus seed 003's risk factors (and the MCP tool hints, in
# mcp.rego). The score adds the points of every factor that applies.
package countersign.approval

_risk_score := sum([points | some points in _risk_factors])

default _risk_level := "low"

_risk_level := "critical" if {
	_risk_score >= 8
} else := "high" if {
	_risk_score >= 6
} else := "medium" if {
	_risk_score >= 4
}

# Factor name to points, for the factors that apply to this request.
_risk_factors["action_type"] := object.get(_action_risk_points, _action, 0)

# Only the highest duration band counts.
_risk_factors["duration"] := 3 if {
	_duration > 180
} else := 2 if {
	_duration > 120
} else := 1 if {
	_duration > 60
}

_risk_factors["priority"] := object.get(_priority_risk_points, _priority, 0)

_risk_factors["external_source"] := 1 if _is_external

_risk_factors["payment_value"] := 4 if {
	_is_payment
	_is_high_value
} else := 2 if {
	_is_payment
	_amount > 100
}

_risk_factors["deletion"] := 3 if _is_deletion

_risk_factors["production"] := 3 if _is_production

_risk_factors["bulk"] := 2 if _is_bulk

_risk_factors["sensitive_action"] := 4 if _action in _sensitive_actions

# Over 1000 is high value (seed 003); an unknown amount counts as high value.
# Not `not _amount <= 1000`: that is undefined, not true, for a missing amount.
_is_high_value if _amount > 1000

_is_high_value if not _has_amount

_action_risk_points := {
	"email_response": 1,
	"follow_up": 1,
	"meeting_request": 2,
	"document_creation": 3,
	"data_analysis": 4,
	"report_generation": 4,
}

_priority_risk_points := {"low": 0, "normal": 0, "high": 2, "critical": 3}

_priorities := object.keys(_priority_risk_points)
