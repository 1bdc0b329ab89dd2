# Mandatory approval (CS-210 to CS-224).
# Risks that a list entry, a time estimate or the agent's own confidence cannot
# vouch for: these beat the allowlist, auto-approval and the threshold. The
# validation findings (CS-201 to CS-208) and the MCP rules (CS-23x) join this
# group from their own files.
package countersign.approval

# METADATA
# title: Critical risk escalation
# description: Seed 000 rule 1. Critical risk (score 8 or more) escalates to an admin.
# custom: {id: CS-210}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	_risk_level == "critical"
	message := concat("", ["risk score ", json.marshal(_risk_score), " is critical (8 or more); escalated to admin"])
}

# METADATA
# title: High risk
# description: Seed 000 rule 3. High or critical risk (score 6 or more) requires approval.
# custom: {id: CS-211}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	_risk_level in {"high", "critical"}
	message := concat("", ["risk score ", json.marshal(_risk_score), " (", _risk_level, ") is 6 or more"])
}

# METADATA
# title: Long-running action
# description: Seed 000 rule 2. An estimated duration over 120 minutes requires approval.
# custom: {id: CS-212}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	_duration > 120
	message := concat("", ["estimated duration ", json.marshal(_duration), " minutes is over 120"])
}

# METADATA
# title: Data analysis
# description: Seed 000 rule 4. data_analysis always requires approval.
# custom: {id: CS-213}
_mandatory_findings contains [rego.metadata.rule().custom.id, "data_analysis always requires approval"] if {
	_action == "data_analysis"
}

# METADATA
# title: Report generation
# description: Seed 000 rule 5. report_generation always requires approval.
# custom: {id: CS-214}
_mandatory_findings contains [rego.metadata.rule().custom.id, "report_generation always requires approval"] if {
	_action == "report_generation"
}

# METADATA
# title: Payment at or above 500
# description: >-
#   Seed 003. A payment, transfer or withdrawal of 500 or more requires
#   approval. A missing, non-numeric, negative or ambiguous amount counts as at
#   or above the limit, so an omitted field cannot slip a payment through.
# custom: {id: CS-220}
_mandatory_findings contains [rego.metadata.rule().custom.id, _payment_finding] if _is_payment

# METADATA
# title: Bulk operation
# description: Seed 003. context.bulk set to anything but false or null requires approval.
# custom: {id: CS-221}
_mandatory_findings contains [rego.metadata.rule().custom.id, "bulk operation: multiple items affected"] if _is_bulk

# METADATA
# title: Production environment
# description: >-
#   Seed 003. context.environment production, prod, prd or live (any case,
#   surrounding whitespace ignored) requires approval.
# custom: {id: CS-222}
_mandatory_findings contains [rego.metadata.rule().custom.id, "production environment"] if _is_production

# METADATA
# title: Deletion
# description: Seed 003. An action type containing "delete" (any case) requires approval.
# custom: {id: CS-223}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	_is_deletion
	message := concat("", ["action '", _action, "' deletes data"])
}

# METADATA
# title: Sensitive action
# description: Seed 003. api_key_create, user_permission_change and database_modification require approval.
# custom: {id: CS-224}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	_action in _sensitive_actions
	message := concat("", ["action '", _action, "' is sensitive"])
}

_payment_finding := concat("", [_action, " of ", json.marshal(_amount), " is at or above the limit of 500"]) if {
	_amount >= 500
}

_payment_finding := concat("", [_action, " without a usable amount counts as at or above the limit of 500"]) if {
	not _has_amount
}
