import type { ApprovalStatus } from '../domain/approval-state.js';
import type { ChangeKind } from '../domain/transitions.js';
import type { ApprovalView } from './views.js';

/**
 * One committed change of an approval, as the feed carries it. It never holds a decision token
 * (a bearer credential): the requester's is read from the store at the edge.
 */
export interface ApprovalChange {
  approval: ApprovalView & { decisionToken: null };
  previousStatus: ApprovalStatus | null;
  /** What happened (see {@link ChangeKind}). */
  kind: ChangeKind;
}

/**
 * The seam the gate publishes committed changes to, in commit order; it knows nothing of
 * transports. The change feed (src/feed) implements it.
 */
export interface ChangePublisher {
  publish(change: ApprovalChange): void;
}
