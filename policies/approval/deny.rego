# Deny rules (CS-1xx).
# The request cannot be judged, or the tenant forbids it. Deny beats every other
# group.
package countersign.approval

# METADATA
# title: Tenant missing
# description: >-
#   Without a usable tenant no tenant settings apply, so the request is refused.
#   Surrounding whitespace is refused too: "acme " would silently miss acme's settings.
# custom: {id: CS-101}
_deny_findings contains [rego.metadata.rule().custom.id, message] if {
	not _has_tenant
	message := "tenant must be a non-empty string without surrounding whitespace"
}

# METADATA
# title: Action missing
# description: >-
#   Without a usable action type no rule can judge the request, so it is refused.
#   Surrounding whitespace is refused too: "wire_transfer " would slip past a denylist.
# custom: {id: CS-102}
_deny_findings contains [rego.metadata.rule().custom.id, message] if {
	not _has_action
	message := "action must be a non-empty string without surrounding whitespace"
}

# METADATA
# title: Denylisted action
# description: Seed 002. An action on the tenant's denylist is denied, whatever else applies.
# custom: {id: CS-110}
_deny_findings contains [rego.metadata.rule().custom.id, message] if {
	_action in _denylist
	message := concat("", ["action '", _action, "' is on the denylist of tenant '", _tenant, "'"])
}
