/**
 * The floor under verifyAuditChain (growth benchmark): what verifying costs each event at least,
 * measured alone.
 */
import { availableParallelism } from 'node:os';
import Database from 'better-sqlite3';
import { CHAIN_TEXT_SQL } from '../../src/db/chain-rows.js';
import { auditTextHash } from '../../src/domain/audit-chain.js';
import { canonicalize } from '../../src/domain/canonical-json.js';
import { median } from './stats.js';

export interface ChainFloor {
  /** Events whose hashed text SQLite wrote and one thread read, a second. */
  readPerSecond: number;
  /** The same, each also hashed. */
  readAndHashPerSecond: number;
  cores: number;
  /** `readAndHashPerSecond` times the cores: more than verification could do spread over all of them. */
  boundPerSecond: number;
}

/** Events read per floor run, and runs (the median is kept). */
const FLOOR_EVENTS = 200_000;
const FLOOR_RUNS = 3;

/**
 * What verifying a chain costs at least, measured in this process with the server idle: each
 * event's hashed text written by SQLite with the statement the verification workers read with
 * (in their batches of 1,000, in one read transaction) and read by one thread, then the same with
 * each text hashed, and nothing checked. Verification does that and more for every event, so on
 * N cores it cannot exceed N times the second rate.
 */
export function chainFloor(path: string, tenant: string, events: number): ChainFloor {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const statement = db.prepare(CHAIN_TEXT_SQL).raw(true);
    const tenantJson = canonicalize(tenant);
    const count = Math.min(events, FLOOR_EVENTS);
    const rate = (hash: boolean): number => {
      const started = performance.now();
      db.exec('begin');
      for (let fromSeq = 0; fromSeq < count; fromSeq += 1_000) {
        const rows = statement.all({ tenant, tenantJson, fromSeq, toSeq: Math.min(fromSeq + 1_000, count) }) as unknown[][];
        if (hash) for (const row of rows) if (auditTextHash(row[5] as string, row[6], row[7] as string) === null) throw new Error(`event ${String(row[0])} has no time`);
      }
      db.exec('commit');
      return count / ((performance.now() - started) / 1000);
    };
    const runs = (hash: boolean): number => median(Array.from({ length: FLOOR_RUNS }, () => rate(hash)));
    const readPerSecond = runs(false);
    const readAndHashPerSecond = runs(true);
    const cores = availableParallelism();
    return { readPerSecond, readAndHashPerSecond, cores, boundPerSecond: readAndHashPerSecond * cores };
  } finally {
    db.close();
  }
}
