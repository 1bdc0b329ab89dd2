import {
  JsonType,
  OptimisticLockError,
  Reference,
  ReferenceKind,
  wrap,
  type EntityData,
  type EntityManager,
  type EntityMetadata,
  type EntityName,
  type EntityProperty,
  type Platform,
} from '@mikro-orm/core';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { prepared, selectPrepared, selectRawRows, transactionConnection, type SqliteConnection } from './sqlite-statements.js';

/*
 * The entity-level fast paths: an entity inserted, read or updated through the prepared
 * statements of sqlite-statements.ts, planned once per entity from its MikroORM metadata, so
 * that the request path builds no query and enters no unit of work. Any other driver takes the
 * plain MikroORM path.
 */

/** An INSERT of every column of one entity, with the properties that fill it in order. */
interface InsertPlan {
  sql: string;
  props: EntityProperty[];
}

const insertPlans = new WeakMap<EntityMetadata, InsertPlan | null>();

/**
 * The INSERT for an entity whose columns are all plain scalars or single-column references, or
 * null when it has anything else (a composite key, an embeddable, a formula), which only the unit
 * of work knows how to write.
 * The version column is left to its database default, as MikroORM leaves it.
 */
function insertPlan(meta: EntityMetadata): InsertPlan | null {
  let plan = insertPlans.get(meta);
  if (plan !== undefined) return plan;
  const columns = meta.props.filter((prop) => prop.persist !== false && !prop.version);
  const mappable = columns.every(
    (prop) =>
      prop.kind === ReferenceKind.ONE_TO_MANY ||
      prop.kind === ReferenceKind.MANY_TO_MANY ||
      ((prop.kind === ReferenceKind.SCALAR || prop.kind === ReferenceKind.MANY_TO_ONE) && !prop.formula && prop.fieldNames?.length === 1),
  );
  const props = columns.filter((prop) => prop.kind === ReferenceKind.SCALAR || prop.kind === ReferenceKind.MANY_TO_ONE);
  plan = mappable && !meta.discriminatorColumn
    ? {
        sql:
          `insert into \`${meta.tableName}\` (${props.map((prop) => `\`${prop.fieldNames[0]}\``).join(', ')}) ` +
          `values (${props.map(() => '?').join(', ')})`,
        props,
      }
    : null;
  insertPlans.set(meta, plan);
  return plan;
}

/**
 * Writes a new entity in `em`'s open transaction with a statement prepared once per connection,
 * without the unit of work: for the append-only rows of the request path (audit events, new
 * approval requests), where change-set computation and query building cost far more than the
 * insert itself. Values are converted as MikroORM converts them (JSON text, dates as epoch
 * milliseconds, booleans as 0 or 1). The entity is not managed by `em` afterwards.
 *
 * Prepared statements only on better-sqlite3, whose synchronous statements can be prepared once
 * and reused; with another driver, or for an entity it cannot map, MikroORM's native insert writes
 * it at once; outside a transaction it is persisted, and written when `em` flushes.
 */
export async function insertNew(em: EntityManager, entity: object): Promise<void> {
  const transaction = em.getTransactionContext<{ client: { acquireConnection(): Promise<unknown> } }>();
  const meta = em.getMetadata().find(entity.constructor.name);
  const plan = transaction && meta && em.getDriver() instanceof BetterSqliteDriver ? insertPlan(meta) : null;
  const values = plan && rowValues(em, plan, entity as Record<string, unknown>);
  if (!plan || !values) {
    // Another driver: a native insert, which needs no flush (see transaction.ts).
    if (transaction) await em.insert(entity);
    else em.persist(entity);
    return;
  }
  // A transaction's knex client hands out the transaction's own connection: the statement runs inside it.
  const connection = (await transaction!.client.acquireConnection()) as SqliteConnection;
  try {
    prepared(connection, plan.sql).run(...values);
  } catch (error) {
    throw em.getDriver().convertException(error as Error);
  }
}


/** The columns findData reads of an entity, and the SELECT of them. */
interface SelectPlan {
  columns: string;
  props: EntityProperty[];
  /** Per column, its value as the entity holds it; made once per entity and platform. */
  converters: ((value: unknown) => unknown)[];
}

const selectPlans = new WeakMap<EntityMetadata, SelectPlan>();

function selectPlan(meta: EntityMetadata, platform: Platform): SelectPlan {
  let plan = selectPlans.get(meta);
  if (!plan) {
    const props = meta.props.filter(
      (prop) => !prop.lazy && prop.persist !== false && (prop.kind === ReferenceKind.SCALAR || prop.kind === ReferenceKind.MANY_TO_ONE) && prop.fieldNames?.length === 1,
    );
    plan = { columns: props.map((prop) => `\`${prop.fieldNames[0]}\``).join(', '), props, converters: props.map((prop) => converterOf(prop, platform)) };
    selectPlans.set(meta, plan);
  }
  return plan;
}

