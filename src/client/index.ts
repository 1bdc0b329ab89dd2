/**
 * The Countersign agent SDK for Node (`countersign/client`): ask for approval and wait for it, run
 * a function only once approved, follow approvals live, and verify decision tokens offline.
 * Everything but the offline verifier and `contextHash` also runs in browsers, from
 * `countersign/client/core`.
 */
import WebSocket from 'ws';
import { CountersignClient as CoreClient, type CountersignClientOptions } from './countersign-client.js';

export * from './core.js';
export { verifyDecisionTokenOffline, type OfflineVerificationOptions, type VerifiedDecision } from './verify.js';
/** The context hash a decision token is bound to, computed exactly as the server computes it. */
export { contextHash, type ActionContext } from '../domain/context-hash.js';
export { DECISION_TOKEN_TYPE } from '../domain/decision-token.js';

/**
 * The agent and approver SDK (see the core's `CountersignClient`), with subscriptions over the
 * `ws` package unless `webSocketImpl` says otherwise: Node 20 has no global WebSocket.
 */
export class CountersignClient extends CoreClient {
  constructor(options: CountersignClientOptions) {
    super({ ...options, webSocketImpl: options.webSocketImpl ?? WebSocket });
  }
}
