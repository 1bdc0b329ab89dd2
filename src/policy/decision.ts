/** What the policy is asked: the approval request as the Rego policy sees it (snake_case). */
export interface PolicyInput {
  tenant: string;
  requester: { subject: string; roles: string[] };
  agent: string | null;
  action: string;
  resource: string | null;
  context: Record<string, unknown>;
  confidence?: number | null;
  estimated_duration_minutes?: number | null;
  priority?: string | null;
  source?: string | null;
  /**
   * The MCP annotations of the tool behind an `mcp.<server>.<tool>` action, absent when none were
   * given. Written by the tool's server, so untrusted: the policy lets them raise risk, never lower it.
   */
  tool_hints?: PolicyToolHints | null;
}

/** MCP tool annotations as the policy reads them (snake_case); each absent when not given. */
export interface PolicyToolHints {
  read_only_hint?: boolean;
  destructive_hint?: boolean;
  idempotent_hint?: boolean;
  open_world_hint?: boolean;
}

/** MCP tool annotations as they arrive from GraphQL or an MCP client (camelCase, each optional). */
export interface ToolHints {
  readOnlyHint?: boolean | null;
  destructiveHint?: boolean | null;
  idempotentHint?: boolean | null;
  openWorldHint?: boolean | null;
}

/**
 * The `tool_hints` of the policy input for the given annotations: hints left out or null are
 * absent, and `undefined` when none is given, so that the field is absent from the input. Values
 * are passed as they are: the policy requires approval for a hint that is not a boolean (CS-208).
 */
export function policyToolHints(hints: ToolHints | null | undefined): PolicyToolHints | undefined {
  if (hints === null || hints === undefined) return undefined;
  const policyHints: PolicyToolHints = {};
  if (hints.readOnlyHint != null) policyHints.read_only_hint = hints.readOnlyHint;
  if (hints.destructiveHint != null) policyHints.destructive_hint = hints.destructiveHint;
  if (hints.idempotentHint != null) policyHints.idempotent_hint = hints.idempotentHint;
  if (hints.openWorldHint != null) policyHints.open_world_hint = hints.openWorldHint;
  return Object.keys(policyHints).length > 0 ? policyHints : undefined;
}

export type PolicyOutcome = 'allow' | 'require_approval' | 'deny';
export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';

/** One reason the policy gave, carrying the stable id of the rule that produced it. */
export interface PolicyReason {
  ruleId: string;
  message: string;
  /** The context keys (as the request spelled them) the rule rested on; empty when it read none. */
  fields: string[];
}

/** More keys than a context could sensibly be flagged by is a malformed decision. */
const MAX_REASON_FIELDS = 64;

/** A validated policy decision, with the revision of the bundle that made it. */
export interface PolicyDecision {
  outcome: PolicyOutcome;
  riskScore: number;
  riskLevel: RiskLevel;
  reasons: PolicyReason[];
  requiredApprovals: number;
  approverRoles: string[];
  escalated: boolean;
  requestTtlSeconds: number;
  tokenTtlSeconds: number;
  policyRevision: string;
  /** True when the policy could not be evaluated and the fail-safe decision stands in for it. */
  failSafe: boolean;
}

/** Per-tenant settings, handed to the policy as `data.countersign.tenants[tenant]`. */
export interface TenantPolicySettings {
  threshold?: number;
  allowlist?: string[];
  denylist?: string[];
  request_ttl_seconds?: number;
  token_ttl_seconds?: number;
}

const OUTCOMES: readonly string[] = ['allow', 'require_approval', 'deny'];
const RISK_LEVELS: readonly string[] = ['low', 'medium', 'high', 'critical'];
const MAX_TTL_SECONDS = 7 * 24 * 3600;

/**
 * The rule id of the fail-safe decision. The policy's own default decision (for a policy bug that
 * leaves part of it undefined) uses the same id and the same decision, so that an operator sees
 * one fail-safe whichever side caught the problem.
 */
export const FAIL_SAFE_RULE_ID = 'CS-000';

