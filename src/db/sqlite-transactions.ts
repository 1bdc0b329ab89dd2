import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { BetterSqliteDriver, type SqlEntityManager } from '@mikro-orm/better-sqlite';
import { prepared, type SqliteConnection } from './sqlite-statements.js';

/*
 * Transactions on better-sqlite3 without knex's transaction object. For every transaction knex
 * builds a whole knex instance (`makeTransactor`: a function with a hundred properties defined one
 * by one), a client and a chain of promises around BEGIN and COMMIT, and those objects, made in
 * bulk, were most of what survived the young generation. A decision is a transaction of its own:
 * measured side by side on the 2-core machine (3 runs of each), without knex's object the server
 * spent 5.0–5.1 times the load generator's CPU per decision instead of 5.5–5.8, and deciding 600
 * approvals in-process spent 134–163 ms in scavenges instead of 221–278. better-sqlite3 runs BEGIN
 * and COMMIT as two synchronous statements on its one connection, and what a transaction needs of
 * knex's object is only that the queries made through it (MikroORM's, via `transacting`) run on
 * that connection.
 *
 * So the connection is taken from knex's pool (of one) for the transaction, as knex's own
 * transaction takes it, and every query made in the meantime outside the transaction waits for
 * it; BEGIN and COMMIT are prepared statements; and the transaction context given to the
 * EntityManager is one client per database, made once, that hands out the connection while a
 * transaction holds it and refuses afterwards (as knex refuses a completed transaction's queries).
 */

interface KnexClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown> | unknown;
  pool?: { max?: number };
  config: unknown;
  version: unknown;
  driver: unknown;
  connectionSettings: unknown;
  valueForUndefined: unknown;
  logger: unknown;
}

interface Connection extends SqliteConnection {
  /** better-sqlite3: whether a transaction is open on the connection (SQLite may have rolled one back itself). */
  readonly inTransaction: boolean;
}

/** Runs transactions of one better-sqlite3 database; see above. */
export class SqliteTransactions {
  private held: Connection | null = null;
  /** What `em.getTransactionContext()` returns inside: knex's builders run on its client. */
  private readonly context: { client: object };

  constructor(private readonly client: KnexClient) {
    // As knex's makeTxClient makes one, except that it is made once and lends the connection held.
    const transactionClient = Object.create(Object.getPrototypeOf(client) as object) as Record<string, unknown>;
    for (const field of ['version', 'config', 'driver', 'connectionSettings', 'valueForUndefined', 'logger'] as const) {
      transactionClient[field] = client[field];
    }
    transactionClient['transacting'] = true;
    transactionClient['acquireConnection'] = () =>
      this.held ? Promise.resolve(this.held) : Promise.reject(new Error('The transaction this query was made in has ended'));
    transactionClient['releaseConnection'] = () => Promise.resolve();
    this.context = { client: transactionClient };
  }

  /** Runs `work` in a transaction on a fork of `orm`'s EntityManager: committed when it resolves, rolled back when it throws. */
  async run<T>(orm: MikroORM, work: (em: EntityManager) => Promise<T>): Promise<T> {
    const connection = (await this.client.acquireConnection()) as Connection;
    const em = orm.em.fork();
    try {
      prepared(connection, 'BEGIN').run();
      this.held = connection;
      em.setTransactionContext(this.context);
      try {
        const result = await work(em);
        prepared(connection, 'COMMIT').run();
        return result;
      } catch (error) {
        // SQLite ends some transactions itself when a statement fails (a full disk, say).
        if (connection.inTransaction) rollbackQuietly(connection);
        throw error;
      } finally {
        this.held = null;
        em.resetTransactionContext();
      }
    } finally {
      await this.client.releaseConnection(connection);
    }
  }
}

function rollbackQuietly(connection: Connection): void {
  try {
    prepared(connection, 'ROLLBACK').run();
  } catch {
    // The caller hears of the error that ended the transaction, not of the rollback's.
  }
}

const transactionsOf = new WeakMap<MikroORM, SqliteTransactions | null>();

/**
 * The transactions of `orm` when it is on better-sqlite3 with knex's single connection, or null
 * (another driver: its transactions stay knex's).
 */
export function sqliteTransactions(orm: MikroORM): SqliteTransactions | null {
  let transactions = transactionsOf.get(orm);
  if (transactions === undefined) {
    transactions = null;
    if (orm.em.getDriver() instanceof BetterSqliteDriver) {
      const client = (orm.em as SqlEntityManager).getKnex().client as KnexClient;
      // One connection, which the pool lends to one holder at a time: what makes holding it a transaction's own.
      if ((client.pool?.max ?? 1) === 1) transactions = new SqliteTransactions(client);
    }
    transactionsOf.set(orm, transactions);
  }
  return transactions;
}
