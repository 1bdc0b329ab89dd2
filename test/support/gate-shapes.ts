/** The result shapes the integration tests read back from the GraphQL API. */

// ------------------------------------------------------------------ result shapes

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'INVALID_INPUT'
  | 'ALREADY_DECIDED'
  | 'SELF_APPROVAL'
  | 'EXPIRED'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_REPLAYED'
  | 'CONTEXT_MISMATCH';

/** The result-union member that carries each code. */
export const ERROR_TYPENAMES: Record<ErrorCode, string> = {
  UNAUTHENTICATED: 'UnauthenticatedError',
  FORBIDDEN: 'ForbiddenError',
  NOT_FOUND: 'NotFoundError',
  INVALID_INPUT: 'InvalidInputError',
  ALREADY_DECIDED: 'AlreadyDecidedError',
  SELF_APPROVAL: 'SelfApprovalError',
  EXPIRED: 'ExpiredError',
  TOKEN_INVALID: 'TokenInvalidError',
  TOKEN_EXPIRED: 'TokenExpiredError',
  TOKEN_REPLAYED: 'TokenReplayedError',
  CONTEXT_MISMATCH: 'ContextMismatchError',
};

/** Any typed failure, with the optional fields of every error type the documents select. */
export interface GateError {
  __typename: string;
  code: ErrorCode;
  message: string;
  requiredRoles?: string[] | null;
  entity?: string;
  /** NotFoundError's `id`: the id that was not found (typed `ID!` like the success members' `id`). */
  id?: string;
  field?: string;
  problem?: string;
  reason?: string;
  /** AlreadyDecidedError's `status`: the approval's status, the same enum as Approval's. */
  status?: ApprovalStatus;
  /** AlreadyDecidedError's `executionStatus`, when an outcome was reported twice. */
  executionStatus?: 'STARTED' | 'SUCCEEDED' | 'FAILED' | null;
  expiresAt?: string;
  expiredAt?: string;
  expectedHash?: string;
  presentedHash?: string;
}

export type ApprovalStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'DENIED' | 'EXPIRED' | 'EXECUTED' | 'FAILED';

export interface ApprovalData {
  __typename: 'Approval';
  id: string;
  status: ApprovalStatus;
  action: string;
  resource: string | null;
  context: unknown;
  contextHash: string;
  requester: string;
  riskScore: number;
  riskLevel: string;
  reasons: { ruleId: string; message: string; fields: string[] }[];
  requiredApprovals: number;
  remainingApprovals: number;
  approverRoles: string[];
  escalated: boolean;
  decisions: { approver: string; decision: 'APPROVE' | 'REJECT'; comment: string | null }[];
  expiresAt: string;
  decidedAt: string | null;
  tokenExpiresAt: string | null;
  decisionToken: string | null;
  createdAt: string;
}

export interface RequestApprovalPayload {
  __typename: 'RequestApprovalPayload';
  approval: ApprovalData;
  token: string | null;
  replayed: boolean;
}

export interface ExecutionData {
  id: string;
  approvalId: string;
  status: 'STARTED' | 'SUCCEEDED' | 'FAILED';
  executor: string;
  result: unknown;
}

export interface ExecutePayload {
  __typename: 'ExecutePayload';
  approval: ApprovalData;
  execution: ExecutionData | null;
  dryRun: boolean;
}

export interface Connection<T, Typename extends string> {
  __typename: Typename;
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface AuditEventData {
  id: string;
  seq: number;
  type: string;
  approvalId: string | null;
  actor: string;
  previousStatus: string | null;
  newStatus: string | null;
  details: Record<string, unknown>;
  previousHash: string;
  hash: string;
}

export interface ChainVerificationData {
  __typename: 'AuditChainVerification';
  ok: boolean;
  checked: number;
  brokenAt: { seq: number; id: string; reason: string } | null;
}

export interface TenantSettingsData {
  __typename: 'TenantSettings';
  tenant: string;
  threshold: number | null;
  allowlist: string[];
  denylist: string[];
  requestTtlSeconds: number | null;
  tokenTtlSeconds: number | null;
  updatedBy: string | null;
}

export type Result<T> = T | GateError;
