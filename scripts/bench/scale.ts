/**
 * Benchmark: the allowed requestApproval at 16 clients on PostgreSQL beside SQLite, and two
 * instances on PostgreSQL + Redis beside one (the same 16 clients spread round-robin over both, as
 * a load balancer would), same machine, same run, interleaved so that the machine's noise falls on
 * every set-up alike.
 *
 * PostgreSQL and Redis are the test command's (scripts/test-services.sh: Debian's packages on
 * loopback, fsync off, as for the tests), started here unless COUNTERSIGN_TEST_POSTGRES_URL and
 * COUNTERSIGN_TEST_REDIS_URL are set. So the PostgreSQL figures are those of a server that does not
 * flush its WAL, beside an SQLite that fsyncs every commit: they compare the code paths, not the
 * durability of the two.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { closedLoop, GraphQLClient, progress, warmUpPaths, type BenchSettings } from './load.js';
import { REPO_ROOT, startServerProcess, type ServerProcess } from './server.js';
import { figuresOf, median, medianFigures, type RepeatedFigures, type RunFigures } from './stats.js';

const CLIENTS = 16;

const REQUEST_MUTATION = `mutation Request($input: RequestApprovalInput!) {
  requestApproval(input: $input) {
    __typename
    ... on RequestApprovalPayload { approval { id status } token }
    ... on Error { code message }
  }
}`;

type Setup = 'sqlite' | 'postgres' | 'postgresRedisOne' | 'postgresRedisTwo';

export interface ScaleResults {
  clients: number;
  /** Median figures of the repeats, per set-up. */
  setups: Record<Setup, RepeatedFigures>;
  /** Medians of per-repeat throughput ratios, each measured side by side. */
  ratios: { postgresOverSqlite: number; twoInstancesOverOne: number };
  /** How PostgreSQL was run. */
  postgres: string;
}

/** The services the test command uses, started for the run unless already given. */
function services(): { postgresUrl: string; redisUrl: string; stop(): void } {
  const postgresUrl = process.env['COUNTERSIGN_TEST_POSTGRES_URL'];
  const redisUrl = process.env['COUNTERSIGN_TEST_REDIS_URL'];
  if (postgresUrl && redisUrl) return { postgresUrl, redisUrl, stop: () => {} };
  const script = join(REPO_ROOT, 'scripts', 'test-services.sh');
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-services-'));
  const exports = execFileSync('bash', [script, 'up', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const found = Object.fromEntries(
    exports
      .split('\n')
      .map((line) => /^export (\w+)=(.*)$/.exec(line.trim()))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1], match[2]]),
  );
  return {
    postgresUrl: found['COUNTERSIGN_TEST_POSTGRES_URL'] as string,
    redisUrl: found['COUNTERSIGN_TEST_REDIS_URL'] as string,
    stop: () => execFileSync('bash', [script, 'down', dir], { stdio: 'inherit' }),
  };
}

/** Creates empty databases on the server; returns their URLs and a function that drops them. */
async function createDatabases(adminUrl: string, count: number): Promise<{ urls: string[]; drop(): Promise<void> }> {
  const admin = await MikroORM.init({
    driver: PostgreSqlDriver,
    clientUrl: adminUrl,
    entities: [],
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: true,
    pool: { min: 0, max: 1 },
  });
  const names = Array.from({ length: count }, () => `countersign_bench_${randomBytes(5).toString('hex')}`);
  for (const name of names) await admin.em.getConnection().execute(`create database "${name}"`);
  return {
    urls: names.map((name) => {
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    }),
    async drop() {
      for (const name of names) await admin.em.getConnection().execute(`drop database if exists "${name}" with (force)`);
      await admin.close(true);
    },
  };
}

async function measuredOn(servers: ServerProcess[], settings: BenchSettings, operation: (worker: number) => Promise<void>): Promise<RunFigures> {
  await closedLoop(CLIENTS, settings.warmupMs, operation);
  const before = await Promise.all(servers.map((server) => server.cpu()));
  const sample = await closedLoop(CLIENTS, settings.runMs, operation);
  const after = await Promise.all(servers.map((server) => server.cpu()));
  const cpuMicros = after.reduce((sum, usage, index) => sum + usage.user - before[index]!.user + usage.system - before[index]!.system, 0);
  return { ...figuresOf(sample), serverCpuUsPerOp: cpuMicros / sample.operations };
}