/**
 * The decision used whenever the policy throws, returns nothing or returns a malformed
 * document: a human must approve, escalated to two admins (as at critical risk), and nothing is
 * ever allowed. Equal, reason message aside, to the Rego entrypoint's default decision.
 */
export function failSafeDecision(problem: string, policyRevision: string): PolicyDecision {
  return {
    outcome: 'require_approval',
    riskScore: 8,
    riskLevel: 'critical',
    reasons: [{ ruleId: FAIL_SAFE_RULE_ID, message: `policy evaluation failed (${problem}); an admin must approve`, fields: [] }],
    requiredApprovals: 2,
    approverRoles: ['admin'],
    escalated: true,
    requestTtlSeconds: 3600,
    tokenTtlSeconds: 300,
    policyRevision,
    failSafe: true,
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;

/**
 * Checks the raw result set of the WASM entrypoint and turns it into a typed decision.
 * Returns a string naming the first problem when the document is not a well-formed decision,
 * so that callers fail safe instead of trusting a half-formed answer.
 */
export function parseDecision(resultSet: unknown, policyRevision: string): PolicyDecision | string {
  if (!Array.isArray(resultSet) || resultSet.length !== 1) return 'the policy returned no decision';
  const first: unknown = resultSet[0];
  const doc = isRecord(first) ? first['result'] : undefined;
  if (!isRecord(doc)) return 'the decision is not an object';
  const {
    outcome,
    risk_score: riskScore,
    risk_level: riskLevel,
    reasons,
    required_approvals: requiredApprovals,
    approver_roles: approverRoles,
    escalated,
    request_ttl_seconds: requestTtlSeconds,
    token_ttl_seconds: tokenTtlSeconds,
  } = doc;
  if (typeof outcome !== 'string' || !OUTCOMES.includes(outcome)) return 'outcome is missing or unknown';
  if (!isCount(riskScore, 1000)) return 'risk_score is not a non-negative integer';
  if (typeof riskLevel !== 'string' || !RISK_LEVELS.includes(riskLevel)) return 'risk_level is missing or unknown';
  if (!Array.isArray(reasons) || reasons.length === 0) return 'reasons are missing';
  const parsedReasons: PolicyReason[] = [];
  for (const reason of reasons) {
    if (!isRecord(reason) || typeof reason['rule_id'] !== 'string' || typeof reason['message'] !== 'string') {
      return 'a reason lacks rule_id or message';
    }
    // A policy need not name fields; one that does names context keys, a bounded list of strings.
    const fields = reason['fields'] ?? [];
    if (!Array.isArray(fields) || fields.length > MAX_REASON_FIELDS || !fields.every((key) => typeof key === 'string' && key.length <= 256)) {
      return 'a reason\'s fields are not a short list of context keys';
    }
    parsedReasons.push({ ruleId: reason['rule_id'], message: reason['message'], fields: fields as string[] });
  }
  if (!isCount(requiredApprovals, 100)) return 'required_approvals is not a small non-negative integer';
  if (!Array.isArray(approverRoles) || !approverRoles.every((role) => typeof role === 'string')) {
    return 'approver_roles is not a list of strings';
  }
  if (outcome === 'require_approval' && (requiredApprovals < 1 || approverRoles.length === 0)) {
    return 'require_approval names no approvers';
  }
  if (typeof escalated !== 'boolean') return 'escalated is not a boolean';
  if (!isCount(requestTtlSeconds, MAX_TTL_SECONDS) || requestTtlSeconds < 1) return 'request_ttl_seconds is out of range';
  if (!isCount(tokenTtlSeconds, MAX_TTL_SECONDS) || tokenTtlSeconds < 1) return 'token_ttl_seconds is out of range';
  return {
    outcome: outcome as PolicyOutcome,
    riskScore,
    riskLevel: riskLevel as RiskLevel,
    reasons: parsedReasons,
    requiredApprovals,
    approverRoles: approverRoles as string[],
    escalated,
    requestTtlSeconds,
    tokenTtlSeconds,
    policyRevision,
    failSafe: false,
  };
}
