# Allow rules (CS-3xx) and the fallback (CS-900).
# Only reached when no deny or mandatory rule fired. Every allow rule that fires
# is a reason; when none does, a human decides.
package countersign.approval

# METADATA
# title: Allowlisted action
# description: Seed 002. An action on the tenant's allowlist is allowed.
# custom: {id: CS-301}
_allow_findings contains [rego.metadata.rule().custom.id, message] if {
	_action in _allowlist
	message := concat("", ["action '", _action, "' is on the allowlist of tenant '", _tenant, "'"])
}

# METADATA
# title: Quick email response
# description: Seed 000 rule 6. email_response estimated under 30 minutes is auto-approved.
# custom: {id: CS-310}
_allow_findings contains [rego.metadata.rule().custom.id, message] if {
	_action == "email_response"
	_duration < 30
	message := concat("", ["email_response estimated at ", json.marshal(_duration), " minutes (under 30)"])
}

# METADATA
# title: Low-risk quick follow-up
# description: Seed 000 rule 7. follow_up with low risk estimated under 30 minutes is auto-approved.
# custom: {id: CS-311}
_allow_findings contains [rego.metadata.rule().custom.id, message] if {
	_action == "follow_up"
	_risk_level == "low"
	_duration < 30
	message := concat("", ["low-risk follow_up estimated at ", json.marshal(_duration), " minutes (under 30)"])
}

# METADATA
# title: Confidence at or above threshold
# description: Seed 002. Confidence at or above the tenant threshold (default 0.85) is allowed.
# custom: {id: CS-320}
_allow_findings contains [rego.metadata.rule().custom.id, message] if {
	_confidence >= _threshold
	message := concat("", [
		"confidence ", json.marshal(_confidence),
		" is at or above the threshold ", json.marshal(_threshold),
	])
}

# METADATA
# title: No rule matched
# description: Nothing denied, required or allowed the action, so a human decides.
# custom: {id: CS-900}
_fallback_findings contains [rego.metadata.rule().custom.id, message] if {
	message := concat("", [
		"no rule allows action '", _action, "': not allowlisted, not auto-approvable, ",
		"confidence missing or below ", json.marshal(_threshold),
	])
}
