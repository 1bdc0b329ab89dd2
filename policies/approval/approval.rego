# METADATA
# title: Countersign default approval policy
# description: >-
#   Decides whether an action proposed by an AI agent may run unattended (allow),
#   needs a human countersignature (require_approval) or is refused (deny).
#   Precedence: unusable input and the tenant denylist deny (CS-1xx); then every
#   mandatory-approval rule (CS-2xx); then the allow rules: allowlist,
#   auto-approve rules, confidence threshold (CS-3xx); anything else waits for a
#   human (CS-900). Every reason returned carries the id of the rule behind it,
#   read from that rule's METADATA (custom.id), so the id is written once.
#   One rule group per file: deny, input and context validation, mandatory,
#   mcp, allow, risk, settings.
# custom: {id: CS-POLICY}
package countersign.approval

# METADATA
# title: Approval decision
# description: >-
#   The decision entrypoint, compiled to Wasm. Always an object with the keys
#   outcome, risk_score, risk_level, reasons, required_approvals,
#   approver_roles, escalated, request_ttl_seconds and token_ttl_seconds.
#   The default is the fail-safe decision (CS-000) for a policy bug that leaves
#   some part undefined: never allow, escalate to two admins. The server's own
#   fail-safe (src/policy/decision.ts, for a policy that throws or answers a
#   malformed document) is the same decision with the same rule id.
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
_reasons := [{"rule_id": rule_id, "message": message, "fields": _fields_of(rule_id)} |
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
# A finding's rule id is rego.metadata.rule().custom.id: the compiler replaces
# the call with the rule's own annotation, so it costs nothing at evaluation.
