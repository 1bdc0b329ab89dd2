/**
 * Benchmark 2: the requestApproval mutation end to end over HTTP on loopback, at 1, 16 and 64
 * concurrent clients, for a request the policy allows (evaluate, persist, audit, sign) and one
 * that goes pending, beside the same server answering `{ __typename }`, the floor of the HTTP
 * and GraphQL stack. The allowed request is also run against a server on the other SQLite
 * driver, side by side, to justify the default.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop, GraphQLClient, progress, warmUpPaths, type BenchSettings } from './load.js';
import { measureAllowedFloor, type AllowedFloor } from './floor.js';
import { startServerProcess, type ServerProcess } from './server.js';
import { figuresOf, median, medianFigures, type RepeatedFigures, type RunFigures } from './stats.js';

export const CONCURRENCY = [1, 16, 64] as const;
/** Where the targets and the driver comparison are taken. */
const COMPARED_AT = 16;

const TRIVIAL_QUERY = '{ __typename }';
const REQUEST_MUTATION = `mutation Request($input: RequestApprovalInput!) {
  requestApproval(input: $input) {
    __typename
    ... on RequestApprovalPayload { approval { id status riskLevel } token replayed }
    ... on Error { code message }
  }
}`;

type Load = 'trivial' | 'allowed' | 'pending';

export interface RequestResults {
  concurrency: readonly number[];
  /** Per load, per concurrency (`c16`): median figures of the repeats. */
  loads: Record<Load, Record<string, RepeatedFigures>>;
  /** The allowed request at 16 clients on @mikro-orm/sqlite (node-sqlite3). */
  sqliteDriverAllowed: RepeatedFigures;
  /** Medians of per-repeat ratios, each measured side by side. */
  ratios: { allowedOverTrivialAt16: number; betterSqliteOverSqliteAllowedAt16: number };
  /**
   * What the allowed request cannot do without, measured alone (floor.ts), and the bound they put
   * on the ratio: the trivial query's server CPU at 16 clients over that plus these parts.
   */
  allowedFloor: AllowedFloor & { trivialServerUs: number; ceilingOverTrivial: number };
  /** CPU profiles of the server during the first repeat at 16 clients (BENCH_PROFILE=1). */
  serverProfiles: string[];
}

/** An agent's request: `allow` by the confidence threshold (CS-320), or pending (CS-220, 1,500 >= 500). */
export function requestInput(load: 'allowed' | 'pending', sequence: number): Record<string, unknown> {
  return {
    action: 'payment',
    resource: `invoice/INV-${sequence}`,
    context: { amount: load === 'allowed' ? 499 : 1500, currency: 'USD', invoice: `INV-${sequence}` },
    agent: 'invoice-bot',
    confidence: 0.9,
    estimatedDurationMinutes: 5,
    source: 'internal',
  };
}

const EXPECTED_STATUS = { allowed: 'APPROVED', pending: 'PENDING' } as const;

interface RequestPayload {
  requestApproval: { __typename: string; approval?: { status: string }; token?: string | null; code?: string };
}

/**
 * A warm-up run, then a measured one, with the server's CPU time over the measured run: unlike
 * latency, CPU time per request barely moves when other work shares the machine. The load
 * generator's own CPU is measured beside it: on two cores, what it spends is taken from the server.
 */
async function measuredOn(
  server: ServerProcess,
  settings: BenchSettings,
  concurrency: number,
  operation: () => Promise<void>,
  profileFile: string | null,
): Promise<RunFigures> {
  await closedLoop(concurrency, settings.warmupMs, operation);
  if (profileFile) await server.startProfile();
  const cpuBefore = await server.cpu();
  const ownBefore = process.cpuUsage();
  const sample = await closedLoop(concurrency, settings.runMs, operation);
  const own = process.cpuUsage(ownBefore);
  const cpuAfter = await server.cpu();
  if (profileFile) await server.stopProfile(profileFile);
  const cpuMicros = cpuAfter.user - cpuBefore.user + (cpuAfter.system - cpuBefore.system);
  return { ...figuresOf(sample), serverCpuUsPerOp: cpuMicros / sample.operations, loadGeneratorCpuUsPerOp: (own.user + own.system) / sample.operations };
}

