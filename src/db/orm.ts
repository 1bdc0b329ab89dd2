import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  MikroORM,
  ReferenceKind,
  type EntityData,
  type EntityManager,
  type EntityName,
  type FilterQuery,
  type Options,
  type QueryOrderMap,
} from '@mikro-orm/core';
import { BetterSqliteDriver, type SqlEntityManager } from '@mikro-orm/better-sqlite';
import { SqliteDriver } from '@mikro-orm/sqlite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { entitySchemas } from './entities/index.js';
import { runStatement } from './fast-paths.js';
import { postgresMigrationsList, sqliteMigrationsList } from './migrations/index.js';
import { registerWalSync, WalSync } from './wal-sync.js';

/** Where the data lives: an SQLite file (the embedded default) or a PostgreSQL server shared by instances. */
export type DatabaseOptions = (
  | {
      /** SQLite file, or ':memory:'. */
      path: string;
      driver: 'better-sqlite' | 'sqlite';
    }
  | {
      /** `postgres://user:password@host:5432/database` */
      url: string;
      driver: 'postgresql';
      /** Most connections one instance holds open. */
      poolSize?: number;
    }
) & { debug?: boolean };

/** The database options of a loaded configuration. */
export function databaseOptions(config: {
  databasePath: string;
  databaseDriver: 'better-sqlite' | 'sqlite' | 'postgresql';
  databaseUrl: string | null;
}): DatabaseOptions {
  if (config.databaseDriver === 'postgresql') return { driver: 'postgresql', url: config.databaseUrl ?? '' };
  return { driver: config.databaseDriver, path: config.databasePath };
}

/** True when several processes may write the database at once (PostgreSQL), so nothing may be cached as the only writer. */
export function isSharedDatabase(em: EntityManager): boolean {
  return em.getDriver() instanceof PostgreSqlDriver;
}

/** MikroORM's options for Countersign's schema, shared by the server and the schema tools. */
export function ormOptions(options: DatabaseOptions): Options {
  const migrations = { transactional: true, allOrNothing: true, snapshot: false, silent: true };
  if (options.driver === 'postgresql') {
    return {
      ...commonOptions(options),
      driver: PostgreSqlDriver,
      clientUrl: options.url,
      pool: { min: 0, max: options.poolSize ?? 10 },
      migrations: { ...migrations, migrationsList: postgresMigrationsList },
    };
  }
  return {
    ...commonOptions(options),
    driver: options.driver === 'better-sqlite' ? BetterSqliteDriver : SqliteDriver,
    dbName: options.path,
    migrations: { ...migrations, migrationsList: sqliteMigrationsList },
  };
}

function commonOptions(options: DatabaseOptions): Options {
  return {
    entities: entitySchemas,
    extensions: [Migrator],
    // Every unit of work forks its own EntityManager; a global one would leak state between requests.
    allowGlobalContext: false,
    debug: options.debug ?? false,
    forceUtcTimezone: true,
    ignoreUndefinedInQuery: true,
    // By default MikroORM puts a setter on the entity's prototype for every property, which on its
    // first assignment defines a getter and a setter on the instance (to track changes made before
    // the entity is persisted): constructing an approval then cost 25 µs, against 2 µs for the
    // plain object. The entities the request path makes are written past the unit of work and never
    // managed, and those that are persisted get the same tracking when they are (ensurePropagation).
    // What is lost is propagation from a constructor's many-to-one to the inverse collection: the
    // stores add to the collection themselves (VoteStore.add).
    propagationOnPrototype: false,
  };
}

/**
 * Opens the database and applies the committed migrations. SQLite gets its durability settings,
 * so that an acknowledged commit survives a crash and a power loss: WAL, and on better-sqlite3
 * `synchronous=NORMAL` with each commit's fsync made off the event loop (wal-sync.ts), on
 * node-sqlite3 (whose statements already run on the thread pool) `synchronous=FULL`.
 * On PostgreSQL, instances starting together migrate one after the other under an advisory lock.
 */
