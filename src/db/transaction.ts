import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { sqliteTransactions } from './sqlite-transactions.js';
import { durable } from './wal-sync.js';

/*
 * Transactions without MikroORM's AsyncLocalStorage. On Node 20, an AsyncLocalStorage entered once
 * turns promise hooks on for the rest of the process: every promise, in every request and every
 * subscriber's delivery, then pays for them (a third of the server's CPU in the 1,000-subscriber
 * fan-out). MikroORM enters one in `em.transactional()` and in every `em.flush()`. Our transactions
 * run on forks of their own and never resolve an EntityManager from the async context, so they
 * need neither; and the fast paths write past the unit of work, so most have nothing to flush.
 */

/**
 * Runs `work` in a transaction on a fork of its own: committed when `work` resolves (its unit of
 * work flushed first, when it holds anything), rolled back when it throws. Resolves once the
 * commit is durable (see wal-sync.ts).
 */
export async function inTransaction<T>(orm: MikroORM, work: (em: EntityManager) => Promise<T>): Promise<T> {
  const committed = await commitTransaction(orm, work);
  await committed.durable;
  return committed.result;
}

/**
 * As {@link inTransaction}, but resolves as soon as the transaction has committed, with a promise
 * of its durability: for the committer, which runs its next batch while this one's fsync runs, and
 * answers nobody before `durable` resolves.
 */
export async function commitTransaction<T>(orm: MikroORM, work: (em: EntityManager) => Promise<T>): Promise<{ result: T; durable: Promise<void> }> {
  const flushed = async (em: EntityManager): Promise<T> => {
    const result = await work(em);
    await flushChanges(em);
    return result;
  };
  const sqlite = sqliteTransactions(orm);
  const result = sqlite ? await sqlite.run(orm, flushed) : await inKnexTransaction(orm, flushed);
  // Asked at once, so that the fsync that resolves it starts after this commit.
  const madeDurable = durable(orm);
  // The caller handles a failure; until it attaches its handler, the rejection is not unhandled.
  madeDurable.catch(() => {});
  return { result, durable: madeDurable };
}

/** Runs `work` in a knex transaction on a fork of its own: committed when it resolves, rolled back when it throws. */
async function inKnexTransaction<T>(orm: MikroORM, work: (em: EntityManager) => Promise<T>): Promise<T> {
  const em = orm.em.fork();
  await em.begin();
  let result: T;
  try {
    result = await work(em);
    await em.getConnection('write').commit(em.getTransactionContext());
  } catch (error) {
    await rollbackQuietly(em);
    throw error;
  }
  em.resetTransactionContext();
  return result;
}

/**
 * Flushes `em`'s unit of work when it manages or holds anything; a unit of work that is empty
 * (everything was written past it) is left alone, so that no flush enters an async context.
 */
export async function flushChanges(em: EntityManager): Promise<void> {
  const unitOfWork = em.getUnitOfWork();
  if (unitOfWork.getPersistStack().size === 0 && unitOfWork.getRemoveStack().size === 0 && unitOfWork.getIdentityMap().keys().length === 0) {
    return;
  }
  await em.flush();
}

async function rollbackQuietly(em: EntityManager): Promise<void> {
  const context = em.getTransactionContext();
  if (context === undefined) return;
  try {
    await em.getConnection('write').rollback(context);
  } catch {
    // The transaction is already gone (its commit failed half-way, or the connection broke): the
    // caller hears of the error that ended it, not of the rollback's.
  } finally {
    em.resetTransactionContext();
  }
}
