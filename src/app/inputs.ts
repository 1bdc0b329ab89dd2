import { canonicalize } from '../domain/canonical-json.js';
import { InvalidInputError } from '../domain/errors.js';
import { checkJsonValue } from '../domain/strict-json.js';
import type { ApprovalStatus, Vote } from '../domain/approval-state.js';
import type { ToolHints } from '../policy/decision.js';
import { PRIORITIES, type ExecutionOutcome } from '../domain/transitions.js';

/** What an agent asks to do. */
export interface RequestApprovalInput {
  action: string;
  resource?: string | null;
  context?: unknown;
  agent?: string | null;
  sessionId?: string | null;
  confidence?: number | null;
  estimatedDurationMinutes?: number | null;
  priority?: string | null;
  source?: string | null;
  idempotencyKey?: string | null;
  ttlSeconds?: number | null;
  /** The annotations of the MCP tool this action calls (untrusted hints). */
  toolHints?: ToolHints | null;
}

export interface DecideInput {
  approvalId: string;
  decision: Vote;
  comment?: string | null;
}


export interface ExecuteInput {
  token: string;
  action: string;
  resource?: string | null;
  context?: unknown;
  outcome?: ExecutionOutcome | null;
  result?: unknown;
  dryRun?: boolean | null;
}

export interface CompleteExecutionInput {
  executionId: string;
  outcome: ExecutionOutcome;
  result?: unknown;
}

export interface UpdateTenantSettingsInput {
  threshold?: number | null;
  allowlist?: string[] | null;
  denylist?: string[] | null;
  requestTtlSeconds?: number | null;
  tokenTtlSeconds?: number | null;
}

export interface ApprovalFilter {
  status?: ApprovalStatus | null;
  action?: string | null;
  agent?: string | null;
  sessionId?: string | null;
  first?: number | null;
  after?: string | null;
}

export interface AuditFilter {
  approvalId?: string | null;
  type?: string | null;
  actor?: string | null;
  since?: Date | null;
  until?: Date | null;
  first?: number | null;
  after?: string | null;
}

export const MAX_TTL_SECONDS = 7 * 24 * 3600;
const MAX_CONTEXT_BYTES = 64 * 1024;
/** Deepest nesting of a context or result: deeper is refused before anything recurses into it. */
const MAX_JSON_DEPTH = 64;
const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/;

/** A required short identifier such as an action type. */
export function name(field: string, value: unknown, max = 256): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidInputError(field, 'is required');
  if (value.length > max) throw new InvalidInputError(field, `must be at most ${max} characters`);
  if (!NAME_PATTERN.test(value)) {
    throw new InvalidInputError(field, 'may hold letters, digits and _ . : / - and must start with a letter or digit');
  }
  return value;
}

/** Matches a UTF-16 code unit that is not part of a surrogate pair: text that has no UTF-8 form. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** An optional free-text field: absent, or a non-empty string of well-formed Unicode within `max`. */
export function optionalText(field: string, value: unknown, max = 1024): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0) throw new InvalidInputError(field, 'must be a non-empty string when given');
  if (value.length > max) throw new InvalidInputError(field, `must be at most ${max} characters`);
  // Every text ends up in a hashed audit event, whose canonical JSON refuses unpaired surrogates:
  // refuse them here, before anything is written.
  if (LONE_SURROGATE.test(value)) throw new InvalidInputError(field, 'must be well-formed Unicode (it holds an unpaired surrogate)');
  return value;
}

/**
 * Any JSON value an execution reports (its result), or null when absent. It is audited, so it
 * must have a canonical JSON form (no unpaired surrogates, nesting within the limit) and a
 * bounded size; both are checked here, before anything is written.
 */
export function jsonValue(field: string, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  let canonical: string;
  try {
    checkJsonValue('$', value, MAX_JSON_DEPTH);
    canonical = canonicalize(value);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidInputError(field, `${error.field}: ${error.problem}`);
    throw error;
  }
  if (utf8Bytes(canonical) > MAX_CONTEXT_BYTES) throw new InvalidInputError(field, `must be at most ${MAX_CONTEXT_BYTES} bytes of JSON (UTF-8)`);
  return value;
}

/**
 * The action's context: a JSON object of bounded depth (checked without recursion, before
 * anything recurses into it) and size, counted in bytes of UTF-8 JSON as stored and hashed.
 */
export function contextObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(field, 'must be a JSON object');
  }
  checkJsonValue(field, value, MAX_JSON_DEPTH);
  if (utf8Bytes(JSON.stringify(value)) > MAX_CONTEXT_BYTES) {
    throw new InvalidInputError(field, `must be at most ${MAX_CONTEXT_BYTES} bytes of JSON (UTF-8)`);
  }
  return value as Record<string, unknown>;
}

export function optionalNumber(field: string, value: unknown, min: number, max: number): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidInputError(field, `must be a number from ${min} to ${max}`);
  }
  return value;
}

export function optionalInteger(field: string, value: unknown, min: number, max: number): number | null {
  const number = optionalNumber(field, value, min, max);
  if (number !== null && !Number.isInteger(number)) throw new InvalidInputError(field, 'must be a whole number');
  return number;
}

export function priority(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !(PRIORITIES as readonly string[]).includes(value)) {
    throw new InvalidInputError('priority', `must be one of ${PRIORITIES.join(', ')}`);
  }
  return value;
}

export function nameList(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw new InvalidInputError(field, 'must be a list');
  if (value.length > 500) throw new InvalidInputError(field, 'must hold at most 500 entries');
  return [...new Set(value.map((entry, index) => name(`${field}[${index}]`, entry)))];
}