export async function runRequestBenchmark(settings: BenchSettings, profileDir: string | null): Promise<RequestResults> {
  const workDir = mkdtempSync(join(tmpdir(), 'countersign-bench-request-'));
  const servers: ServerProcess[] = [];
  const serverProfiles: string[] = [];
  try {
    const betterSqlite = await startServerProcess({ databasePath: join(workDir, 'better-sqlite.sqlite'), driver: 'better-sqlite' });
    servers.push(betterSqlite);
    const sqlite = await startServerProcess({ databasePath: join(workDir, 'sqlite.sqlite'), driver: 'sqlite' });
    servers.push(sqlite);
    const agentAuthorization = await betterSqlite.authorization('invoice-bot', 'acme', ['agent']);

    let sequence = 0;
    const operationFor = (client: GraphQLClient, load: Load) => async (): Promise<void> => {
      if (load === 'trivial') {
        await client.request(TRIVIAL_QUERY);
        return;
      }
      const data = await client.request<RequestPayload>(REQUEST_MUTATION, { input: requestInput(load, sequence++) });
      const result = data.requestApproval;
      if (result.approval?.status !== EXPECTED_STATUS[load] || (load === 'allowed') !== Boolean(result.token)) {
        throw new Error(`unexpected requestApproval result for the ${load} request: ${JSON.stringify(result)}`);
      }
    };

    const runs: Record<Load, Map<number, RunFigures[]>> = {
      trivial: new Map(CONCURRENCY.map((concurrency) => [concurrency, []])),
      allowed: new Map(CONCURRENCY.map((concurrency) => [concurrency, []])),
      pending: new Map(CONCURRENCY.map((concurrency) => [concurrency, []])),
    };
    const sqliteRuns: RunFigures[] = [];
    const allowedOverTrivial: number[] = [];
    const betterOverSqlite: number[] = [];

    progress('request: warming up both servers');
    const warmUp = async (url: string, loads: readonly Load[]): Promise<void> => {
      const client = new GraphQLClient(url, COMPARED_AT, agentAuthorization);
      try {
        await warmUpPaths(settings, COMPARED_AT, loads.map((load) => operationFor(client, load)));
      } finally {
        client.close();
      }
    };
    await warmUp(betterSqlite.url, ['trivial', 'allowed', 'pending']);
    await warmUp(sqlite.url, ['allowed']);

    for (const concurrency of CONCURRENCY) {
      const client = new GraphQLClient(betterSqlite.url, concurrency, agentAuthorization);
      const sqliteClient = new GraphQLClient(sqlite.url, concurrency, agentAuthorization);
      try {
        for (let repeat = 0; repeat < settings.repeats; repeat++) {
          progress(`request c=${concurrency}: repeat ${repeat + 1}/${settings.repeats}`);
          // Interleaved, so that the machine's noise falls on every load alike.
          const figures = {} as Record<Load, RunFigures>;
          const profiling = profileDir !== null && concurrency === COMPARED_AT && repeat === 0;
          const profileFile = (name: string): string | null => {
            if (!profiling) return null;
            const file = join(profileDir, `request-${name}-c${concurrency}.cpuprofile`);
            serverProfiles.push(file);
            return file;
          };
          for (const load of ['trivial', 'allowed', 'pending'] as const) {
            figures[load] = await measuredOn(betterSqlite, settings, concurrency, operationFor(client, load), profileFile(load));
            runs[load].get(concurrency)!.push(figures[load]);
          }
          if (concurrency === COMPARED_AT) {
            const onSqlite = await measuredOn(sqlite, settings, concurrency, operationFor(sqliteClient, 'allowed'), profileFile('allowed-sqlite-driver'));
            sqliteRuns.push(onSqlite);
            allowedOverTrivial.push(figures.allowed.perSecond / figures.trivial.perSecond);
            betterOverSqlite.push(figures.allowed.perSecond / onSqlite.perSecond);
          }
        }
      } finally {
        client.close();
        sqliteClient.close();
      }
    }

    // Measured while no load runs, in this process: its CPU is this machine's, not the server's.
    progress('request: the allowed request\'s parts alone');
    const floor = await measureAllowedFloor();
    const trivialServerUs = medianFigures(runs.trivial.get(COMPARED_AT)!).serverCpuUsPerOp ?? Number.NaN;
    const byConcurrency = (perLoad: Map<number, RunFigures[]>): Record<string, RepeatedFigures> =>
      Object.fromEntries([...perLoad].map(([concurrency, figures]) => [`c${concurrency}`, medianFigures(figures)]));
    return {
      concurrency: CONCURRENCY,
      loads: { trivial: byConcurrency(runs.trivial), allowed: byConcurrency(runs.allowed), pending: byConcurrency(runs.pending) },
      sqliteDriverAllowed: medianFigures(sqliteRuns),
      ratios: { allowedOverTrivialAt16: median(allowedOverTrivial), betterSqliteOverSqliteAllowedAt16: median(betterOverSqlite) },
      allowedFloor: {
        ...floor,
        trivialServerUs,
        ceilingOverTrivial: trivialServerUs / (trivialServerUs + floor.evaluateUs + floor.signUs + floor.storeUs),
      },
      serverProfiles,
    };
  } finally {
    for (const server of servers) await server.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}
