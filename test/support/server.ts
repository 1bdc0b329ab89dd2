import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { buildApp, type App } from '../../src/transports/http/app.js';
import { mintCallerToken } from '../../src/transports/http/auth.js';
import { TestClock } from './clock.js';

export const TEST_AUTH_SECRET = 'countersign-test-secret-0123456789abcdef';
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface TestServer {
  app: App;
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  dir: string;
  config: Config;
  /** The server's clock: `advance` it to make requests and tokens lapse. */
  clock: TestClock;
  /** A caller token for this server. */
  token(subject: string, tenant: string, roles: string[]): Promise<string>;
  /** POSTs one GraphQL operation as `token`; returns the parsed body. */
  gql<T = any>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }>;
  /** Stops the server (keeping the database); `restart` starts a new one on the same file. */
  stop(): Promise<void>;
  restart(): Promise<TestServer>;
  /** Stops the server and deletes its folder. */
  close(): Promise<void>;
}

/**
 * Starts a real server on port 0 with a real SQLite file in a temporary folder.
 * The bundle is the one `npm test` built from policies/ (setup runs first).
 */
export async function startTestServer(
  overrides: Partial<Config> = {},
  dir = mkdtempSync(join(tmpdir(), 'countersign-')),
  /** Receives the server's log lines (notification outcomes among them); dropped by default. */
  log: (line: string) => void = () => {},
  clock = new TestClock(),
): Promise<TestServer> {
  const config = loadConfig(
    {},
    {
      port: 0,
      host: '127.0.0.1',
      databasePath: join(dir, 'countersign.sqlite'),
      authSecret: TEST_AUTH_SECRET,
      bundleDir: join(REPO_ROOT, 'bundle'),
      policySourcesDir: join(REPO_ROOT, 'policies'),
      watchBundle: false,
      graphiql: false,
      ...overrides,
    },
  );
  const app = await buildApp(config, { log, now: clock.now });
  const url = await app.start();
  const server: TestServer = {
    app,
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `${url.replace('http', 'ws')}/graphql`,
    dir,
    config,
    clock,
    token: (subject, tenant, roles) => mintCallerToken(TEST_AUTH_SECRET, { subject, tenant, roles }),
    async gql(token, query, variables = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ query, variables }),
      });
      return response.json() as Promise<any>;
    },
    stop: () => app.stop(),
    restart: () => startTestServer(overrides, dir, log, clock),
    async close() {
      await app.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * The server of one test file or `describe` block: started before its first test and closed after
 * its last, so a suite states only how its server differs from the default. The handle stands for
 * that server from the first test (or a later `beforeAll`) on; reading it earlier is a mistake the
 * handle reports.
 */
export function useTestServer(
  overrides: Partial<Config> = {},
  /** Receives the server's log lines; dropped by default. */
  log?: (line: string) => void,
): TestServer {
  let started: TestServer | undefined;
  beforeAll(async () => {
    started = await startTestServer(overrides, undefined, log);
  });
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as TestServer, {
    get(_, property) {
      if (started === undefined) throw new Error('the suite\'s server starts in beforeAll: read it inside a test or a hook');
      return Reflect.get(started, property);
    },
  });
}
