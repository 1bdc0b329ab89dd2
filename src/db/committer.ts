import type { EntityManager, MikroORM } from '@mikro-orm/core';
import type { CountersignError } from '../domain/errors.js';
import type { AuditEventFields } from './entities/audit-event.entity.js';
import type { AuditLog } from './audit-log.js';
import { runStatement } from './fast-paths.js';
import { lockWriters } from './orm.js';
import { commitTransaction, flushChanges } from './transaction.js';

/** What one job sees: its own EntityManager (in the batch's transaction), the audit log and a post-commit hook. */
export interface UnitOfWork {
  readonly em: EntityManager;
  audit(fields: AuditEventFields): Promise<void>;
  /** Runs after the job's transaction has committed; never when it rolls back. */
  afterCommit(callback: () => void): void;
  /**
   * A refusal to return from the job: everything the job wrote is rolled back, then `record`
   * (when given) runs in a savepoint of its own to write what must be kept of the refusal (its
   * audit event, an expiry). The caller gets `error` once that has committed; if `record` fails,
   * the caller gets that failure instead and nothing of the call is kept.
   */
  refuse(error: CountersignError, record?: Job<void>): Refusal;
}

/** A job's refusal: see {@link UnitOfWork.refuse}. */
export class Refusal {
  constructor(
    readonly error: CountersignError,
    readonly record: Job<void> | undefined,
  ) {}
}

/**
 * A job is the whole of one state change. It runs in a savepoint of the batch's transaction: if it
 * throws, or returns a {@link Refusal}, everything it wrote (rows written past the unit of work
 * included) is rolled back and its neighbours in the batch are unaffected.
 */
export type Job<T> = (unit: UnitOfWork) => Promise<T | Refusal>;

/** The outcome of one job within a batch, settled once the batch has committed. */
interface Settled {
  pending: Pending<unknown>;
  ok: boolean;
  value: unknown;
  hooks: (() => void)[];
}

type Attempt = { ok: true; value: unknown; hooks: (() => void)[] } | { ok: false; error: unknown };

/** Hears of every batch a committer tries: its size, and whether its transaction committed (metrics). */
export type CommitObserver = (batch: { size: number; committed: boolean }) => void;

/** The longest a batch waits for announced jobs: about one fsync, which their joining saves. */
const MAX_GATHER_MS = 2;

interface Pending<T> {
  job: Job<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Serialises every write through one queue and commits concurrent jobs together (group commit):
 * one transaction and one fsync for a batch, while each caller is answered only after the
 * transaction holding its own change has committed. If a batch fails to commit, its jobs are
 * retried one by one so a single bad job cannot fail its neighbours.
 */
export class Committer {
  private queue: Pending<unknown>[] = [];
  /** Jobs announced with {@link expect} and not yet queued. */
  private expected = 0;
  private onArrival: (() => void) | undefined;
  private draining = false;
  private idle: Promise<void> = Promise.resolve();
  /** The settling of the last batch committed, which waits for its durability. */
  private settled: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  constructor(
    private readonly orm: MikroORM,
    private readonly auditLog: AuditLog,
    private readonly maxBatch = 128,
    private readonly observe: CommitObserver = () => {},
  ) {}

