/**
 * Expected business failures of Countersign.
 *
 * Every failure a client can act on is a `CountersignError` with a stable `code` and structured
 * fields. Clients match on `code` (and read the fields); `message` is for humans and may change.
 */

import type { ApprovalStatus, ExecutionStatus } from './vocabulary.js';

/** Every stable error code, in one place so transports can enumerate them. */
export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'INVALID_INPUT',
  'ALREADY_DECIDED',
  'SELF_APPROVAL',
  'EXPIRED',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_REPLAYED',
  'CONTEXT_MISMATCH',
  'RATE_LIMITED',
] as const;

/** The stable machine-readable code carried by every {@link CountersignError}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Base class of all expected Countersign failures. */
export class CountersignError extends Error {
  constructor(
    /** Stable code clients match on. */
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    // Each subclass is named after itself (`SelfApprovalError`, ...) in logs and stack traces.
    this.name = new.target.name;
  }
}

/** The caller presented no credentials, or credentials that could not be verified. */
export class UnauthenticatedError extends CountersignError {
  declare readonly code: 'UNAUTHENTICATED';

  constructor(message = 'Authentication is required.') {
    super('UNAUTHENTICATED', message);
  }
}

/** The caller is authenticated but not allowed to do this. */
export class ForbiddenError extends CountersignError {
  declare readonly code: 'FORBIDDEN';
  /** Roles of which the caller would need at least one, when that is the reason. */
  readonly requiredRoles?: string[];

  constructor(requiredRoles?: readonly string[], message?: string) {
    super(
      'FORBIDDEN',
      message ??
        (requiredRoles === undefined
          ? 'You are not allowed to perform this operation.'
          : requiredRoles.length === 0
            ? 'No role is allowed to perform this operation.'
            : `This operation requires one of the roles: ${requiredRoles.join(', ')}.`),
    );
    if (requiredRoles !== undefined) this.requiredRoles = [...requiredRoles];
  }
}

/** The referenced entity does not exist (or is not visible to the caller's tenant). */
export class NotFoundError extends CountersignError {
  declare readonly code: 'NOT_FOUND';

  constructor(
    /** Kind of entity, e.g. `'Approval'`. */
    readonly entity: string,
    readonly id: string,
  ) {
    super('NOT_FOUND', `${entity} ${JSON.stringify(id)} was not found.`);
  }
}

/** An input value is malformed or out of range. */
export class InvalidInputError extends CountersignError {
  declare readonly code: 'INVALID_INPUT';

  constructor(
    /** Which input is wrong, as a name or JSON path (e.g. `'requiredApprovals'`, `'$.items[2]'`). */
    readonly field: string,
    /** What is wrong with it, in words. */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super('INVALID_INPUT', `Invalid input at ${field}: ${problem}.`, options);
  }
}

/** Why a decision was refused as already made: the approval is closed, or this approver voted. */
export type AlreadyDecidedReason = 'not_pending' | 'already_voted';

/**
 * The approval is no longer pending, this approver has already voted on it, or the execution
 * being completed has already ended.
 */
export class AlreadyDecidedError extends CountersignError {
  declare readonly code: 'ALREADY_DECIDED';
  /** `'not_pending'`: the approval is closed; `'already_voted'`: this approver has voted. */
  readonly reason: AlreadyDecidedReason;
  /** The approval's current status (`PENDING` when this approver has already voted). */
  readonly status: ApprovalStatus;
  /** The approver who already voted (set when `reason` is `'already_voted'`). */
  readonly approver?: string;
  /** The execution that has already ended (set when a second outcome is reported for it). */
  readonly executionId?: string;
  /** How that execution ended. */
  readonly executionStatus?: ExecutionStatus;

  constructor(
    reason: AlreadyDecidedReason,
    message: string,
    details: { status: ApprovalStatus; approver?: string; executionId?: string; executionStatus?: ExecutionStatus },
  ) {
    super('ALREADY_DECIDED', message);
    this.reason = reason;
    this.status = details.status;
    if (details.approver !== undefined) this.approver = details.approver;
    if (details.executionId !== undefined) this.executionId = details.executionId;
    if (details.executionStatus !== undefined) this.executionStatus = details.executionStatus;
  }

  /** The approval is closed with `status`. */
  static notPending(status: ApprovalStatus): AlreadyDecidedError {
    return new AlreadyDecidedError('not_pending', `The approval is no longer pending; its status is ${status}.`, { status });
  }

  /** `approver` has already cast a vote on this approval, which is still pending. */
  static alreadyVoted(approver: string): AlreadyDecidedError {
    return new AlreadyDecidedError('already_voted', `${approver} has already voted on this approval.`, {
      status: 'PENDING',
      approver,
    });
  }

