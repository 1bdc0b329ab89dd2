/**
 * The PostgreSQL and Redis servers the test command starts (scripts/test-services.sh): each suite
 * gets a database of its own on the shared server, and a Redis key prefix or database of its own.
 */
import { randomBytes } from 'node:crypto';
import { MikroORM } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the suites through npm test, or let vitest's global setup start PostgreSQL and Redis`);
  }
  return value;
}

/** The URL of the test PostgreSQL server's maintenance database. */
export const postgresAdminUrl = (): string => required('COUNTERSIGN_TEST_POSTGRES_URL');

/** The URL of the test Redis server. */
export const redisUrl = (): string => required('COUNTERSIGN_TEST_REDIS_URL');

let admin: Promise<MikroORM> | undefined;

function adminConnection(): Promise<MikroORM> {
  admin ??= MikroORM.init({
    driver: PostgreSqlDriver,
    clientUrl: postgresAdminUrl(),
    entities: [],
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: true,
    pool: { min: 0, max: 2 },
  });
  return admin;
}

export interface TestDatabase {
  /** `postgres://…/<fresh database>` */
  url: string;
  /** Drops the database (ending its remaining connections). */
  drop(): Promise<void>;
}

/** Creates an empty database on the test PostgreSQL server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `countersign_${randomBytes(6).toString('hex')}`;
  const orm = await adminConnection();
  await orm.em.getConnection().execute(`create database "${name}"`);
  const url = new URL(postgresAdminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await orm.em.getConnection().execute(`drop database if exists "${name}" with (force)`);
    },
  };
}
