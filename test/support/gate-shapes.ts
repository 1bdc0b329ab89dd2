/** The result shapes the integration tests read back from the GraphQL API. */
import type { TenantSettingsView } from '../../src/app/views.js';
import type { AuditEventFieldsFragment } from '../../src/client/generated/graphql.js';

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

/** An audit event as the tests' documents select it: the SDK's fields but `occurredAt`; details are always an object. */
export type AuditEventData = Omit<AuditEventFieldsFragment, 'occurredAt' | 'details'> & { details: Record<string, unknown> };

export interface ChainVerificationData {
  __typename: 'AuditChainVerification';
  ok: boolean;
  checked: number;
  brokenAt: { seq: number; id: string; reason: string } | null;
}

/** A view as a response's JSON carries it: instants as ISO 8601 strings. */
type Serialized<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

export type TenantSettingsData = { __typename: 'TenantSettings' } & Omit<Serialized<TenantSettingsView>, 'updatedAt'>;

export type Result<T> = T | GateError;
