import { CountersignError, ERROR_CODES, type ErrorCode } from '../domain/errors.js';
// The generated fragment, not ./types.js (which imports these errors): no cycle between the two.
import type { ApprovalFieldsFragment as Approval } from './generated/graphql.js';

/**
 * Every code an SDK error can carry: the server's codes for its typed results (and for what the
 * offline verifier refuses), plus the outcomes of waiting for a decision and transport failures.
 */
export type ClientErrorCode = ErrorCode | 'DENIED' | 'REJECTED' | 'EXPIRED' | 'TIMEOUT' | 'ABORTED' | 'TRANSPORT';

/** Base class of every error the SDK throws; match on `code`, not on `message`. */
export class CountersignClientError extends Error {
  readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'CountersignClientError';
  }
}

/**
 * The server answered with one of its typed errors (or the offline verifier refused a token).
 * `details` holds the error's structured fields, e.g. `reason`, `requiredRoles`, `expectedHash`.
 */
export class RefusedError extends CountersignClientError {
  declare readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'RefusedError';
    this.details = details;
  }
}

/** The policy denied the request outright; `approval.reasons` says which rules. */
export class ApprovalDeniedError extends CountersignClientError {
  declare readonly code: 'DENIED';

  constructor(readonly approval: Approval) {
    super('DENIED', `The policy denied ${approval.action}: ${reasonText(approval)}.`);
    this.name = 'ApprovalDeniedError';
  }
}

/** An approver rejected the request; `approval.decisions` holds who and why. */
export class ApprovalRejectedError extends CountersignClientError {
  declare readonly code: 'REJECTED';

  constructor(readonly approval: Approval) {
    const rejection = approval.decisions.find((decision) => decision.decision === 'REJECT');
    super(
      'REJECTED',
      `Approval ${approval.id} was rejected` +
        (rejection ? ` by ${rejection.approver}${rejection.comment ? `: ${rejection.comment}` : ''}` : '') +
        '.',
    );
    this.name = 'ApprovalRejectedError';
  }
}

/** Nobody decided the request before it expired. */
export class ApprovalExpiredError extends CountersignClientError {
  declare readonly code: 'EXPIRED';

  constructor(readonly approval: Approval) {
    super('EXPIRED', `Approval ${approval.id} expired at ${approval.expiresAt} before it was decided.`);
    this.name = 'ApprovalExpiredError';
  }
}

/** The caller's own time limit passed first; the request stays pending on the server. */
export class ApprovalTimeoutError extends CountersignClientError {
  declare readonly code: 'TIMEOUT';

  constructor(
    readonly approvalId: string | null,
    readonly timeoutMs: number,
  ) {
    super('TIMEOUT', `No decision${approvalId ? ` on approval ${approvalId}` : ''} within ${timeoutMs} ms.`);
    this.name = 'ApprovalTimeoutError';
  }
}

/** The caller's AbortSignal fired; the request (if it was made) stays pending on the server. */
export class ApprovalAbortedError extends CountersignClientError {
  declare readonly code: 'ABORTED';

  constructor(
    readonly approvalId: string | null,
    reason?: unknown,
  ) {
    super('ABORTED', `Waiting${approvalId ? ` for approval ${approvalId}` : ''} was aborted.`, { cause: reason });
    this.name = 'ApprovalAbortedError';
  }
}

/** The server could not be reached, answered with something other than a GraphQL result, or failed unexpectedly. */
export class TransportError extends CountersignClientError {
  declare readonly code: 'TRANSPORT';
  /** The HTTP status, when there was a response. */
  readonly status: number | null;

  constructor(message: string, options: { status?: number | null; cause?: unknown } = {}) {
    super('TRANSPORT', message, { cause: options.cause });
    this.name = 'TransportError';
    this.status = options.status ?? null;
  }
}

const SERVER_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** Whether `code` is one of the server's stable error codes. */
export function isServerCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && SERVER_CODES.has(code);
}

/** A domain error (as the offline verifier raises them) as the SDK's {@link RefusedError}. */
export function refusedFromDomain(error: CountersignError): RefusedError {
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key !== 'code' && key !== 'name') details[key] = value instanceof Date ? value.toISOString() : value;
  }
  return new RefusedError(error.code, error.message, details, { cause: error });
}

/** GraphQL `errors` as one SDK error: coded ones (e.g. a refused subscription) are refusals, the rest transport failures. */
export function fromGraphQLErrors(
  errors: readonly { message: string; extensions?: Record<string, unknown> }[],
  status: number | null = null,
): CountersignClientError {
  const first = errors[0];
  const code = first?.extensions?.['code'];
  if (first && isServerCode(code)) return new RefusedError(code, first.message);
  return new TransportError(`The server reported: ${errors.map((error) => error.message).join('; ') || 'an unknown error'}`, { status });
}

function reasonText(approval: Approval): string {
  return approval.reasons.map((reason) => `[${reason.ruleId}] ${reason.message}`).join('; ') || 'no reason given';
}