export async function openDatabase(options: DatabaseOptions): Promise<MikroORM> {
  if (options.driver === 'postgresql') {
    const orm = await MikroORM.init(ormOptions(options));
    try {
      await oneAtATime(orm, 'migrations', () => orm.getMigrator().up());
    } catch (error) {
      await orm.close(true);
      throw error;
    }
    return orm;
  }
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const orm = await MikroORM.init(ormOptions(options));
  try {
    const connection = orm.em.getConnection();
    await connection.execute('pragma journal_mode = wal', [], 'run');
    const syncOffTheLoop = options.driver === 'better-sqlite' && options.path !== ':memory:';
    await connection.execute(`pragma synchronous = ${syncOffTheLoop ? 'normal' : 'full'}`, [], 'run');
    if (syncOffTheLoop) registerWalSync(orm, WalSync.forFile(options.path));
    await connection.execute('pragma foreign_keys = on', [], 'run');
    // Each job of a batch runs in a savepoint, and SQLite keeps the original of every page a
    // savepoint changes in a sub-journal, which past 64 KiB it spills to a temporary file: at 16
    // clients requesting approvals that was about 75 KB of writes a request, three times the WAL's.
    // In memory it costs a copy per page; nothing durable is in it (a crash rolls back with the WAL).
    await connection.execute('pragma temp_store = memory', [], 'run');
    await connection.execute('pragma busy_timeout = 5000', [], 'run');
    await checkWritable(orm, options.path);
    const applied = await orm.getMigrator().up();
    // The migration that stopped storing decision tokens leaves them in freed pages until scrubbed.
    if (applied.some((migration) => migration.name === 'Migration20261201SecretsAtRest')) await scrubFreedPages(orm);
  } catch (error) {
    await orm.close(true);
    throw error;
  }
  return orm;
}

/**
 * Rewrites an SQLite file so that nothing deleted or overwritten survives in it or in its WAL:
 * a value replaced by its sealed form (a signing key) or dropped (decision tokens) otherwise stays
 * readable in freed pages and WAL frames. VACUUM rebuilds every page, the TRUNCATE checkpoint copies
 * the rebuilt pages into the file and empties the WAL. A no-op on PostgreSQL, whose storage is the
 * server's (run VACUUM FULL there after such a migration). Run once, at start, when something was
 * replaced.
 */
export async function scrubFreedPages(orm: MikroORM): Promise<void> {
  if (isSharedDatabase(orm.em)) return;
  const connection = orm.em.getConnection();
  await connection.execute('pragma wal_checkpoint(truncate)', [], 'all');
  await connection.execute('vacuum', [], 'run');
  await connection.execute('pragma wal_checkpoint(truncate)', [], 'all');
}

interface PgClient {
  query(sql: string, values?: unknown[]): Promise<unknown>;
}

/** Keys of the advisory locks under which instances do one-off work one at a time. */
const ONE_AT_A_TIME = { migrations: 0x636f_756e, 'first-signing-key': 0x636f_756b } as const;

/**
 * Runs `work` while no other instance sharing the database runs work under the same name: on
 * PostgreSQL, under a session-level advisory lock; SQLite has one process, so it just runs.
 */
export function oneAtATime<T>(orm: MikroORM, name: keyof typeof ONE_AT_A_TIME, work: () => Promise<T>): Promise<T> {
  return isSharedDatabase(orm.em) ? withSessionLock(orm, ONE_AT_A_TIME[name], work) : work();
}

/** Runs `work` while this process holds a PostgreSQL session-level advisory lock. */
async function withSessionLock<T>(orm: MikroORM, key: number, work: () => Promise<T>): Promise<T> {
  const client = (orm.em as unknown as SqlEntityManager).getKnex().client as KnexClient;
  const connection = (await client.acquireConnection()) as PgClient;
  try {
    await connection.query('select pg_advisory_lock($1)', [key]);
    try {
      return await work();
    } finally {
      await connection.query('select pg_advisory_unlock($1)', [key]);
    }
  } finally {
    await client.releaseConnection(connection);
  }
}

