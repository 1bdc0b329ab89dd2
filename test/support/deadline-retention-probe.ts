/**
 * Run with --expose-gc in a process of its own: passes 100,000 results through one subscription's
 * deadline wrapper, as a long-lived subscriber receives them, and prints how much heap is still in
 * use once they are consumed and dropped, while the subscription lives on.
 */
import type { ExecutionResult } from 'graphql';
import { untilDeadline } from '../../src/transports/http/subscription-deadline.js';

const EVENTS = 100_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

async function* results(): AsyncGenerator<ExecutionResult> {
  for (let index = 0; index < EVENTS; index++) yield { data: { index } };
}

gc();
const before = process.memoryUsage().heapUsed;
const stream = untilDeadline(results(), Date.now() + 3_600_000);
let delivered = 0;
for (let index = 0; index < EVENTS; index++) {
  const { done } = await stream.next();
  if (!done) delivered++;
}
gc();
const retainedBytes = process.memoryUsage().heapUsed - before;
await stream.return?.();
process.stdout.write(JSON.stringify({ delivered, retainedBytes }) + '\n');
