# MCP tool calls (CS-208, CS-230, CS-231).
# Actions named mcp.<server>.<tool> are tool calls relayed by the MCP gateway. A
# tenant allows a tool by listing its action name in the allowlist; any other
# tool call needs a human, whatever the agent's confidence. The tool's MCP
# annotations arrive as input.tool_hints, written by the tool's server and so
# untrusted: a hint may raise risk or require approval, never lower either. A
# read-only or idempotent hint therefore changes nothing.
package countersign.approval

# METADATA
# title: Malformed tool hints
# description: >-
#   tool_hints, when given, must be an object of the four MCP annotation hints,
#   each a boolean (null counts as absent); anything else cannot be relied on.
# custom: {id: CS-208}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	count(_invalid_tool_hints) > 0
	message := concat("", ["tool_hints are malformed: ", concat(", ", _invalid_tool_hints)])
}

# METADATA
# title: Destructive tool
# description: >-
#   A tool hinted as destructive (destructive_hint true) requires approval, even
#   when allowlisted: being listed as routine does not make it reversible.
# custom: {id: CS-230}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	_tool_hints.destructive_hint == true
	message := concat("", ["the tool of action '", _action, "' declares itself destructive"])
}

# METADATA
# title: MCP tool not allowlisted
# description: >-
#   An mcp. action runs unattended only when the tenant allowlists it by name.
#   Missing hints are read the safe way: without the allowlist, a human decides.
# custom: {id: CS-231}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	_is_mcp_action
	not _action in _allowlist
	message := concat("", ["MCP tool call '", _action, "' is not on the allowlist of tenant '", _tenant, "'"])
}

_is_mcp_action if startswith(lower(_action), "mcp.")

_risk_factors["destructive_tool"] := 3 if _tool_hints.destructive_hint == true

_risk_factors["open_world_tool"] := 1 if _tool_hints.open_world_hint == true

default _tool_hints := {}

_tool_hints := input.tool_hints if is_object(input.tool_hints)

_tool_hint_names := ["read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"]

# Names, in a fixed order, of the hints that are present but unusable.
_invalid_tool_hints := ["tool_hints must be an object"] if {
	input.tool_hints != null
	not is_object(input.tool_hints)
} else := array.concat(
	[name |
		some name in _tool_hint_names
		_tool_hints[name] != null
		not is_boolean(_tool_hints[name])
	],
	[concat("", ["unknown key '", key, "'"]) |
		some key in sort(object.keys(_tool_hints))
		not key in _tool_hint_names
	],
)
