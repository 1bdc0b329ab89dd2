import { TransportError } from './errors.js';
import { ApprovalUpdatedDocument } from './generated/graphql.js';
import { later, outcome } from './results.js';
import type { GraphQLTransport } from './transport.js';
import type { Approval } from './types.js';

/** Grace after a request's expiry before asking the server for its state (clock skew, sweep). */
const EXPIRY_GRACE_MS = 500;

/**
 * Waits on `approvalUpdated(id, current: true)`: the server reads the approval only once the
 * subscription listens, so a decision made before or during subscribing is not missed. When the
 * request should have expired, one query lets the server expire it on access.
 */
export function waitForDecision(transport: GraphQLTransport, readApproval: (id: string) => Promise<Approval>, approval: Approval, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    const cleanups: (() => void)[] = [];
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      for (const cleanup of cleanups) cleanup();
      finish();
    };
    const consider = (current: Approval, token: string | null) => {
      try {
        const decided = outcome(current, token);
        if (decided !== null) settle(() => resolve(decided));
      } catch (error) {
        settle(() => reject(error));
      }
    };
    const onAbort = () => settle(() => reject(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => signal.removeEventListener('abort', onAbort));

    const untilExpiry = Date.parse(approval.expiresAt) - Date.now() + EXPIRY_GRACE_MS;
    cleanups.push(
      later(Math.max(0, untilExpiry), () => {
        // A failed check changes nothing: the subscription still reports the expiry or the failure.
        readApproval(approval.id).then(
          (current) => consider(current, null),
          () => {},
        );
      }),
    );

    cleanups.push(
      transport.subscribe(ApprovalUpdatedDocument, { id: approval.id, current: true }, {
        next: ({ approvalUpdated }) => consider(approvalUpdated.approval, approvalUpdated.token),
        error: (error) => settle(() => reject(error)),
        complete: () => settle(() => reject(new TransportError('The subscription ended before the approval was decided.'))),
      }),
    );
  });
}
