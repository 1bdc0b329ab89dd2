/**
 * The Countersign agent SDK (`countersign/client`): ask for approval and wait for it, run a
 * function only once approved, follow approvals live, and verify decision tokens offline.
 */
export {
  CountersignClient,
  type CountersignClientOptions,
  type RequireApprovalOptions,
  type StreamOptions,
} from './countersign-client.js';
export { withApproval, type ApprovedRun, type WithApprovalOptions } from './with-approval.js';
export { verifyDecisionTokenOffline, type OfflineVerificationOptions, type VerifiedDecision } from './verify.js';
export {
  ApprovalAbortedError,
  ApprovalDeniedError,
  ApprovalExpiredError,
  ApprovalRejectedError,
  ApprovalTimeoutError,
  CountersignClientError,
  RefusedError,
  TransportError,
  type ClientErrorCode,
} from './errors.js';
export type * from './types.js';
/** The context hash a decision token is bound to, computed exactly as the server computes it. */
export { contextHash, type ActionContext } from '../domain/context-hash.js';
export { DECISION_TOKEN_TYPE } from '../domain/decision-token.js';
export type { ErrorCode } from '../domain/errors.js';
