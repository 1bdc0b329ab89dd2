import { Migration20261122Initial as PostgresInitial } from './postgresql/Migration20261122Initial.js';
import { Migration20261201Notifications as PostgresNotifications } from './postgresql/Migration20261201Notifications.js';
import { Migration20261122Initial as SqliteInitial } from './sqlite/Migration20261122Initial.js';
import { Migration20261201Notifications as SqliteNotifications } from './sqlite/Migration20261201Notifications.js';
import { Migration20261201ServerLease as PostgresServerLease } from './postgresql/Migration20261201ServerLease.js';
import { Migration20261201ServerLease as SqliteServerLease } from './sqlite/Migration20261201ServerLease.js';
import { Migration20261201SecretsAtRest as PostgresSecretsAtRest } from './postgresql/Migration20261201SecretsAtRest.js';
import { Migration20261201SecretsAtRest as SqliteSecretsAtRest } from './sqlite/Migration20261201SecretsAtRest.js';
import { Migration20261202DueDeliveries as PostgresDueDeliveries } from './postgresql/Migration20261202DueDeliveries.js';
import { Migration20261202DueDeliveries as SqliteDueDeliveries } from './sqlite/Migration20261202DueDeliveries.js';

/**
 * Migrations per dialect, in the order they apply; listed explicitly so compiled and source runs
 * agree. Both lists carry the same names: a schema change adds one migration to each.
 */
export const sqliteMigrationsList = [
  { name: 'Migration20261122Initial', class: SqliteInitial },
  { name: 'Migration20261201Notifications', class: SqliteNotifications },
  { name: 'Migration20261201ServerLease', class: SqliteServerLease },
  { name: 'Migration20261201SecretsAtRest', class: SqliteSecretsAtRest },
  { name: 'Migration20261202DueDeliveries', class: SqliteDueDeliveries },
];

export const postgresMigrationsList = [
  { name: 'Migration20261122Initial', class: PostgresInitial },
  { name: 'Migration20261201Notifications', class: PostgresNotifications },
  { name: 'Migration20261201ServerLease', class: PostgresServerLease },
  { name: 'Migration20261201SecretsAtRest', class: PostgresSecretsAtRest },
  { name: 'Migration20261202DueDeliveries', class: PostgresDueDeliveries },
];
