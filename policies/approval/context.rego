# Reading the context (CS-201, CS-207).
# The policy reads three context keys: amount, bulk and environment. It reads
# them as a careful human would: keys case-insensitively and ignoring
# surrounding whitespace ("Environment" is environment), values of environment
# after trimming and case-folding, production under its common aliases, and a
# plain numeric string as an amount ("1500" is 1500). Two keys that read as the
# same name ("amount" and "Amount") are ambiguous: the executor may read either,
# so such a request needs a human.
package countersign.approval

# METADATA
# title: Malformed context
# description: A context that is not an object cannot be inspected for amount, bulk or environment.
# custom: {id: CS-201}
_mandatory_findings contains [rego.metadata.rule().custom.id, "context must be a JSON object"] if {
	input.context != null
	not is_object(input.context)
}

# METADATA
# title: Ambiguous context keys
# description: >-
#   More than one context key reads as amount, bulk or environment once case is
#   folded and whitespace trimmed, so which value applies is not clear.
# custom: {id: CS-207}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	count(_ambiguous_context_keys) > 0
	message := concat("", [
		"context keys differ only in case or whitespace: ",
		concat(", ", _ambiguous_context_keys),
	])
}

default _context := {}

_context := input.context if is_object(input.context)

# METADATA
# title: Context keys read
# description: >-
#   The context keys the rules read, compared after trimming and case folding.
#   The server hands the policy only the context members whose key reads as one
#   of these (and any key with non-ASCII characters), so a rule that reads
#   another context key must add it here. (An alias of the private set: with
#   the set itself as the entrypoint, opa build's Wasm type check refuses
#   _fields_of below.)
# entrypoint: true
read_context_keys := _read_context_keys # regal ignore:pointless-reassignment

_read_context_keys := {"amount", "bulk", "environment"}

# Every value given under a key that reads as name, whatever its case and padding.
_context_values[name] := [value |
	some key, value in _context
	_folded(key) == name
] if {
	some name in _read_context_keys
}

# The context names each rule reads. A reason carries the keys, as the request
# spelled them, that its rule rested on, so an approver's screen can point at them.
_rule_reads := {
	"CS-207": _read_context_keys,
	"CS-220": {"amount"},
	"CS-221": {"bulk"},
	"CS-222": {"environment"},
}

_fields_of(rule_id) := sort([key |
	some key, _ in _context
	_folded(key) in object.get(_rule_reads, rule_id, set())
])

_ambiguous_context_keys := [name |
	some name in sort(_read_context_keys)
	count(_context_values[name]) > 1
]

# An amount is a non-negative number or a plain numeric string; given twice it
# is not usable, which counts against a payment (see CS-220).
_has_amount if is_number(_amount)

_amount := _amount_number(value) if [value] := _context_values.amount

_amount_number(value) := value if _is_non_negative_number(value)

_amount_number(value) := to_number(trim_space(value)) if {
	is_string(value)
	regex.match(`^[0-9]+(\.[0-9]+)?$`, trim_space(value))
}

# Risk is read from every value given, so an ambiguous context never scores lower.
_is_bulk if {
	some value in _context_values.bulk
	value != false
	value != null
}

_is_production if {
	some value in _context_values.environment
	_folded(value) in _production_names
}

_production_names := {"production", "prod", "prd", "live"}
