# METADATA
# title: Countersign default approval policy
# description: >-
#   Decides whether an action proposed by an AI agent may run unattended (allow),
#   needs a human countersignature (require_approval) or is refused (deny).
#   Precedence: unusable input and the tenant denylist deny (CS-1xx); then every
#   mandatory-approval rule (CS-2xx); then the allow rules: allowlist,
#   auto-approve rules, confidence threshold (CS-3xx); anything else waits for a
#   human (CS-900). Every reason returned carries the id of the rule behind it;
#   each finding rule below states its id first, under a METADATA title.
# custom: {id: CS-POLICY}
package countersign.approval

# METADATA
# title: Approval decision
# description: >-
#   The single entrypoint, compiled to Wasm. Always an object with the keys
#   outcome, risk_score, risk_level, reasons, required_approvals,
#   approver_roles, escalated, request_ttl_seconds and token_ttl_seconds.
# entrypoint: true
# custom: {id: CS-DECISION}
default decision := {
	"outcome": "require_approval",
	"risk_score": 8,
	"risk_level": "critical",
	"reasons": [{"rule_id": "CS-000", "message": "the policy produced no decision; an admin must approve"}],
	"required_approvals": 2,
	"approver_roles": ["admin"],
	"escalated": true,
	"request_ttl_seconds": 3600,
	"token_ttl_seconds": 300,
}

# The default is a fail-safe for a policy bug (some part left undefined), like
# the server's own: never allow, escalate. Every request is decided here.
decision := {
	"outcome": _verdict.outcome,
	"risk_score": _risk_score,
	"risk_level": _risk_level,
	"reasons": _reasons,
	"required_approvals": _approval.required_approvals,
	"approver_roles": _approval.approver_roles,
	"escalated": _approval.escalated,
	"request_ttl_seconds": _request_ttl_seconds,
	"token_ttl_seconds": _token_ttl_seconds,
}

# The first group with a finding decides, and its findings are the reasons.
_verdict := {"outcome": "deny", "findings": _deny_findings} if {
	count(_deny_findings) > 0
} else := {"outcome": "require_approval", "findings": _mandatory_findings} if {
	count(_mandatory_findings) > 0
} else := {"outcome": "allow", "findings": _allow_findings} if {
	count(_allow_findings) > 0
} else := {"outcome": "require_approval", "findings": _fallback_findings}

# Findings are [rule_id, message] pairs. Sorting them orders reasons by rule id,
# the same in OPA and in Wasm (where set iteration order differs), and the ids
# are numbered in the seeds' priority order.
_reasons := [{"rule_id": rule_id, "message": message} |
	some [rule_id, message] in sort(_verdict.findings)
]

default _approval := {"required_approvals": 0, "approver_roles": [], "escalated": false}

_approval := _approval_for_level(_risk_level) if _verdict.outcome == "require_approval"

_approval_for_level("critical") := {"required_approvals": 2, "approver_roles": ["admin"], "escalated": true}

_approval_for_level("high") := {"required_approvals": 2, "approver_roles": ["approver"], "escalated": false}

_approval_for_level(level) := {"required_approvals": 1, "approver_roles": ["approver"], "escalated": false} if {
	level in {"low", "medium"}
}

# Editing notes (this runs on every request, in Wasm): build messages with concat
# and json.marshal, not sprintf, which is not native to Wasm and calls back into
# the JavaScript SDK each time; guard builtin arguments by type, since in Wasm a
# builtin error aborts the evaluation instead of leaving one expression undefined.

# --- Deny (CS-1xx): the request cannot be judged, or the tenant forbids it.

# METADATA
# title: Tenant missing
# description: >-
#   Without a usable tenant no tenant settings apply, so the request is refused.
#   Surrounding whitespace is refused too: "acme " would silently miss acme's settings.
_deny_findings contains ["CS-101", "tenant must be a non-empty string without surrounding whitespace"] if {
	not _has_tenant
}

# METADATA
# title: Action missing
# description: >-
#   Without a usable action type no rule can judge the request, so it is refused.
#   Surrounding whitespace is refused too: "wire_transfer " would slip past a denylist.
_deny_findings contains ["CS-102", "action must be a non-empty string without surrounding whitespace"] if {
	not _has_action
}

# METADATA
# title: Denylisted action
# description: Seed 002. An action on the tenant's denylist is denied, whatever else applies.
_deny_findings contains ["CS-110", message] if {
	_action in _denylist
	message := concat("", ["action '", _action, "' is on the denylist of tenant '", _tenant, "'"])
}

# --- Mandatory approval (CS-2xx): beats the allowlist, auto-approval and threshold.

# METADATA
# title: Malformed context
# description: A context that is not an object cannot be inspected for amount, bulk or environment.
_mandatory_findings contains ["CS-201", "context must be a JSON object"] if {
	input.context != null
	not is_object(input.context)
}

# METADATA
# title: Malformed confidence
# description: Confidence, when given, must be a number between 0 and 1.
_mandatory_findings contains ["CS-202", "confidence must be a number between 0 and 1"] if {
	input.confidence != null
	not _is_probability(input.confidence)
}

