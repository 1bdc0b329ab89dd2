import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { CountersignError } from '../domain/errors.js';
import type { AuditEventFields } from './entities/audit-event.entity.js';
import type { AuditLog } from './audit-log.js';
import { isSharedDatabase, lockWriters } from './orm.js';

/** What one job sees: its EntityManager (shared with the batch), the audit log and a post-commit hook. */
export interface UnitOfWork {
  readonly em: EntityManager;
  audit(fields: AuditEventFields): Promise<void>;
  /** Runs after the job's transaction has committed; never when it rolls back. */
  afterCommit(callback: () => void): void;
}

/**
 * A job is the whole of one state change. It must validate before it persists anything: a job
 * that throws is assumed to have changed nothing. An outcome that must be recorded and still
 * reported as a failure (a refused replay, an expired request) is returned, not thrown.
 */
export type Job<T> = (unit: UnitOfWork) => Promise<T>;

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
  private markIdle: () => void = () => {};

  constructor(
    private readonly orm: MikroORM,
    private readonly auditLog: AuditLog,
    private readonly maxBatch = 128,
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
  whenIdle(): Promise<void> {
    return this.draining ? this.idle : Promise.resolve();
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

  /** Returns false when a multi-job batch failed as a whole and must be retried job by job. */
  private async commitBatch(batch: Pending<unknown>[]): Promise<boolean> {
    const checkpoint = this.auditLog.checkpoint();
    const settled: { pending: Pending<unknown>; ok: boolean; value: unknown; hooks: (() => void)[] }[] = [];
    const em = this.orm.em.fork();
    try {
      await em.transactional(async (tx) => {
        // First statement: with a shared database, other instances' writers wait here, and the
        // chain heads they advanced are read afresh below.
        await lockWriters(tx);
        if (isSharedDatabase(tx)) this.auditLog.forgetHeads();
        for (const pending of batch) {
          const hooks: (() => void)[] = [];
          const unit: UnitOfWork = {
            em: tx,
            audit: async (fields) => void (await this.auditLog.append(tx, fields)),
            afterCommit: (callback) => hooks.push(callback),
          };
          try {
            settled.push({ pending, ok: true, value: await pending.job(unit), hooks });
          } catch (error) {
            if (batch.length > 1 && !isExpectedFailure(error)) throw error;
            settled.push({ pending, ok: false, value: error, hooks: [] });
          }
        }
      });
    } catch (error) {
      this.auditLog.restore(checkpoint);
      if (batch.length > 1) return false;
      batch[0]?.reject(error);
      return true;
    }
    for (const { pending, ok, value, hooks } of settled) {
      if (ok) {
        pending.resolve(value);
        for (const hook of hooks) runHook(hook);
      } else {
        pending.reject(value);
      }
    }
    return true;
  }
}

function isExpectedFailure(error: unknown): boolean {
  return error instanceof CountersignError;
}

function runHook(hook: () => void): void {
  try {
    hook();
  } catch (error) {
    // A subscriber's failure must never undo or hide a committed change.
    console.error('countersign: post-commit hook failed', error);
  }
}