/*
 * The branch each column takes is decided here once, not per value: a page of 50 approvals has
 * 1,600 values, and deciding per value cost more than reading them. SQLite returns a JSON column
 * as text, which MikroORM's JsonType hands to the platform to parse after checks it repeats for
 * every value; here the platform parses it directly.
 */
function converterOf(prop: EntityProperty, platform: Platform): (value: unknown) => unknown {
  const type = prop.customType;
  if (type instanceof JsonType) return (value) => (value == null ? value : platform.convertJsonToJSValue(value));
  if (type) return (value) => (value == null ? value : type.convertToJSValue(value, platform));
  if (prop.runtimeType === 'Date') return (value) => (value == null ? value : new Date(value as number | string));
  if (prop.runtimeType === 'boolean') return (value) => (value == null ? value : Boolean(value));
  return (value) => value;
}

/**
 * Plain rows of an entity, as `findData` in orm.ts returns them (JSON parsed, dates as Dates,
 * booleans as booleans), selected by `tail` (the SQL after `from <table>`: where, order, limit,
 * with `?` for `values`) through a statement prepared once per connection: in `em`'s open
 * transaction, or outside one on a connection held for this call only. Returns null, having read
 * nothing, with another driver: the caller then reads through MikroORM. For reads repeated often
 * (the notification dispatcher's passes, listings), where building the query costs more than
 * SQLite does.
 */
export async function selectData<T extends object>(em: EntityManager, entityName: EntityName<T>, tail: string, values: unknown[]): Promise<EntityData<T>[] | null> {
  const meta = em.getMetadata().get<T>(typeof entityName === 'string' ? entityName : (entityName as { name: string }).name);
  const platform = em.getPlatform();
  const plan = selectPlan(meta, platform);
  const sql = `select ${plan.columns} from \`${meta.tableName}\` ${tail}`;
  const rows =
    (await selectPrepared(em, sql, values)) ??
    (em.getTransactionContext() ? null : await selectRawRows(em, sql, values));
  if (!rows) return null;
  const { props, converters } = plan;
  return rows.map((row) => {
    const data: Record<string, unknown> = {};
    for (let index = 0; index < props.length; index++) data[props[index]!.name] = converters[index]!(row[index]);
    return data as EntityData<T>;
  });
}


/** The row's values in the plan's column order, or null when one is undefined (left to the ORM). */
function rowValues(em: EntityManager, plan: InsertPlan, entity: Record<string, unknown>): unknown[] | null {
  const platform = em.getPlatform();
  const values: unknown[] = [];
  for (const prop of plan.props) {
    let value = entity[prop.name];
    if (value == null && prop.onCreate) value = entity[prop.name] = prop.onCreate(entity, em);
    if (value === undefined) return null;
    if (prop.kind === ReferenceKind.MANY_TO_ONE && value !== null) value = wrap(Reference.unwrapReference(value as object), true).getPrimaryKey();
    values.push(databaseValue(platform, prop, value));
  }
  return values;
}