  /** Queues a job; resolves with its result once its transaction has committed. */
  run<T>(job: Job<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job, resolve, reject } as Pending<unknown>);
      if (!this.draining) {
        this.draining = true;
        this.idle = new Promise((resolve) => (this.markIdle = resolve));
        // Start the first batch after the I/O callbacks of this turn of the event loop, not at once:
        // requests that became ready in the same turn then share its transaction. Committing the first
        // job alone would, with a synchronous driver, block the loop for its fsync while the others wait
        // for a commit of their own.
        setImmediate(() => void this.drain());
      }
    });
  }

  /**
   * Announces a job that will be queued shortly, once its caller has finished work that needs no
   * lock (signing a token). A batch about to start waits a little for announced jobs, so that they
   * share its commit instead of each waiting for a commit of its own. Call the returned function
   * when the job is queued or will not be.
   */
  expect(): () => void {
    this.expected += 1;
    let arrived = false;
    return () => {
      if (arrived) return;
      arrived = true;
      this.expected -= 1;
      this.onArrival?.();
    };
  }

  /** Resolves when every queued job has settled. */
  async whenIdle(): Promise<void> {
    while (this.draining) await this.idle;
    await this.settled;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        await this.gather();
        const batch = this.queue.splice(0, this.maxBatch);
        const committed = await this.commitBatch(batch);
        if (!committed) {
          for (const pending of batch) await this.commitBatch([pending]);
        }
      }
    } finally {
      this.draining = false;
      this.markIdle();
    }
  }

  /**
   * Before a batch starts, waits until no announced job is outstanding, the batch is full or
   * {@link MAX_GATHER_MS} has passed: a job still being signed then commits with this batch rather
   * than after it. With nothing announced, as for a lone request, it does not wait at all.
   */
  private gather(): Promise<void> {
    const full = (): boolean => this.expected === 0 || this.queue.length >= this.maxBatch;
    if (full()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.onArrival = undefined;
        resolve();
      };
      const timer = setTimeout(done, MAX_GATHER_MS);
      // An announced job is queued right after it arrives, in the same turn: the batch, which
      // resumes in a later microtask, includes it.
      this.onArrival = () => {
        if (full()) done();
      };
    });
  }

  /**
   * Runs a batch in one transaction, each job in a savepoint of its own, and commits once. Returns
   * false when a multi-job batch failed as a whole (the commit, or a rollback to a savepoint, as
   * when SQLite has abandoned the transaction) and must be retried job by job.
   *
   * Its jobs are settled (callers answered, post-commit hooks run) once the commit is durable,
   * while the next batch runs: with better-sqlite3 the fsync is made off the event loop (see
   * wal-sync.ts), and batches committed during one fsync share the next. Durability resolves in
   * commit order, so batches settle in that order and changes are published in it. If the fsync
   * fails, every caller of the batch hears of that failure and no hook runs.
   */
  private async commitBatch(batch: Pending<unknown>[]): Promise<boolean> {
    const settled: Settled[] = [];
    let durable: Promise<void>;
    try {
      ({ durable } = await commitTransaction(this.orm, async (tx) => {
        // The writer lock first: another process writing the same database waits for this batch, or
        // this batch for it, and every read below sees the state it extends (the audit chain's head).
        await lockWriters(tx);
        for (const pending of batch) settled.push(await this.settle(tx, pending));
      }));
    } catch (error) {
      this.observe({ size: batch.length, committed: false });
      if (batch.length > 1) return false;
      batch[0]?.reject(error);
      return true;
    }
    this.observe({ size: batch.length, committed: true });
    this.settled = durable.then(
      () => {
        for (const { pending, ok, value, hooks } of settled) {
          if (ok) pending.resolve(value);
          else pending.reject(value);
          for (const hook of hooks) runHook(hook);
        }
      },
      (error: unknown) => {
        for (const { pending } of settled) pending.reject(error);
      },
    );
    return true;
  }

  /** Runs one job in its savepoint, and a refusal's record in a savepoint of its own after the rollback. */
  private async settle(tx: EntityManager, pending: Pending<unknown>): Promise<Settled> {
    const attempt = await this.attempt(tx, pending.job);
    if (!attempt.ok) return { pending, ok: false, value: attempt.error, hooks: [] };
    if (!(attempt.value instanceof Refusal)) return { pending, ok: true, value: attempt.value, hooks: attempt.hooks };
    const refusal = attempt.value;
    if (!refusal.record) return { pending, ok: false, value: refusal.error, hooks: [] };
    const recorded = await this.attempt(tx, refusal.record);
    if (!recorded.ok) return { pending, ok: false, value: recorded.error, hooks: [] };
    if (recorded.value instanceof Refusal) return { pending, ok: false, value: recorded.value.error, hooks: [] };
    return { pending, ok: false, value: refusal.error, hooks: recorded.hooks };
  }

  /**
   * Runs `job` with an EntityManager of its own in a savepoint, flushing its changes before the
   * savepoint is released. A throw or a refusal rolls the savepoint back, and the job's
   * EntityManager, whose entities may hold changes that never reached the database, is dropped.
   * A failing rollback (the transaction is gone) propagates and fails the batch.
   */
  private async attempt(tx: EntityManager, job: Job<unknown>): Promise<Attempt> {
    const em = tx.fork({ keepTransactionContext: true });
    const hooks: (() => void)[] = [];
    const unit: UnitOfWork = {
      em,
      audit: async (fields) => void (await this.auditLog.append(em, fields)),
      afterCommit: (callback) => hooks.push(callback),
      refuse: (error, record) => new Refusal(error, record),
    };
    await runStatement(em, SAVEPOINT);
    let value: unknown;
    try {
      value = await job(unit);
      if (!(value instanceof Refusal)) await flushChanges(em);
    } catch (error) {
      await runStatement(em, ROLLBACK_TO_SAVEPOINT);
      await runStatement(em, RELEASE_SAVEPOINT);
      return { ok: false, error };
    }
    if (value instanceof Refusal) {
      await runStatement(em, ROLLBACK_TO_SAVEPOINT);
      await runStatement(em, RELEASE_SAVEPOINT);
      return { ok: true, value, hooks: [] };
    }
    await runStatement(em, RELEASE_SAVEPOINT);
    return { ok: true, value, hooks };
  }
}

const SAVEPOINT = 'savepoint countersign_job';
const ROLLBACK_TO_SAVEPOINT = 'rollback to savepoint countersign_job';
const RELEASE_SAVEPOINT = 'release savepoint countersign_job';

function runHook(hook: () => void): void {
  try {
    hook();
  } catch (error) {
    // A subscriber's failure must never undo or hide a committed change.
    console.error('countersign: post-commit hook failed', error);
  }
}
