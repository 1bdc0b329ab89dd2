# Request fields and their validation (CS-202 to CS-205).
# The normalised request the other rule groups read, and the mandatory-approval
# findings for optional fields that are present but unusable. A null optional
# field counts as absent. Rules may read input; functions take arguments.
package countersign.approval

# METADATA
# title: Malformed confidence
# description: Confidence, when given, must be a number between 0 and 1.
# custom: {id: CS-202}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	input.confidence != null
	not _is_probability(input.confidence)
	message := "confidence must be a number between 0 and 1"
}

# METADATA
# title: Malformed estimated duration
# description: The estimated duration, when given, must be a non-negative number of minutes.
# custom: {id: CS-203}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	input.estimated_duration_minutes != null
	not _is_non_negative_number(input.estimated_duration_minutes)
	message := "estimated_duration_minutes must be a non-negative number"
}

# METADATA
# title: Unknown priority
# description: Priority, when given, must be one of low, normal, high or critical.
# custom: {id: CS-204}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	input.priority != null
	not input.priority in _priorities
	message := "priority must be one of low, normal, high, critical"
}

# METADATA
# title: Malformed source
# description: Source, when given, must be a string, or it cannot be told whether it is external.
# custom: {id: CS-205}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	input.source != null
	not is_string(input.source)
	message := "source must be a string"
}

_has_tenant if _is_name(input.tenant)

_has_action if _is_name(input.action)

_tenant := input.tenant if _has_tenant

_action := input.action if _has_action

_confidence := input.confidence if _is_probability(input.confidence)

_duration := input.estimated_duration_minutes if _is_non_negative_number(input.estimated_duration_minutes)

default _priority := "normal"

_priority := input.priority if input.priority in _priorities

# Compared after trimming and case-folding, like every free-text value.
_is_external if _folded(input.source) == "external"

_is_payment if _action in {"payment", "transfer", "withdrawal"}

_is_deletion if contains(lower(_action), "delete")

_sensitive_actions := {"api_key_create", "user_permission_change", "database_modification"}
