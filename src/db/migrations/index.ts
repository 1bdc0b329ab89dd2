import { Migration20261122Initial as PostgresInitial } from './postgresql/Migration20261122Initial.js';
import { Migration20261122Initial as SqliteInitial } from './sqlite/Migration20261122Initial.js';

/**
 * Migrations per dialect, in the order they apply; listed explicitly so compiled and source runs
 * agree. Both lists carry the same names: a schema change adds one migration to each.
 */
export const sqliteMigrationsList = [{ name: 'Migration20261122Initial', class: SqliteInitial }];

export const postgresMigrationsList = [{ name: 'Migration20261122Initial', class: PostgresInitial }];