export async function runScaleBenchmark(settings: BenchSettings): Promise<ScaleResults> {
  const workDir = mkdtempSync(join(tmpdir(), 'countersign-bench-scale-'));
  const external = services();
  const servers: ServerProcess[] = [];
  const clients: GraphQLClient[] = [];
  let databases: { urls: string[]; drop(): Promise<void> } | undefined;
  try {
    databases = await createDatabases(external.postgresUrl, 3);
    const [postgresUrl, oneUrl, twoUrl] = databases.urls as [string, string, string];
    const keyEncryptionKey = randomBytes(32).toString('base64');
    const start = async (options: Parameters<typeof startServerProcess>[0]) => {
      const server = await startServerProcess({ keyEncryptionKey, ...options });
      servers.push(server);
      return server;
    };
    progress('scale: starting SQLite, PostgreSQL, PostgreSQL + Redis (one, then two instances)');
    const sqlite = await start({ databasePath: join(workDir, 'bench.sqlite'), driver: 'better-sqlite' });
    const postgres = await start({ databasePath: join(workDir, 'unused.sqlite'), driver: 'postgresql', databaseUrl: postgresUrl });
    const redisOne = await start({
      databasePath: join(workDir, 'unused.sqlite'),
      driver: 'postgresql',
      databaseUrl: oneUrl,
      redisUrl: external.redisUrl,
      redisPrefix: `countersign-bench-${randomBytes(3).toString('hex')}:`,
    });
    const twoPrefix = `countersign-bench-${randomBytes(3).toString('hex')}:`;
    const redisTwo = [
      await start({ databasePath: join(workDir, 'unused.sqlite'), driver: 'postgresql', databaseUrl: twoUrl, redisUrl: external.redisUrl, redisPrefix: twoPrefix }),
      await start({ databasePath: join(workDir, 'unused.sqlite'), driver: 'postgresql', databaseUrl: twoUrl, redisUrl: external.redisUrl, redisPrefix: twoPrefix }),
    ];
    const authorization = await sqlite.authorization('invoice-bot', 'acme', ['agent']);
    const client = (server: ServerProcess): GraphQLClient => {
      const made = new GraphQLClient(server.url, CLIENTS, authorization);
      clients.push(made);
      return made;
    };

    let sequence = 0;
    /** The benchmark's allowed request (CS-320: confidence over the threshold, amount under 500). */
    const allowed = (targets: GraphQLClient[]) => async (worker: number): Promise<void> => {
      const id = sequence++;
      const data = await (targets[worker % targets.length] as GraphQLClient).request<{
        requestApproval: { approval?: { status: string }; token?: string | null };
      }>(REQUEST_MUTATION, {
        input: {
          action: 'payment',
          resource: `invoice/INV-${id}`,
          context: { amount: 499, currency: 'USD', invoice: `INV-${id}` },
          agent: 'invoice-bot',
          confidence: 0.9,
          estimatedDurationMinutes: 5,
          source: 'internal',
        },
      });
      if (data.requestApproval.approval?.status !== 'APPROVED' || !data.requestApproval.token) {
        throw new Error(`unexpected requestApproval result: ${JSON.stringify(data.requestApproval)}`);
      }
    };
    const loads: Record<Setup, { servers: ServerProcess[]; operation: (worker: number) => Promise<void> }> = {
      sqlite: { servers: [sqlite], operation: allowed([client(sqlite)]) },
      postgres: { servers: [postgres], operation: allowed([client(postgres)]) },
      postgresRedisOne: { servers: [redisOne], operation: allowed([client(redisOne)]) },
      // Workers alternate between the instances: 8 clients on each, 16 in all.
      postgresRedisTwo: { servers: redisTwo, operation: allowed(redisTwo.map(client)) },
    };

    const runs: Record<Setup, RunFigures[]> = { sqlite: [], postgres: [], postgresRedisOne: [], postgresRedisTwo: [] };
    const postgresOverSqlite: number[] = [];
    const twoOverOne: number[] = [];
    progress('scale: warming up every set-up');
    await warmUpPaths(settings, CLIENTS, Object.values(loads).map((load) => load.operation));
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      progress(`scale: repeat ${repeat + 1}/${settings.repeats}`);
      const figures = {} as Record<Setup, RunFigures>;
      for (const setup of Object.keys(loads) as Setup[]) {
        figures[setup] = await measuredOn(loads[setup].servers, settings, loads[setup].operation);
        runs[setup].push(figures[setup]);
      }
      postgresOverSqlite.push(figures.postgres.perSecond / figures.sqlite.perSecond);
      twoOverOne.push(figures.postgresRedisTwo.perSecond / figures.postgresRedisOne.perSecond);
    }
    return {
      clients: CLIENTS,
      setups: {
        sqlite: medianFigures(runs.sqlite),
        postgres: medianFigures(runs.postgres),
        postgresRedisOne: medianFigures(runs.postgresRedisOne),
        postgresRedisTwo: medianFigures(runs.postgresRedisTwo),
      },
      ratios: { postgresOverSqlite: median(postgresOverSqlite), twoInstancesOverOne: median(twoOverOne) },
      postgres: 'Debian package on loopback, fsync=off, synchronous_commit=off (scripts/test-services.sh)',
    };
  } finally {
    for (const made of clients) made.close();
    for (const server of servers) await server.stop();
    await databases?.drop().catch(() => {});
    external.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}
