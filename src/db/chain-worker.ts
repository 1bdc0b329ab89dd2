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
}

export interface RangeResult {
  index: number;
  count: number;
  /** The range's first event and the link it claims to its predecessor. */
  first: { seq: number; id: string; previousHash: string | null } | null;
  last: { seq: number; hash: string } | null;
  /** The range checked on its own, from its first event's own `previousHash`. */
  verification: ChainVerification;
}

export type WorkerReply = { type: 'result'; result: RangeResult } | { type: 'error'; message: string };

const RANGE_SQL = `select ${CHAIN_COLUMNS.join(', ')} from audit_event where tenant = ? and seq > ? and seq <= ? order by seq`;

const port = parentPort;
if (!port) throw new Error('chain-worker.ts runs as a worker thread');

function readRange(request: RangeRequest): unknown[][] {
  const database = new Database(request.path, { readonly: true, fileMustExist: true });
  try {
    return database.prepare(RANGE_SQL).raw(true).all(request.tenant, request.fromSeq, request.toSeq) as unknown[][];
  } finally {
    database.close();
  }
}

port.on('message', (request: RangeRequest) => {
  try {
    const events = readRange(request).map(chainEvent);
    const first = events[0];
    const last = events.at(-1);
    const result: RangeResult = {
      index: request.index,
      count: events.length,
      first: first ? { seq: first.seq, id: first.id, previousHash: first.previousHash } : null,
      last: last ? { seq: last.seq, hash: last.hash } : null,
      verification: first ? verifyChain(events, first.previousHash ?? GENESIS_HASH) : { ok: true, checked: 0 },
    };
    port.postMessage({ type: 'result', result } satisfies WorkerReply);
  } catch (error) {
    port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
  }
});
