/*
 * The SQLite fast paths, in one place: prepared statements on better-sqlite3's synchronous
 * connection (sqlite-statements.ts) and the entity inserts, reads and updates built on them
 * (entity-statements.ts). Each one falls back to plain MikroORM with any other driver, so another
 * SQL dialect needs no change here, only an adapter of its own where it wants one.
 */
export * from './sqlite-statements.js';
export * from './entity-statements.js';
