/**
 * What the MCP gateway adds to an allowed tool call: the same `echo` call of the real
 * server-everything (stdio), once straight to it and once through `countersign mcp-gateway`, one
 * call at a time, runs of the two alternating so that the machine's drift hits both alike.
 *
 * Through the gateway a call is: look up an open request for the same arguments, request
 * approval (allowlisted, so allowed with a token), redeem the token, forward, report the outcome.
 *
 *   node --import tsx scripts/bench/mcp-gateway.ts    runs it alone (BENCH_QUICK=1 for a smoke run)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { benchSettings, progress, type BenchSettings } from './load.js';
import { REPO_ROOT, startServerProcess } from './server.js';
import { figuresOf, median, type RunFigures } from './stats.js';

const EVERYTHING = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
const TENANT = 'bench-mcp';

export interface McpGatewayResults {
  /** Figures of each run, by path; the medians below are taken over the runs. */
  direct: RunFigures[];
  gateway: RunFigures[];
  directP50Ms: number;
  directP99Ms: number;
  gatewayP50Ms: number;
  gatewayP99Ms: number;
  /** Gateway minus direct, run by run, then the median. */
  overheadP50Ms: number;
  overheadP99Ms: number;
}

/** Sequential calls for `runMs`; each call's latency. */
async function run(client: Client, runMs: number): Promise<RunFigures> {
  const latenciesMs: number[] = [];
  const started = performance.now();
  let index = 0;
  while (performance.now() - started < runMs) {
    const callStarted = performance.now();
    const result = await client.callTool({ name: 'echo', arguments: { message: 'bench' } });
    if (result.isError) throw new Error(`echo failed: ${JSON.stringify(result)}`);
    latenciesMs.push(performance.now() - callStarted);
    index += 1;
  }
  return figuresOf({ operations: index, seconds: (performance.now() - started) / 1000, latenciesMs });
}

export async function runMcpGatewayBenchmark(settings: BenchSettings): Promise<McpGatewayResults> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-mcp-'));
  const server = await startServerProcess({ databasePath: join(dir, 'bench.sqlite'), driver: 'better-sqlite' });
  const clients: Client[] = [];
  try {
    const admin = await server.authorization('admin-1', TENANT, ['admin']);
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: admin },
      body: JSON.stringify({
        query: 'mutation ($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { __typename } }',
        variables: { input: { allowlist: ['mcp.everything.echo'] } },
      }),
    });
    if (!(await response.text()).includes('TenantSettings')) throw new Error('could not allowlist the benchmark tool');
    const agentToken = (await server.authorization('agent-1', TENANT, ['agent'])).replace(/^Bearer /, '');
    const env = { PATH: process.env['PATH'] ?? '' };

    const direct = new Client({ name: 'bench-direct', version: '1.0.0' });
    clients.push(direct);
    await direct.connect(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], env, stderr: 'ignore' }));
    const gateway = new Client({ name: 'bench-gateway', version: '1.0.0' });
    clients.push(gateway);
    await gateway.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'mcp-gateway', '--name', 'everything', '--', process.execPath, EVERYTHING, 'stdio'],
        env: { ...env, COUNTERSIGN_URL: server.url, COUNTERSIGN_TOKEN: agentToken },
        cwd: REPO_ROOT,
        stderr: 'ignore',
      }),
    );
    await Promise.all([direct.listTools(), gateway.listTools()]);
    // Warm both paths (JIT, connections, the policy's first evaluation) before measuring.
    await run(direct, settings.warmupMs);
    await run(gateway, settings.warmupMs);

    const directRuns: RunFigures[] = [];
    const gatewayRuns: RunFigures[] = [];
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      directRuns.push(await run(direct, settings.runMs));
      gatewayRuns.push(await run(gateway, settings.runMs));
      progress(
        `mcp gateway run ${repeat + 1}/${settings.repeats}: direct p50 ${directRuns.at(-1)!.p50Ms.toFixed(2)} ms, ` +
          `gateway p50 ${gatewayRuns.at(-1)!.p50Ms.toFixed(2)} ms`,
      );
    }
    const p50 = (runs: RunFigures[]) => median(runs.map((figures) => figures.p50Ms));
    const p99 = (runs: RunFigures[]) => median(runs.map((figures) => figures.p99Ms));
    return {
      direct: directRuns,
      gateway: gatewayRuns,
      directP50Ms: p50(directRuns),
      directP99Ms: p99(directRuns),
      gatewayP50Ms: p50(gatewayRuns),
      gatewayP99Ms: p99(gatewayRuns),
      overheadP50Ms: median(gatewayRuns.map((figures, index) => figures.p50Ms - directRuns[index]!.p50Ms)),
      overheadP99Ms: median(gatewayRuns.map((figures, index) => figures.p99Ms - directRuns[index]!.p99Ms)),
    };
  } finally {
    await Promise.all(clients.map((client) => client.close().catch(() => {})));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) {
  const results = await runMcpGatewayBenchmark(benchSettings());
  process.stdout.write(`${JSON.stringify({ ...results, direct: undefined, gateway: undefined }, null, 2)}\n`);
}
