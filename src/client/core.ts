/**
 * The browser-safe core of the Countersign SDK (`countersign/client/core`): typed methods over
 * GraphQL HTTP and graphql-ws with the global `fetch` and `WebSocket`, and no Node built-in.
 * Node programs import `countersign/client`, which adds the offline verifier and `ws`.
 */
export {
  CountersignClient,
  type CountersignClientOptions,
  type RequireApprovalOptions,
  type StreamOptions,
} from './countersign-client.js';
export { withApproval, type ApprovedRun, type WithApprovalOptions } from './with-approval.js';
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
export type { ErrorCode } from '../domain/errors.js';
