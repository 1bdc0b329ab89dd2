import { Migration20261122Initial } from './Migration20261122Initial.js';

/** Migrations in the order they apply; listed explicitly so compiled and source runs agree. */
export const migrationsList = [{ name: 'Migration20261122Initial', class: Migration20261122Initial }];
