import http from 'node:http';
import type { RunSample } from './stats.js';

/** How long and how often each measurement runs; `BENCH_QUICK=1` shrinks everything for a smoke run. */
export interface BenchSettings {
  quick: boolean;
  /** Length of one measured run. */
  runMs: number;
  /** Unmeasured load before each run, so the connection pool is warm and the machine settled. */
  warmupMs: number;
  /**
   * Unmeasured load a fresh server gets on each of its measured paths before its first run. V8
   * optimises a path over thousands of calls, on threads whose CPU the server's figure counts: an
   * allowed request measured at 16 clients after 0.5 s of warm-up ran while TurboFan finished 249
   * functions (10 after 15 s), and cost 2.4 ms of server CPU, against 1.3 ms once that settled.
   * A server in service runs settled; the figures are of that.
   */
  jitWarmupMs: number;
  repeats: number;
}

export function benchSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const quick = env['BENCH_QUICK'] === '1';
  const defaults = quick
    ? { quick, runMs: 400, warmupMs: 150, jitWarmupMs: 200, repeats: 1 }
    : { quick, runMs: 2_000, warmupMs: 500, jitWarmupMs: 5_000, repeats: 3 };
  // For investigations: longer or more runs of a selection (BENCH_ONLY), without editing the defaults.
  const override = (name: string, fallback: number): number => {
    const value = Number(env[name]);
    return Number.isInteger(value) && value > 0 ? value : fallback;
  };
  return {
    ...defaults,
    runMs: override('BENCH_RUN_MS', defaults.runMs),
    jitWarmupMs: override('BENCH_JIT_WARMUP_MS', defaults.jitWarmupMs),
    repeats: override('BENCH_REPEATS', defaults.repeats),
  };
}

export interface HttpResponse {
  status: number;
  body: string;
}

/**
 * A keep-alive HTTP/1.1 client on node:http, cheaper per request than fetch (undici): on two cores
 * every microsecond the load generator spends is taken from the server under test.
 */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(baseUrl: string, maxSockets: number) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  post(path: string, body: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: this.host,
          port: this.port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A GraphQL client over {@link HttpClient}; throws when the server answers with errors. */
export class GraphQLClient {
  private readonly http: HttpClient;

  constructor(
    baseUrl: string,
    maxSockets: number,
    private readonly authorization: string,
  ) {
    this.http = new HttpClient(baseUrl, maxSockets);
  }

  async request<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const response = await this.http.post('/graphql', JSON.stringify(variables ? { query, variables } : { query }), {
      authorization: this.authorization,
    });
    const parsed = JSON.parse(response.body) as { data?: T; errors?: unknown };
    if (response.status !== 200 || parsed.errors || !parsed.data) {
      throw new Error(`GraphQL request failed (${response.status}): ${response.body.slice(0, 500)}`);
    }
    return parsed.data;
  }

  close(): void {
    this.http.close();
  }
}

/**
 * Runs `operation` from `concurrency` closed-loop workers (each starts its next operation when the
 * last one answered) for `durationMs`, and records every operation's latency. Bounded in time,
 * and so in count; the first failure stops the run and is thrown.
 */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  operation: (worker: number) => Promise<void>,
): Promise<RunSample> {
  const latenciesMs: number[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  let failure: unknown;
  const worker = async (index: number): Promise<void> => {
    while (failure === undefined) {
      const begin = performance.now();
      if (begin >= deadline) return;
      try {
        await operation(index);
      } catch (error) {
        failure ??= error;
        return;
      }
      latenciesMs.push(performance.now() - begin);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  if (failure !== undefined) throw failure;
  // Operations still in flight at the deadline finish after it; count the time they took.
  return { operations: latenciesMs.length, seconds: (performance.now() - started) / 1000, latenciesMs };
}

/**
 * Runs each of a fresh server's measured paths unmeasured for `jitWarmupMs`, one after another,
 * before its first measured run (see {@link BenchSettings.jitWarmupMs}).
 */
export async function warmUpPaths(
  settings: BenchSettings,
  concurrency: number,
  operations: readonly ((worker: number) => Promise<void>)[],
): Promise<void> {
  for (const operation of operations) await closedLoop(concurrency, settings.jitWarmupMs, operation);
}

/** A warm-up run, then a measured one. */
export async function measured(
  settings: BenchSettings,
  concurrency: number,
  operation: (worker: number) => Promise<void>,
): Promise<RunSample> {
  await closedLoop(concurrency, settings.warmupMs, operation);
  return closedLoop(concurrency, settings.runMs, operation);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Logs progress to stderr, so stdout holds only the final table. */
export function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}
