import type { CountersignClient, RequireApprovalOptions } from './countersign-client.js';
import { TransportError } from './errors.js';
import type { ApprovalRequest } from './types.js';

/** What the guarded function learns about the run it was approved for. */
export interface ApprovedRun {
  /** The decision token, already redeemed with `execute`. */
  token: string;
  approvalId: string;
  executionId: string;
}

/** Options of {@link withApproval}. */
export interface WithApprovalOptions<T> extends RequireApprovalOptions {
  /** What to record as the execution's result (JSON); by default nothing, to keep the audit log free of payloads. */
  describeResult?: (value: T) => unknown;
  /** What to record when the function throws; by default `{ error: message }`. */
  describeError?: (error: unknown) => unknown;
}

const describeErrorByDefault = (error: unknown): unknown => ({ error: error instanceof Error ? error.message : String(error) });

/**
 * Runs `fn` only once the action is approved: waits for the decision token with
 * `requireApproval`, redeems it with `execute` for exactly `request`'s action, resource and
 * context, runs `fn`, then reports its outcome with `completeExecution` (FAILED when it throws,
 * after which the error is rethrown). Rejects like `requireApproval` when approval never comes,
 * and with a `RefusedError` when the token cannot be redeemed; `fn` has not run then.
 */
export async function withApproval<T>(
  client: CountersignClient,
  request: ApprovalRequest,
  fn: (run: ApprovedRun) => T | Promise<T>,
  options: WithApprovalOptions<T> = {},
): Promise<T> {
  const token = await client.requireApproval(request, options);
  const { execution } = await client.execute({
    token,
    action: request.action,
    resource: request.resource ?? null,
    context: request.context,
  });
  if (!execution) throw new TransportError('The server recorded no execution for the redeemed token.');
  const run: ApprovedRun = { token, approvalId: execution.approvalId, executionId: execution.id };
  let value: T;
  try {
    value = await fn(run);
  } catch (error) {
    const describeError = options.describeError ?? describeErrorByDefault;
    // The function's own failure matters more than a failure to report it.
    await client.completeExecution({ executionId: execution.id, outcome: 'FAILED', result: describeError(error) }).catch(() => {});
    throw error;
  }
  await client.completeExecution({
    executionId: execution.id,
    outcome: 'SUCCEEDED',
    result: options.describeResult ? options.describeResult(value) : null,
  });
  return value;
}