  /** The outcome of `executionId` was already reported as `executionStatus`. */
  static executionCompleted(
    executionId: string,
    executionStatus: ExecutionStatus,
    approvalStatus: ApprovalStatus,
  ): AlreadyDecidedError {
    return new AlreadyDecidedError(
      'not_pending',
      `Execution ${executionId} has already been completed as ${executionStatus}; its outcome cannot be reported twice.`,
      { status: approvalStatus, executionId, executionStatus },
    );
  }
}

/** The requester tried to decide on their own request. */
export class SelfApprovalError extends CountersignError {
  declare readonly code: 'SELF_APPROVAL';

  constructor(
    /** The subject who is both requester and decider. */
    readonly subject: string,
  ) {
    super('SELF_APPROVAL', 'You cannot decide on an approval that you requested.');
  }
}

/** The approval expired before it was decided. */
export class ExpiredError extends CountersignError {
  declare readonly code: 'EXPIRED';

  constructor(readonly expiresAt: Date) {
    super('EXPIRED', `The approval expired at ${expiresAt.toISOString()}.`);
  }
}

/** Why a decision token was refused. */
export type TokenInvalidReason =
  /** Not a well-formed JWS/JWT. */
  | 'malformed'
  /** Signed with an algorithm other than EdDSA (including `none` and HMAC). */
  | 'algorithm'
  /** The signature does not verify. */
  | 'signature'
  /** No published key matches the token's `kid`. */
  | 'unknown_key'
  /** The `typ` header is not a Countersign decision token. */
  | 'typ'
  | 'issuer'
  | 'audience'
  /** A required claim is missing or has the wrong shape. */
  | 'claims'
  /** The token is genuine but its approval is not (or no longer) approved. */
  | 'not_approved';

/** A decision token was refused for a reason other than expiry. */
export class TokenInvalidError extends CountersignError {
  declare readonly code: 'TOKEN_INVALID';

  constructor(
    readonly reason: TokenInvalidReason,
    options?: { cause?: unknown },
  ) {
    super('TOKEN_INVALID', `The decision token is invalid (${TOKEN_INVALID_MESSAGES[reason]}).`, options);
  }
}

const TOKEN_INVALID_MESSAGES: Record<TokenInvalidReason, string> = {
  malformed: 'it is not a well-formed token',
  algorithm: 'it is not signed with EdDSA',
  signature: 'its signature does not verify',
  unknown_key: 'it was signed by a key that is not published',
  typ: 'it is not a Countersign decision token',
  issuer: 'it was issued by an unexpected issuer',
  audience: 'it is meant for a different audience',
  claims: 'a required claim is missing or malformed',
  not_approved: 'its approval is not in an approved state',
};

/** A decision token's `exp` has passed. */
export class TokenExpiredError extends CountersignError {
  declare readonly code: 'TOKEN_EXPIRED';

  constructor(
    readonly expiredAt: Date,
    options?: { cause?: unknown },
  ) {
    super('TOKEN_EXPIRED', `The decision token expired at ${expiredAt.toISOString()}.`, options);
  }
}

/** A decision token has already been used to execute its action. */
export class TokenReplayedError extends CountersignError {
  declare readonly code: 'TOKEN_REPLAYED';

  constructor(
    /** The token's `jti`. */
    readonly jti: string,
  ) {
    super('TOKEN_REPLAYED', 'The decision token has already been used.');
  }
}

/**
 * The action presented for execution is not the one that was approved.
 * `expectedHash` is what the verifier expected; `presentedHash` is what it was given.
 */
export class ContextMismatchError extends CountersignError {
  declare readonly code: 'CONTEXT_MISMATCH';

  constructor(
    readonly expectedHash: string,
    readonly presentedHash: string,
  ) {
    super('CONTEXT_MISMATCH', 'The action context differs from the one that was approved.');
  }
}

/** What a rate limit counts, per caller (or per client address for failed authentication). */
export type RateLimitedOperation = 'requestApproval' | 'execute' | 'authentication';

/** The caller has used up its allowance of `operation` for now; nothing was done. */
export class RateLimitedError extends CountersignError {
  declare readonly code: 'RATE_LIMITED';

  constructor(
    readonly operation: RateLimitedOperation,
    /** Whole seconds until the next attempt can succeed (at least 1). */
    readonly retryAfterSeconds: number,
  ) {
    super(
      'RATE_LIMITED',
      operation === 'authentication'
        ? `Too many failed authentications from this address; retry in ${retryAfterSeconds} s.`
        : `Too many ${operation} calls from this caller; retry in ${retryAfterSeconds} s.`,
    );
  }
}
