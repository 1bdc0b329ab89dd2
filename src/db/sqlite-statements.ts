import type { EntityManager, Platform } from '@mikro-orm/core';
import { BetterSqliteDriver, type SqlEntityManager } from '@mikro-orm/better-sqlite';

/*
 * Prepared statements on better-sqlite3's synchronous connection, one per connection and SQL
 * text, for the append-only inserts of the request path and for reads that walk many rows. Each
 * falls back to plain MikroORM (or reports that it cannot run) with any other driver.
 */

/** The part of a better-sqlite3 prepared statement used here. */
export interface PreparedStatement {
  run(...values: unknown[]): unknown;
  all(...values: unknown[]): unknown[];
  /** Rows as arrays of column values, in select order, rather than as objects. */
  raw(toggle: boolean): PreparedStatement;
}

export interface SqliteConnection {
  prepare(sql: string): PreparedStatement;
}

interface KnexClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown> | unknown;
}

/** Statements by connection and SQL text; a connection's go when it closes. */
const preparedStatements = new WeakMap<object, Map<string, PreparedStatement>>();

/** A statement prepared once per connection: parsing the SQL costs more than running it. */
export function prepared(connection: SqliteConnection, sql: string): PreparedStatement {
  let statements = preparedStatements.get(connection);
  if (!statements) preparedStatements.set(connection, (statements = new Map()));
  let statement = statements.get(sql);
  if (!statement) statements.set(sql, (statement = connection.prepare(sql)));
  return statement;
}


/** The connection of `em`'s open transaction on better-sqlite3, or null (another driver, or no transaction). */
export async function transactionConnection(em: EntityManager): Promise<SqliteConnection | null> {
  const transaction = em.getTransactionContext<{ client: { acquireConnection(): Promise<unknown> } }>();
  if (!transaction || !(em.getDriver() instanceof BetterSqliteDriver)) return null;
  // A transaction's knex client hands out the transaction's own connection.
  return (await transaction.client.acquireConnection()) as SqliteConnection;
}

/**
 * Runs one statement without results (a savepoint, say) in `em`'s open transaction: through a
 * statement prepared once per connection on better-sqlite3, through MikroORM otherwise.
 */
export async function runStatement(em: EntityManager, sql: string): Promise<void> {
  const connection = await transactionConnection(em);
  try {
    if (connection) prepared(connection, sql).run();
    else await em.getConnection().execute(sql, [], 'run', em.getTransactionContext());
  } catch (error) {
    throw em.getDriver().convertException(error as Error);
  }
}

/**
 * Runs one write with positional `values` (dates converted as MikroORM converts them) in `em`'s
 * open transaction, through a statement prepared once per connection, and returns true. Returns
 * false without running anything with another driver or outside a transaction: the caller then
 * writes through MikroORM. For writes repeated per item of a batch (a notification's outcome),
 * where building the query costs more than running it.
 */
export async function runPrepared(em: EntityManager, sql: string, values: unknown[]): Promise<boolean> {
  const connection = await transactionConnection(em);
  if (!connection) return false;
  try {
    prepared(connection, sql).run(...boundValues(em.getPlatform(), values));
  } catch (error) {
    throw em.getDriver().convertException(error as Error);
  }
  return true;
}

/**
 * Like {@link runPrepared}, but returns how many rows the write changed, or null (having run
 * nothing) with another driver or outside a transaction: for compare-and-set writes and inserts
 * that skip duplicates, whose caller must know whether they took.
 */
export async function runPreparedCounted(em: EntityManager, sql: string, values: unknown[]): Promise<number | null> {
  return runPreparedEach(em, sql, [values]);
}

/**
 * Runs one write once per row of `valueRows` in `em`'s open transaction, through one statement
 * prepared once per connection, and returns how many rows the writes changed in all; or null,
 * having run nothing, with another driver or outside a transaction.
 */
export async function runPreparedEach(em: EntityManager, sql: string, valueRows: unknown[][]): Promise<number | null> {
  const connection = await transactionConnection(em);
  if (!connection) return null;
  const platform = em.getPlatform();
  const statement = prepared(connection, sql);
  let changes = 0;
  try {
    for (const values of valueRows) {
      changes += (statement.run(...boundValues(platform, values)) as { changes: number }).changes;
    }
  } catch (error) {
    throw em.getDriver().convertException(error as Error);
  }
  return changes;
}

/**
 * Rows of `sql` with positional `values` (dates converted), as arrays of column values, read in
 * `em`'s open transaction through a statement prepared once per connection; or null, having read
 * nothing, with another driver or outside a transaction (the caller then reads through MikroORM).
 */
export async function selectPrepared(em: EntityManager, sql: string, values: unknown[]): Promise<unknown[][] | null> {
  const connection = await transactionConnection(em);
  if (!connection) return null;
  const platform = em.getPlatform();
  try {
    return prepared(connection, sql)
      .raw(true)
      .all(...boundValues(platform, values)) as unknown[][];
  } catch (error) {
    throw em.getDriver().convertException(error as Error);
  }
}


/**
 * Rows of `sql` with positional `values`, as arrays of column values, read in `em`'s open
 * transaction (so they see its own writes): through a prepared statement on better-sqlite3,
 * through MikroORM otherwise.
 */
export async function selectInTransaction(em: EntityManager, sql: string, values: unknown[]): Promise<unknown[][]> {
  const connection = await transactionConnection(em);
  try {
    if (connection) return prepared(connection, sql).raw(true).all(...values) as unknown[][];
  } catch (error) {
    throw em.getDriver().convertException(error as Error);
  }
  const rows = await em.getConnection().execute<Record<string, unknown>[]>(sql, values, 'all', em.getTransactionContext());
  return rows.map((row: Record<string, unknown>) => Object.values(row));
}

/**
 * Runs `sql` with positional `values` (dates converted) and returns its rows as arrays of column values, through a
 * statement prepared once per connection, or returns null with a driver other than better-sqlite3
 * (the caller then queries through MikroORM). For reads that walk many rows, where building a
 * query and an object per row costs more than SQLite does. The connection is held for this call
 * only, so that writers can commit between two calls.
 */
export async function selectRawRows(em: EntityManager, sql: string, values: unknown[]): Promise<unknown[][] | null> {
  if (!(em.getDriver() instanceof BetterSqliteDriver)) return null;
  const client = (em as SqlEntityManager).getKnex().client as KnexClient;
  const connection = (await client.acquireConnection()) as SqliteConnection;
  try {
    return prepared(connection, sql).raw(true).all(...boundValues(em.getPlatform(), values)) as unknown[][];
  } catch (error) {
    throw em.getDriver().convertException(error as Error);
  } finally {
    await client.releaseConnection(connection);
  }
}

/** Positional values as the prepared statements bind them: dates as MikroORM stores them on this platform. */
function boundValues(platform: Platform, values: readonly unknown[]): unknown[] {
  return values.map((value) => (value instanceof Date ? platform.processDateProperty(value) : value));
}
