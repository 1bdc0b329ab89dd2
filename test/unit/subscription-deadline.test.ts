import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionResult } from 'graphql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { untilDeadline } from '../../src/transports/http/subscription-deadline.js';
import { REPO_ROOT } from '../support/server.js';

/** A source that yields what is pushed into it, and records whether it was stopped. */
function pushSource() {
  const queue: ExecutionResult[] = [];
  let wake: (() => void) | undefined;
  const state = { stopped: false };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      while (queue.length === 0 && !state.stopped) await new Promise<void>((resolve) => (wake = resolve));
      return state.stopped ? { done: true, value: undefined } : { done: false, value: queue.shift()! };
    },
    async return() {
      state.stopped = true;
      wake?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return { iterator, state, push: (result: ExecutionResult) => (queue.push(result), wake?.()) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a subscription under its caller token deadline', () => {
  it('delivers results before the deadline, then one UNAUTHENTICATED error, ending a waiting next() and stopping the source', async () => {
    vi.useFakeTimers();
    const source = pushSource();
    const stream = untilDeadline(source.iterator, Date.now() + 60_000);
    source.push({ data: { n: 1 } });
    expect(await stream.next()).toEqual({ done: false, value: { data: { n: 1 } } });

    const waiting = stream.next();
    await vi.advanceTimersByTimeAsync(60_000);
    const refusal = await waiting;
    expect(refusal.done).toBe(false);
    expect((refusal.value as ExecutionResult).errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(source.state.stopped).toBe(true);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('ends at once when its token is revoked', async () => {
    const source = pushSource();
    const revocation = new AbortController();
    const stream = untilDeadline(source.iterator, Date.now() + 3_600_000, Date.now, revocation.signal);
    const waiting = stream.next();
    revocation.abort(new Error('The signing key of the caller token was withdrawn.'));
    const refusal = await waiting;
    expect((refusal.value as ExecutionResult).errors?.[0]?.message).toMatch(/withdrawn/);
    expect(source.state.stopped).toBe(true);
  });

  it('holds no memory for the results it delivered while the subscription lives on', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(REPO_ROOT, 'test/support/deadline-retention-probe.ts')],
      { cwd: REPO_ROOT, timeout: 60_000 },
    );
    const { delivered, retainedBytes } = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(delivered).toBe(100_000);
    // Each next() used to leave a reaction on a long-lived promise: about 40 MB for these 100,000.
    expect(retainedBytes).toBeLessThan(4 * 1024 * 1024);
  });
});
