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
import { Migration20261203CallerRevocations as PostgresCallerRevocations } from './postgresql/Migration20261203CallerRevocations.js';
import { Migration20261203CallerRevocations as SqliteCallerRevocations } from './sqlite/Migration20261203CallerRevocations.js';
import { Migration20261204ListingOrder as PostgresListingOrder } from './postgresql/Migration20261204ListingOrder.js';
import { Migration20261204ListingOrder as SqliteListingOrder } from './sqlite/Migration20261204ListingOrder.js';
import type { Constructor, MigrationObject } from '@mikro-orm/core';
import type { Migration } from '@mikro-orm/migrations';

/** MikroORM's list entries: each migration is recorded under its class's name, as a file-based run would. */
const named = (migrations: Constructor<Migration>[]): MigrationObject[] => migrations.map((migration) => ({ name: migration.name, class: migration }));

/**
 * Migrations per dialect, in the order they apply; listed explicitly so compiled and source runs
 * agree. Both lists carry the same class names: a schema change adds one migration to each.
 */
export const sqliteMigrationsList = named([SqliteInitial, SqliteNotifications, SqliteServerLease, SqliteSecretsAtRest, SqliteDueDeliveries, SqliteCallerRevocations, SqliteListingOrder]);

export const postgresMigrationsList = named([PostgresInitial, PostgresNotifications, PostgresServerLease, PostgresSecretsAtRest, PostgresDueDeliveries, PostgresCallerRevocations, PostgresListingOrder]);
