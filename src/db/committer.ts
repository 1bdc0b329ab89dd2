import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { CountersignError } from '../domain/errors.js';
import type { AuditEventFields } from './entities/audit-event.entity.js';
import type { AuditLog } from './audit-log.js';

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
      if (!this.draining) void this.drain();
    });
  }

  /** Resolves when every queued job has settled. */
  whenIdle(): Promise<void> {
    return this.draining ? this.idle : Promise.resolve();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    try {
      while (this.queue.length > 0) {
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

  /** Returns false when a multi-job batch failed as a whole and must be retried job by job. */
  private async commitBatch(batch: Pending<unknown>[]): Promise<boolean> {
    const checkpoint = this.auditLog.checkpoint();
    const settled: { pending: Pending<unknown>; ok: boolean; value: unknown; hooks: (() => void)[] }[] = [];
    const em = this.orm.em.fork();
    try {
      await em.transactional(async (tx) => {
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