# METADATA
# title: Malformed estimated duration
# description: The estimated duration, when given, must be a non-negative number of minutes.
_mandatory_findings contains ["CS-203", message] if {
	input.estimated_duration_minutes != null
	not _is_non_negative_number(input.estimated_duration_minutes)
	message := "estimated_duration_minutes must be a non-negative number"
}

# METADATA
# title: Unknown priority
# description: Priority, when given, must be one of low, normal, high or critical.
_mandatory_findings contains ["CS-204", "priority must be one of low, normal, high, critical"] if {
	input.priority != null
	not input.priority in _priorities
}

# METADATA
# title: Malformed source
# description: Source, when given, must be a string, or it cannot be told whether it is external.
_mandatory_findings contains ["CS-205", "source must be a string"] if {
	input.source != null
	not is_string(input.source)
}

# METADATA
# title: Malformed tenant settings
# description: >-
#   A tenant setting of the wrong type or an unknown key (a typo such as
#   "treshold") must not silently fall back to a more permissive default.
_mandatory_findings contains ["CS-206", message] if {
	count(_invalid_settings) > 0
	message := concat("", ["settings of tenant '", _tenant, "' are malformed: ", concat(", ", _invalid_settings)])
}

# METADATA
# title: Critical risk escalation
# description: Seed 000 rule 1. Critical risk (score 8 or more) escalates to an admin.
_mandatory_findings contains ["CS-210", message] if {
	_risk_level == "critical"
	message := concat("", ["risk score ", json.marshal(_risk_score), " is critical (8 or more); escalated to admin"])
}

# METADATA
# title: High risk
# description: Seed 000 rule 3. High or critical risk (score 6 or more) requires approval.
_mandatory_findings contains ["CS-211", message] if {
	_risk_level in {"high", "critical"}
	message := concat("", ["risk score ", json.marshal(_risk_score), " (", _risk_level, ") is 6 or more"])
}

# METADATA
# title: Long-running action
# description: Seed 000 rule 2. An estimated duration over 120 minutes requires approval.
_mandatory_findings contains ["CS-212", message] if {
	_duration > 120
	message := concat("", ["estimated duration ", json.marshal(_duration), " minutes is over 120"])
}

# METADATA
# title: Data analysis
# description: Seed 000 rule 4. data_analysis always requires approval.
_mandatory_findings contains ["CS-213", "data_analysis always requires approval"] if {
	_action == "data_analysis"
}

# METADATA
# title: Report generation
# description: Seed 000 rule 5. report_generation always requires approval.
_mandatory_findings contains ["CS-214", "report_generation always requires approval"] if {
	_action == "report_generation"
}

# METADATA
# title: Payment at or above 500
# description: >-
#   Seed 003. A payment, transfer or withdrawal of 500 or more requires
#   approval. A missing, non-numeric or negative amount counts as at or above
#   the limit, so an omitted field cannot slip a payment through.
_mandatory_findings contains ["CS-220", _payment_finding] if _is_payment

# METADATA
# title: Bulk operation
# description: Seed 003. context.bulk set to anything but false or null requires approval.
_mandatory_findings contains ["CS-221", "bulk operation: multiple items affected"] if _is_bulk

# METADATA
# title: Production environment
# description: Seed 003. context.environment "production" (any case) requires approval.
_mandatory_findings contains ["CS-222", "production environment"] if _is_production

# METADATA
# title: Deletion
# description: Seed 003. An action type containing "delete" (any case) requires approval.
_mandatory_findings contains ["CS-223", message] if {
	_is_deletion
	message := concat("", ["action '", _action, "' deletes data"])
}

# METADATA
# title: Sensitive action
# description: Seed 003. api_key_create, user_permission_change and database_modification require approval.
_mandatory_findings contains ["CS-224", message] if {
	_action in _sensitive_actions
	message := concat("", ["action '", _action, "' is sensitive"])
}

# --- Allow (CS-3xx): only reached when no deny or mandatory rule fired.

# METADATA
# title: Allowlisted action
# description: Seed 002. An action on the tenant's allowlist is allowed.
_allow_findings contains ["CS-301", message] if {
	_action in _allowlist
	message := concat("", ["action '", _action, "' is on the allowlist of tenant '", _tenant, "'"])
}

# METADATA
# title: Quick email response
# description: Seed 000 rule 6. email_response estimated under 30 minutes is auto-approved.
_allow_findings contains ["CS-310", message] if {
	_action == "email_response"
	_duration < 30
	message := concat("", ["email_response estimated at ", json.marshal(_duration), " minutes (under 30)"])
}

# METADATA
# title: Low-risk quick follow-up
# description: Seed 000 rule 7. follow_up with low risk estimated under 30 minutes is auto-approved.
_allow_findings contains ["CS-311", message] if {
	_action == "follow_up"
	_risk_level == "low"
	_duration < 30
	message := concat("", ["low-risk follow_up estimated at ", json.marshal(_duration), " minutes (under 30)"])
}

# METADATA
# title: Confidence at or above threshold
# description: Seed 002. Confidence at or above the tenant threshold (default 0.85) is allowed.
_allow_findings contains ["CS-320", message] if {
	_confidence >= _threshold
	message := concat("", [
		"confidence ", json.marshal(_confidence),
		" is at or above the threshold ", json.marshal(_threshold),
	])
}

