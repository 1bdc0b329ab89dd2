# Tenant settings (CS-206) and expiry times.
# data.countersign.tenants[tenant], every field optional. A setting of the wrong
# type or an unknown key must not silently fall back to a more permissive
# default.
package countersign.approval

# METADATA
# title: Malformed tenant settings
# description: >-
#   A tenant setting of the wrong type or an unknown key (a typo such as
#   "treshold") must not silently fall back to a more permissive default.
# custom: {id: CS-206}
_mandatory_findings contains [rego.metadata.rule().custom.id, message] if {
	count(_invalid_settings) > 0
	message := concat("", ["settings of tenant '", _tenant, "' are malformed: ", concat(", ", _invalid_settings)])
}

default _tenants := {}

_tenants := data.countersign.tenants if is_object(data.countersign.tenants)

default _tenant_entry := {}

_tenant_entry := object.get(_tenants, _tenant, {})

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
} else := object.get(_request_ttl_by_priority, _priority, 3600)

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