/** The key of the advisory lock every write transaction takes first on PostgreSQL (see lockWriters). */
const WRITER_LOCK = 0x6373_7772;

/**
 * Makes the write transaction `em` is in the only one in progress across every instance sharing the
 * database, until it commits or rolls back. On PostgreSQL this is a transaction-level advisory lock
 * taken before any other statement, so no two writers can wait on each other (no deadlock), and each
 * sees everything committed before it: the audit chain heads, a consumed token, a cast vote, an
 * idempotency key. Concurrent requests on one instance still share a transaction (group commit), so
 * the lock is taken once per batch.
 *
 * SQLite starts transactions deferred: one that reads first and writes later fails with
 * SQLITE_BUSY when another connection (a second process on the file, `countersign keys rotate`)
 * wrote in between, whatever the busy timeout. A write as the first statement (one that changes
 * no row still takes the lock) waits for the lock instead, and everything the transaction reads
 * afterwards stays current until it commits.
 */
export async function lockWriters(em: EntityManager): Promise<void> {
  if (isSharedDatabase(em)) {
    await em.getConnection().execute('select pg_advisory_xact_lock(?)', [WRITER_LOCK], 'run', em.getTransactionContext());
  } else {
    await runStatement(em, 'update tenant_settings set version = version where 0');
  }
}

/** The database cannot be written: the server must not start and report healthy. */
export class DatabaseUnwritableError extends Error {
  readonly code = 'DATABASE_UNWRITABLE';
  constructor(
    readonly databasePath: string,
    reason: string,
  ) {
    super(`the database ${databasePath} is not writable (${reason}); check the permissions of the file, its -wal and -shm files and their folder`);
    this.name = 'DatabaseUnwritableError';
  }
}

/**
 * SQLite opens a file it may not write read-only, without a word, and every write then fails.
 * Writing the header's user_version back unchanged needs the write lock and the right to write
 * the file, the journal and the WAL index, and changes nothing.
 */
async function checkWritable(orm: MikroORM, path: string): Promise<void> {
  const connection = orm.em.getConnection();
  try {
    const [row] = await connection.execute<{ user_version: number }[]>('pragma user_version', [], 'all');
    await connection.execute(`pragma user_version = ${Number(row?.user_version ?? 0)}`, [], 'run');
  } catch (error) {
    throw new DatabaseUnwritableError(path, (error as Error).message);
  }
}

interface KnexClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown> | unknown;
}

/**
 * Finds rows as plain data: the values an entity would be hydrated with (JSON parsed, dates as
 * Date, booleans as booleans), without creating, tracking or wiring up entities, which costs most
 * of a listing's time. Lazy properties are left out, as `find` leaves them out; a to-one relation
 * holds the referenced primary key. For read paths that only turn rows into views.
 */
export async function findData<T extends object>(
  em: EntityManager,
  entityName: EntityName<T>,
  where: FilterQuery<T>,
  options: { orderBy: QueryOrderMap<T>[]; limit?: number },
): Promise<EntityData<T>[]> {
  const meta = em.getMetadata().get<T>(typeof entityName === 'string' ? entityName : (entityName as { name: string }).name);
  const props = meta.props.filter(
    (prop) => !prop.lazy && prop.persist !== false && (prop.kind === ReferenceKind.SCALAR || prop.kind === ReferenceKind.MANY_TO_ONE),
  );
  const query = (em as SqlEntityManager)
    .createQueryBuilder(entityName)
    .select(props.map((prop) => prop.name) as never)
    .where(where)
    .orderBy(options.orderBy);
  if (options.limit !== undefined) query.limit(options.limit);
  const rows = await query.execute<Record<string, unknown>[]>('all', true);
  const platform = em.getPlatform();
  const converted = props.filter((prop) => prop.customType);
  for (const row of rows) {
    for (const prop of converted) {
      const value = row[prop.name];
      if (value != null) row[prop.name] = prop.customType!.convertToJSValue(value, platform);
    }
  }
  return rows as EntityData<T>[];
}
