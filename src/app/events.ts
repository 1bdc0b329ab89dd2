import type { ApprovalStatus } from '../domain/approval-state.js';
import type { ApprovalView } from './views.js';

/** One committed change of an approval, as subscribers receive it. */
export interface ApprovalChange {
  approval: ApprovalView;
  previousStatus: ApprovalStatus | null;
  /** What happened: requested, voted, approved, rejected, denied, expired, executed, completed. */
  kind: 'requested' | 'voted' | 'approved' | 'rejected' | 'denied' | 'expired' | 'executed' | 'completed';
}

/**
 * The pub/sub seam: the gate publishes committed changes here and knows nothing of transports.
 * One process uses an in-memory implementation; several instances would back it with a broker.
 */
export interface ChangePublisher {
  publish(change: ApprovalChange): void;
}
