/**
 * Several identical instances on one PostgreSQL database (and, when asked, one Redis), the way
 * a deployment behind a load balancer runs them: each a real server on its own port.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../../src/config.js';
import { startTestServer, type TestServer } from './server.js';
import { createTestDatabase, redisUrl, type TestDatabase } from './services.js';

export interface Cluster {
  instances: TestServer[];
  database: TestDatabase;
  /** Stops every instance and drops the database. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  instances?: number;
  /** Share the change feed through the test Redis server. */
  redis?: boolean;
  overrides?: Partial<Config>;
  /** Receives every instance's log lines, prefixed with its index. */
  log?: (line: string) => void;
}

/** Starts `instances` servers (two by default) on a fresh database; they migrate it together. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const database = await createTestDatabase();
  const shared: Partial<Config> = {
    databaseDriver: 'postgresql',
    databaseUrl: database.url,
    redisUrl: options.redis ? redisUrl() : null,
    // Every instance must seal and open secrets at rest with the same key-encryption key.
    keyEncryptionKey: new Uint8Array(randomBytes(32)),
    // Suites share the test Redis: each cluster keeps to keys and channels of its own.
    redisPrefix: `countersign-test-${randomBytes(4).toString('hex')}:`,
    ...options.overrides,
  };
  const instances = await Promise.all(Array.from({ length: options.instances ?? 2 }, (_, index) =>
      startTestServer(shared, undefined, options.log ? (line) => options.log?.(`[${index}] ${line}`) : undefined),
    ));
  return {
    instances,
    database,
    async close() {
      await Promise.all(instances.map((instance) => instance.close()));
      await database.drop();
    },
  };
}