/** A property's value as MikroORM writes it: custom types converted, dates as the platform stores them, booleans as 0 or 1. */
function databaseValue(platform: Platform, prop: EntityProperty, value: unknown): unknown {
  if (value != null && prop.customType) value = prop.customType.convertToDatabaseValue(value, platform, { mode: 'query-data' });
  if (value instanceof Date) return platform.processDateProperty(value);
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

/** An UPDATE of some columns of one entity by its primary key, bumping and checking its version. */
interface UpdatePlan {
  sql: string;
  props: EntityProperty[];
  primaryKey: EntityProperty;
  version: EntityProperty | undefined;
}

const updatePlans = new WeakMap<EntityMetadata, Map<string, UpdatePlan>>();

function updatePlan(meta: EntityMetadata, names: readonly string[]): UpdatePlan {
  let plans = updatePlans.get(meta);
  if (!plans) updatePlans.set(meta, (plans = new Map()));
  const key = names.join(',');
  let plan = plans.get(key);
  if (!plan) {
    const props = names.map((name) => meta.properties[name] as EntityProperty);
    const primaryKey = meta.properties[meta.primaryKeys[0] as string] as EntityProperty;
    const version = meta.versionProperty ? (meta.properties[meta.versionProperty] as EntityProperty) : undefined;
    const assignments = props.map((prop) => `\`${prop.fieldNames[0]}\` = ?`);
    if (version) assignments.push(`\`${version.fieldNames[0]}\` = \`${version.fieldNames[0]}\` + 1`);
    const where = `\`${primaryKey.fieldNames[0]}\` = ?` + (version ? ` and \`${version.fieldNames[0]}\` = ?` : '');
    plan = { sql: `update \`${meta.tableName}\` set ${assignments.join(', ')} where ${where}`, props, primaryKey, version };
    plans.set(key, plan);
  }
  return plan;
}

/**
 * Writes the named scalar properties of an entity that `em` does not manage (read with
 * `disableIdentityMap`) in `em`'s open transaction, by its primary key. An entity with a version
 * column is updated only at the version it was read at, and its version is bumped; a row changed
 * meanwhile throws MikroORM's OptimisticLockError, as a flush would. Through a statement prepared
 * once per connection on better-sqlite3, through a native update otherwise: either way no unit of
 * work is flushed (see transaction.ts).
 */
export async function updateColumns<T extends object>(em: EntityManager, entity: T, names: readonly (keyof T & string)[]): Promise<void> {
  const meta = em.getMetadata().get(entity.constructor.name);
  const plan = updatePlan(meta, names);
  const record = entity as Record<string, unknown>;
  const version = plan.version ? (record[plan.version.name] as number) : undefined;
  const connection = await transactionConnection(em);
  let changed: number;
  if (connection) {
    const platform = em.getPlatform();
    const values = plan.props.map((prop) => databaseValue(platform, prop, record[prop.name]));
    values.push(record[plan.primaryKey.name]);
    if (plan.version) values.push(version);
    try {
      changed = (prepared(connection, plan.sql).run(...values) as { changes: number }).changes;
    } catch (error) {
      throw em.getDriver().convertException(error as Error);
    }
  } else {
    const data: Record<string, unknown> = Object.fromEntries(plan.props.map((prop) => [prop.name, record[prop.name]]));
    const where: Record<string, unknown> = { [plan.primaryKey.name]: record[plan.primaryKey.name] };
    if (plan.version) {
      data[plan.version.name] = (version as number) + 1;
      where[plan.version.name] = version;
    }
    changed = await em.nativeUpdate(meta.class, where as never, data as never);
  }
  if (changed !== 1) throw OptimisticLockError.lockFailed(entity as never);
  if (plan.version) record[plan.version.name] = (version as number) + 1;
}

