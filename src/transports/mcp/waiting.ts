import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Approval, CountersignClient } from '../../client/index.js';

/** The `extra` argument of an MCP server's request handlers. */
export type HandlerExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Sends `notifications/progress` for the request being handled, when its client asked for them. */
export type ProgressReporter = (message: string) => void;

/** How often a wait reports that it is still waiting: clients reset their request timeout on progress. */
const HEARTBEAT_MS = 10_000;

/** Grace after a request's expiry before asking the server, which expires it on access. */
const EXPIRY_GRACE_MS = 500;

/**
 * A reporter that numbers its notifications (progress must increase) and sends nothing when the
 * client gave no progress token. A failed send is ignored: progress is advisory.
 */
export function progressReporter(extra: HandlerExtra): ProgressReporter {
  const progressToken = extra._meta?.progressToken;
  let progress = 0;
  return (message) => {
    if (progressToken === undefined) return;
    progress += 1;
    extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, message } }).catch(() => {});
  };
}

/** How a wait for a decision ended. */
export type WaitOutcome =
  | { settled: true; approval: Approval; token: string | null }
  | { settled: false; approval: Approval };

/** A human-readable line about a pending request, for progress messages. */
export function pendingMessage(approval: Approval): string {
  const remaining = approval.remainingApprovals;
  return `Waiting for ${remaining} more approval${remaining === 1 ? '' : 's'} of ${approval.action} (approval ${approval.id}).`;
}

/**
 * Waits until `approval` leaves PENDING or `timeoutMs` passes, on the `approvalUpdated`
 * subscription (its current state comes first, so a decision made meanwhile is not missed).
 * Reports each vote and a periodic heartbeat through `report`.
 */
export async function waitForSettled(
  client: CountersignClient,
  approval: Approval,
  options: { timeoutMs: number; signal?: AbortSignal; report: ProgressReporter },
): Promise<WaitOutcome> {
  if (approval.status !== 'PENDING') return { settled: true, approval, token: approval.decisionToken };
  const stop = new AbortController();
  const onAbort = () => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let latest = approval;
  let reachedExpiry = false;
  const untilExpiry = Date.parse(approval.expiresAt) - Date.now() + EXPIRY_GRACE_MS;
  const deadline = setTimeout(() => {
    reachedExpiry = untilExpiry <= options.timeoutMs;
    stop.abort();
  }, Math.max(0, Math.min(options.timeoutMs, untilExpiry)));
  const heartbeat = setInterval(() => options.report(pendingMessage(latest)), HEARTBEAT_MS);
  options.report(pendingMessage(approval));
  try {
    for await (const update of client.approvalUpdates(approval.id, { current: true, signal: stop.signal })) {
      latest = update.approval;
      if (latest.status !== 'PENDING') return { settled: true, approval: latest, token: update.token ?? latest.decisionToken };
      if (update.kind === 'voted') options.report(pendingMessage(latest));
    }
  } catch (error) {
    if (!stop.signal.aborted) throw error;
  } finally {
    clearTimeout(deadline);
    clearInterval(heartbeat);
    options.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
  if (options.signal?.aborted) throw options.signal.reason;
  if (reachedExpiry) {
    // Reading a lapsed request expires it on the server.
    const current = await client.approval(approval.id);
    if (current.status !== 'PENDING') return { settled: true, approval: current, token: current.decisionToken };
    latest = current;
  }
  return { settled: false, approval: latest };
}
