/**
 * A worker thread of chain verification (see chain-verification.ts): for each range of sequence
 * numbers it is sent, it opens the SQLite file read-only, reads those events, checks the links and
 * hashes inside the range and replies with where the range starts and ends, so that the links
 * between ranges can be checked once all are back. It keeps no file open between requests.
 */
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { GENESIS_HASH, verifyChain, type ChainVerification } from '../domain/audit-chain.js';
import { CHAIN_COLUMNS, chainEvent } from './chain-rows.js';

/** The events of `tenant` with `fromSeq < seq <= toSeq`, in the database at `path`. */
export interface RangeRequest {
  path: string;
  tenant: string;
  index: number;
  fromSeq: number;
  toSeq: number;
  /** Sequence numbers read at a time (see {@link DEFAULT_BATCH}). */
  batchSize?: number;
}

export interface RangeResult {
  index: number;
  count: number;
  /** The range's first event and the link it claims to its predecessor. */
  first: { seq: number; id: string; previousHash: string | null } | null;
  last: { seq: number; hash: string } | null;
  /** The range checked on its own, from its first event's own `previousHash`. */
  verification: ChainVerification;
  /**
   * The status each approval is given by its last event in the range that gives one: what the
   * approvals' stored status is checked against, read here so that no other pass over the chain
   * is needed. Two arrays rather than pairs: cheaper to send back.
   */
  trail: { approvalIds: string[]; statuses: string[] };
}

export type WorkerReply = { type: 'result'; result: RangeResult } | { type: 'error'; message: string };

const RANGE_SQL = `select ${CHAIN_COLUMNS.join(', ')} from audit_event where tenant = ? and seq > ? and seq <= ? order by seq`;

/**
 * Sequence numbers read at a time. Rows read in small batches die young: a whole range held at
 * once survived into the old generation, and collecting it was a fifth of the worker's time.
 */
export const DEFAULT_BATCH = 1_000;

const port = parentPort;
if (!port) throw new Error('chain-worker.ts runs as a worker thread');

/** The range's events checked batch by batch, as {@link verifyChain} checks them all at once. */
function verifyRange(request: RangeRequest): RangeResult {
  const database = new Database(request.path, { readonly: true, fileMustExist: true });
  try {
    const statement = database.prepare(RANGE_SQL).raw(true);
    const trail = new Map<string, string>();
    let first: RangeResult['first'] = null;
    let last: RangeResult['last'] = null;
    let count = 0;
    let verification: ChainVerification | null = null;
    const batchSize = request.batchSize ?? DEFAULT_BATCH;
    for (let fromSeq = request.fromSeq; fromSeq < request.toSeq && !verification; fromSeq += batchSize) {
      const events = (statement.all(request.tenant, fromSeq, Math.min(fromSeq + batchSize, request.toSeq)) as unknown[][]).map(chainEvent);
      const head = events[0];
      if (!head) continue;
      for (const event of events) if (event.approvalId !== null && event.newStatus !== null) trail.set(event.approvalId, event.newStatus);
      if (last && head.seq !== last.seq + 1) {
        verification = { ok: false, checked: count, brokenAt: { seq: head.seq, id: head.id, reason: 'missing_predecessor' } };
        break;
      }
      first ??= { seq: head.seq, id: head.id, previousHash: head.previousHash };
      const batch = verifyChain(events, last ? last.hash : (head.previousHash ?? GENESIS_HASH));
      if (!batch.ok) verification = { ...batch, checked: count + batch.checked };
      count += events.length;
      const tail = events.at(-1) as (typeof events)[number];
      last = { seq: tail.seq, hash: tail.hash };
    }
    return {
      index: request.index,
      count,
      first,
      last,
      verification: verification ?? { ok: true, checked: count },
      trail: { approvalIds: [...trail.keys()], statuses: [...trail.values()] },
    };
  } finally {
    database.close();
  }
}

port.on('message', (request: RangeRequest) => {
  try {
    port.postMessage({ type: 'result', result: verifyRange(request) } satisfies WorkerReply);
  } catch (error) {
    port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
  }
});
