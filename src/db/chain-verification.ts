import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { GENESIS_HASH, type ChainVerification } from '../domain/audit-chain.js';
import type { RangeRequest, RangeResult, WorkerReply } from './chain-worker.js';

export interface ParallelVerifyOptions {
  /** Sequence numbers per range handed to a worker. */
  rangeSize?: number;
  /** Sequence numbers a worker reads at a time. */
  batchSize?: number;
  /**
   * Called, in chain order, with the status events give approvals (each range's last per
   * approval), up to the range that holds the first break.
   */
  onTrailStatus?: (approvalId: string, status: string) => void;
}

const DEFAULT_RANGE_SIZE = 20_000;

/**
 * Verifies a tenant's chain in the SQLite file at `path`, events 1 to `lastSeq`, on worker
 * threads. Hashing is the bulk of verification and each event's hash depends only on its own row,
 * so ranges are read and hashed in parallel, each checked from its first event's stored
 * `previousHash`; the links between ranges are then checked here in order. The outcome is the
 * sequential walk's: the first break in `seq` order, with the events verified before it counted.
 */
export async function verifyChainInWorkers(
  path: string,
  tenant: string,
  lastSeq: number,
  options: ParallelVerifyOptions = {},
): Promise<ChainVerification> {
  const rangeSize = options.rangeSize ?? DEFAULT_RANGE_SIZE;
  const ranges: RangeRequest[] = [];
  for (let fromSeq = 0, index = 0; fromSeq < lastSeq; fromSeq += rangeSize, index++) {
    ranges.push({ path, tenant, index, fromSeq, toSeq: Math.min(fromSeq + rangeSize, lastSeq), ...(options.batchSize && { batchSize: options.batchSize }) });
  }
  const pool = (sharedPool ??= new ChainWorkerPool(Math.max(1, Math.min(availableParallelism(), 4))));
  return joinRanges(await Promise.all(ranges.map((range) => pool.run(range))), options.onTrailStatus);
}

/** The ranges' outcomes joined in order, with the links between them checked. */
function joinRanges(results: readonly RangeResult[], onTrailStatus: ParallelVerifyOptions['onTrailStatus']): ChainVerification {
  let checked = 0;
  let previousHash = GENESIS_HASH;
  let previousSeq = 0;
  for (const range of results) {
    if (!range.first || !range.last) continue;
    const { first } = range;
    if (onTrailStatus) {
      const { approvalIds, statuses } = range.trail;
      for (let index = 0; index < approvalIds.length; index++) onTrailStatus(approvalIds[index] as string, statuses[index] as string);
    }
    if (first.seq !== previousSeq + 1) {
      return { ok: false, checked, brokenAt: { seq: first.seq, id: first.id, reason: 'missing_predecessor' } };
    }
    if ((first.previousHash ?? GENESIS_HASH) !== previousHash) {
      return { ok: false, checked, brokenAt: { seq: first.seq, id: first.id, reason: 'previous_hash_mismatch' } };
    }
    if (!range.verification.ok) return { ...range.verification, checked: checked + range.verification.checked };
    checked += range.count;
    previousHash = range.last.hash;
    previousSeq = range.last.seq;
  }
  return { ok: true, checked };
}

interface Task {
  range: RangeRequest;
  resolve: (result: RangeResult) => void;
  reject: (error: Error) => void;
}

/**
 * Worker threads kept for the life of the process (unreferenced, so they never hold it open):
 * starting one costs more than hashing tens of thousands of events. One per core, at most four;
 * each works on one range at a time and the others wait in a queue.
 */
class ChainWorkerPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Task>();
  private readonly queue: Task[] = [];
  private started = 0;

  constructor(private readonly size: number) {}

  run(range: RangeRequest): Promise<RangeResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ range, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.started < this.size ? this.start() : undefined);
      if (!worker) return;
      const task = this.queue.shift() as Task;
      this.busy.set(worker, task);
      worker.postMessage(task.range);
    }
  }

  private start(): Worker {
    this.started++;
    const worker = startWorker();
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const task = this.busy.get(worker);
      this.busy.delete(worker);
      this.idle.push(worker);
      if (reply.type === 'error') task?.reject(new Error(`chain verification: ${reply.message}`));
      else task?.resolve(reply.result);
      this.dispatch();
    });
    // A worker that dies fails its range; the pool starts another for the next one.
    const lost = (error: Error): void => {
      const task = this.busy.get(worker);
      this.busy.delete(worker);
      const index = this.idle.indexOf(worker);
      if (index >= 0) this.idle.splice(index, 1);
      else if (!task) return;
      this.started--;
      task?.reject(error);
      this.dispatch();
    };
    worker.once('error', lost);
    worker.once('exit', (code) => lost(new Error(`chain verification worker exited with ${code}`)));
    return worker;
  }
}

let sharedPool: ChainWorkerPool | undefined;

/**
 * The worker runs this module's sibling. The compiled package runs the `.js` file directly; from
 * TypeScript sources (tests, `tsx`) the worker first registers tsx's loader, which a worker does
 * not inherit from `--import tsx`.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./chain-worker.js', import.meta.url));
  const loader = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./chain-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`, { eval: true });
}
