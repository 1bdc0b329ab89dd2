# Type checks and text normalisation.
# Pure functions shared by the rule groups; none reads input or data.
package countersign.approval

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

# Free text as a careful reader compares it: surrounding whitespace dropped,
# case folded. Undefined for anything but a string.
_folded(value) := lower(trim_space(value)) if is_string(value)
