import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MikroORM, type Options } from '@mikro-orm/core';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { SqliteDriver } from '@mikro-orm/sqlite';
import { Migrator } from '@mikro-orm/migrations';
import { entitySchemas } from './entities/index.js';
import { migrationsList } from './migrations/index.js';

export interface DatabaseOptions {
  /** SQLite file, or ':memory:'. */
  path: string;
  driver: 'better-sqlite' | 'sqlite';
  debug?: boolean;
}

/** MikroORM's options for Countersign's schema, shared by the server and the schema tools. */
export function ormOptions(options: DatabaseOptions): Options {
  return {
    driver: options.driver === 'better-sqlite' ? BetterSqliteDriver : SqliteDriver,
    dbName: options.path,
    entities: entitySchemas,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    // Every unit of work forks its own EntityManager; a global one would leak state between requests.
    allowGlobalContext: false,
    debug: options.debug ?? false,
    forceUtcTimezone: true,
    ignoreUndefinedInQuery: true,
  };
}

/**
 * Opens the database, applies the committed migrations and sets SQLite's durability:
 * WAL with synchronous=FULL, so an acknowledged commit survives a crash and a power loss.
 */
export async function openDatabase(options: DatabaseOptions): Promise<MikroORM> {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const orm = await MikroORM.init(ormOptions(options));
  const connection = orm.em.getConnection();
  await connection.execute('pragma journal_mode = wal', [], 'run');
  await connection.execute('pragma synchronous = full', [], 'run');
  await connection.execute('pragma foreign_keys = on', [], 'run');
  await connection.execute('pragma busy_timeout = 5000', [], 'run');
  await orm.getMigrator().up();
  return orm;
}