# --- Nothing matched (CS-900).

# METADATA
# title: No rule matched
# description: Nothing denied, required or allowed the action, so a human decides.
_fallback_findings contains ["CS-900", message] if {
	message := concat("", [
		"no rule allows action '", _action, "': not allowlisted, not auto-approvable, ",
		"confidence missing or below ", json.marshal(_threshold),
	])
}

_payment_finding := concat("", [_action, " of ", json.marshal(_amount), " is at or above the limit of 500"]) if {
	_amount >= 500
}

_payment_finding := concat("", [_action, " without a usable amount counts as at or above the limit of 500"]) if {
	not _has_amount
}

# --- Normalised request. Rules may read input; functions take arguments.

_has_tenant if _is_name(input.tenant)

_has_action if _is_name(input.action)

_tenant := input.tenant if _has_tenant

_action := input.action if _has_action

default _context := {}

_context := input.context if is_object(input.context)

_confidence := input.confidence if _is_probability(input.confidence)

_duration := input.estimated_duration_minutes if _is_non_negative_number(input.estimated_duration_minutes)

default _priority := "normal"

_priority := input.priority if input.priority in _priorities

_is_external if {
	is_string(input.source)
	lower(input.source) == "external"
}

_has_amount if _is_non_negative_number(_context.amount)

_amount := _context.amount if _has_amount

_is_payment if _action in {"payment", "transfer", "withdrawal"}

# Over 1000 is high value (seed 003); an unknown amount counts as high value.
# Not `not _amount <= 1000`: that is undefined, not true, for a missing amount.
_is_high_value if _amount > 1000

_is_high_value if not _has_amount

_is_bulk if {
	_context.bulk != false
	_context.bulk != null
}

_is_production if {
	is_string(_context.environment)
	lower(_context.environment) == "production"
}

_is_deletion if contains(lower(_action), "delete")

_sensitive_actions := {"api_key_create", "user_permission_change", "database_modification"}

# --- Risk score: seed 000's table plus seed 003's risk factors.

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
_risk_factors["action_type"] := _action_risk_points[_action]

# Only the highest duration band counts.
_risk_factors["duration"] := 3 if {
	_duration > 180
} else := 2 if {
	_duration > 120
} else := 1 if {
	_duration > 60
}

_risk_factors["priority"] := _priority_risk_points[_priority]

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

# --- Tenant settings: data.countersign.tenants[tenant], every field optional.

default _tenant_entry := {}

_tenant_entry := data.countersign.tenants[_tenant]

default _settings := {}

_settings := _tenant_entry if is_object(_tenant_entry)

default _threshold := 0.85

_threshold := _settings.threshold if _is_probability(_settings.threshold)

default _allowlist := []

_allowlist := _settings.allowlist if _is_string_list(_settings.allowlist)

default _denylist := []

_denylist := _settings.denylist if _is_string_list(_settings.denylist)

# Seed 001: urgent requests expire sooner, non-urgent ones may wait a day.
# A tenant's request_ttl_seconds replaces these defaults.
_request_ttl_by_priority := {"low": 86400, "normal": 3600, "high": 3600, "critical": 1800}

_request_ttl_seconds := _settings.request_ttl_seconds if {
	_is_ttl(_settings.request_ttl_seconds)
} else := _request_ttl_by_priority[_priority]

default _token_ttl_seconds := 300

_token_ttl_seconds := _settings.token_ttl_seconds if _is_ttl(_settings.token_ttl_seconds)

_setting_names := ["threshold", "allowlist", "denylist", "request_ttl_seconds", "token_ttl_seconds"]

# Names, in a fixed order, of the settings that are present but unusable.
_invalid_settings := ["tenant settings must be an object"] if {
	not is_object(_tenant_entry)
} else := array.concat(
	[name |
		some name in _setting_names
		_settings[name] != null
		not _is_valid_setting(name, _settings[name])
	],
	[concat("", ["unknown key '", key, "'"]) |
		some key in sort(object.keys(_settings))
		not key in _setting_names
	],
)

_is_valid_setting("threshold", value) if _is_probability(value)

_is_valid_setting("allowlist", value) if _is_string_list(value)

_is_valid_setting("denylist", value) if _is_string_list(value)

_is_valid_setting("request_ttl_seconds", value) if _is_ttl(value)

_is_valid_setting("token_ttl_seconds", value) if _is_ttl(value)

# --- Type checks.

# A non-empty identifier without surrounding whitespace.
_is_name(value) if {
	is_string(value)
	value != ""
	trim_space(value) == value
}

_is_probability(value) if {
	is_number(value)
	value >= 0
	value <= 1
}

_is_non_negative_number(value) if {
	is_number(value)
	value >= 0
}

# Whole seconds, at most 7 days (the longest expiry the server accepts).
_is_ttl(value) if {
	is_number(value)
	value > 0
	value <= 604800
	value == round(value)
}

_is_string_list(value) if {
	is_array(value)
	every item in value {
		is_string(item)
	}
}
