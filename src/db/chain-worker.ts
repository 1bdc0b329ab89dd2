/**
 * A worker thread of chain verification (see chain-verification.ts): for each range of sequence
 * numbers it is sent, it opens the SQLite file read-only, reads those events, checks the links and
 * hashes inside the range and replies with where the range starts and ends, so that the links
 * between ranges can be checked once all are back. It keeps no file open between requests.
 */
import { parentPort } from 'node:worker_threads';
import Database, { type Statement } from 'better-sqlite3';
import { GENESIS_HASH, auditTextHash, verifyChain, type ChainBreakReason, type ChainVerification, type StoredAuditChainEvent } from '../domain/audit-chain.js';
import { canonicalize } from '../domain/canonical-json.js';
import { CHAIN_COLUMNS, CHAIN_TEXT_SQL, chainEvent } from './chain-rows.js';

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
  /** Its last event read: the last, or where the range breaks. */
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
const EVENT_SQL = `select ${CHAIN_COLUMNS.join(', ')} from audit_event where tenant = ? and seq = ?`;

/**
 * Sequence numbers read at a time. Rows read in small batches die young: a whole range held at
 * once survived into the old generation, and collecting it was a fifth of the worker's time.
 */
export const DEFAULT_BATCH = 1_000;

const port = parentPort;
if (!port) throw new Error('chain-worker.ts runs as a worker thread');

/**
 * One range's walk: its events checked in `seq` order, batch by batch, exactly as
 * {@link verifyChain} checks them all at once, from the first event's own `previousHash`.
 */
class RangeWalk {
  readonly trail = new Map<string, string>();
  first: RangeResult['first'] = null;
  last: RangeResult['last'] = null;
  count = 0;
  verification: ChainVerification | null = null;
  private readonly columns: Statement;
  private readonly event: Statement;
  private readonly texts: Statement | null;
  private readonly tenantJson: string;

  constructor(
    database: Database,
    private readonly tenant: string,
  ) {
    this.columns = database.prepare(RANGE_SQL).raw(true);
    this.event = database.prepare(EVENT_SQL).raw(true);
    this.texts = preparedOrNull(database, CHAIN_TEXT_SQL);
    this.tenantJson = canonicalize(tenant);
  }

  /**
   * The batch `fromSeq < seq <= toSeq`: each event by the text SQLite writes for it, and the few
   * whose text does not hash to their hash (see CHAIN_TEXT_SELECT) from their columns.
   */
  batch(fromSeq: number, toSeq: number): void {
    const rows = this.textRows(fromSeq, toSeq);
    if (!rows) return this.batchByColumns(fromSeq, toSeq);
    for (const [seqValue, previousHash, hash, approvalId, newStatus, head, occurredAt, tail] of rows) {
      const seq = Number(seqValue);
      const { last } = this;
      this.last = { seq, hash: hash as string };
      // The checks verifyChain makes, in its order, each naming the event when it fails.
      if (last && seq !== last.seq + 1) return this.broken(seq, seq > last.seq ? 'missing_predecessor' : 'out_of_order');
      this.first ??= { seq, id: this.read(seq).id, previousHash: previousHash as string };
      const expectedPreviousHash = last ? last.hash : ((previousHash as string | null) ?? GENESIS_HASH);
      if (((previousHash as string | null) ?? GENESIS_HASH) !== expectedPreviousHash) return this.broken(seq, 'previous_hash_mismatch');
      if (typeof head !== 'string' || typeof tail !== 'string' || auditTextHash(head, occurredAt, tail) !== hash) {
        const single = verifyChain([this.read(seq)], expectedPreviousHash);
        if (!single.ok) {
          this.verification = { ...single, checked: this.count };
          return;
        }
      }
      if (approvalId !== null && newStatus !== null) this.trail.set(approvalId as string, newStatus as string);
      this.count++;
    }
  }

  /** The batch read as events and checked by {@link verifyChain}: where SQLite cannot write the text. */
  private batchByColumns(fromSeq: number, toSeq: number): void {
    const events = (this.columns.all(this.tenant, fromSeq, toSeq) as unknown[][]).map(chainEvent);
    const head = events[0];
    if (!head) return;
    for (const event of events) if (event.approvalId !== null && event.newStatus !== null) this.trail.set(event.approvalId, event.newStatus);
    const { last } = this;
    if (last && head.seq !== last.seq + 1) {
      this.verification = { ok: false, checked: this.count, brokenAt: { seq: head.seq, id: head.id, reason: 'missing_predecessor' } };
      return;
    }
    this.first ??= { seq: head.seq, id: head.id, previousHash: head.previousHash };
    const batch = verifyChain(events, last ? last.hash : (head.previousHash ?? GENESIS_HASH));
    if (!batch.ok) this.verification = { ...batch, checked: this.count + batch.checked };
    this.count += events.length;
    const tail = events.at(-1) as (typeof events)[number];
    this.last = { seq: tail.seq, hash: tail.hash };
  }

  /**
   * The batch's rows with their texts, or null where SQLite cannot write them: no `concat` (before
   * 3.44), or a value `json_quote` refuses (a blob), which the columns' check reports as before.
   */
  private textRows(fromSeq: number, toSeq: number): unknown[][] | null {
    if (!this.texts) return null;
    try {
      return this.texts.all({ tenant: this.tenant, tenantJson: this.tenantJson, fromSeq, toSeq }) as unknown[][];
    } catch {
      return null;
    }
  }

  private read(seq: number): StoredAuditChainEvent {
    return chainEvent(this.event.get(this.tenant, seq) as unknown[]);
  }

  private broken(seq: number, reason: ChainBreakReason): void {
    this.verification = { ok: false, checked: this.count, brokenAt: { seq, id: this.read(seq).id, reason } };
  }
}

function preparedOrNull(database: Database, sql: string): Statement | null {
  try {
    return database.prepare(sql).raw(true);
  } catch {
    return null;
  }
}

/** The range's events checked batch by batch, in one read transaction: one snapshot of the file. */
function verifyRange(request: RangeRequest): RangeResult {
  const database = new Database(request.path, { readonly: true, fileMustExist: true });
  try {
    const walk = new RangeWalk(database, request.tenant);
    const batchSize = request.batchSize ?? DEFAULT_BATCH;
    database.exec('begin');
    for (let fromSeq = request.fromSeq; fromSeq < request.toSeq && !walk.verification; fromSeq += batchSize) {
      walk.batch(fromSeq, Math.min(fromSeq + batchSize, request.toSeq));
    }
    database.exec('commit');
    const { trail } = walk;
    return {
      index: request.index,
      count: walk.count,
      first: walk.first,
      last: walk.last,
      verification: walk.verification ?? { ok: true, checked: walk.count },
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
