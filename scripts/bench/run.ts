/**
 * `npm run bench`: runs the benchmarks in one process tree on this machine, prints a table, writes
 * the figures to scripts/bench/results/latest.json and draws latency against concurrency in
 * scripts/bench/results/latency.svg.
 *
 *   BENCH_QUICK=1               a smoke run: short runs, one repeat, small populations
 *   BENCH_ONLY=policy,request   a subset of policy, request, subscriptions, decision, growth, mcp, notifications, inbox, scale
 *   BENCH_RUN_MS, BENCH_REPEATS longer or more runs than the defaults (2,000 ms, 3)
 *   BENCH_SUBSCRIBERS=1000,5000 the subscriber populations of the fan-out (default 1,000, 5,000, 10,000)
 *   BENCH_QUIET_CALIBRATION_MS  the calibration of this machine when quiet (default 150; 129-132 ms measured)
 *   BENCH_ALLOW_BUSY=1          publish the figures of a busy run anyway, marked busy
 *   BENCH_PROFILE=1             the server under the request loads (first repeat at 16 clients) and
 *                               under the subscription fan-out writes V8 CPU profiles to results/profiles/
 *
 * Each figure is the median of repeated fixed-length runs; ratios are taken run by run, side by
 * side, because the machine is shared and its speed drifts. The machine is calibrated before,
 * between and after the benchmarks (while no benchmark process runs); a run during which it was
 * busy is not published: its figures go to results/busy.json, not latest.json, and the run fails.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { latencyChart, type ChartSeries } from './chart.js';
import { runDecisionBenchmark, type DecisionResults } from './decision.js';
import { runGrowthBenchmark, type GrowthResults } from './growth.js';
import { runNotificationBenchmark, type NotificationResults } from './notifications.js';
import { benchSettings, progress } from './load.js';
import { runInboxBenchmark, type InboxResults } from './inbox.js';
import { runMcpGatewayBenchmark, type McpGatewayResults } from './mcp-gateway.js';
import { runPolicyBenchmark, type PolicyResults } from './policy.js';
import { CONCURRENCY, runRequestBenchmark, type RequestResults } from './request.js';
import { REPO_ROOT } from './server.js';
import { round, roundDeep } from './stats.js';
import { runSubscriptionBenchmark, subscriberPopulations, type SubscriptionResults } from './subscriptions.js';
import { runScaleBenchmark, type ScaleResults } from './scale.js';

const BENCHMARKS = ['policy', 'request', 'subscriptions', 'decision', 'growth', 'mcp', 'notifications', 'inbox', 'scale'] as const;
type Benchmark = (typeof BENCHMARKS)[number];

const RESULTS_DIR = join(import.meta.dirname, 'results');

interface Row {
  benchmark: string;
  figure: string;
  value: string;
  target: string;
  met: boolean | null;
}

const ms = (value: number): string => (value < 1 ? `${round(value * 1000)} µs` : `${round(value)} ms`);
const perSecond = (value: number): string => `${Math.round(value).toLocaleString('en-US')}/s`;
const times = (value: number): string => `${round(value)}x`;
const cpu = (micros: number | undefined): string => (micros === undefined ? '-' : ms(micros / 1000));
/** Server CPU per operation, and the load generator's beside it. */
const cpuPair = (figures: { serverCpuUsPerOp?: number; loadGeneratorCpuUsPerOp?: number }): string =>
  `${cpu(figures.serverCpuUsPerOp)} / ${cpu(figures.loadGeneratorCpuUsPerOp)}`;
const mib = (bytes: number): string => `${round(bytes / 1024 / 1024)} MiB`;

function selected(): Benchmark[] {
  const only = process.env['BENCH_ONLY'];
  if (!only) return [...BENCHMARKS];
  const names = only.split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!(BENCHMARKS as readonly string[]).includes(name)) throw new Error(`BENCH_ONLY: unknown benchmark "${name}" (${BENCHMARKS.join(', ')})`);
  }
  return names as Benchmark[];
}

/**
 * A run is busy when a calibration took this much longer than the quiet machine's, or when other
 * work kept at least one core's worth of processes runnable (1-minute load average) as it started:
 * its figures would measure the neighbours as much as Countersign. (Later load averages include
 * the benchmarks' own processes, so only the calibrations judge the rest of the run.)
 */
const BUSY_CALIBRATION_FACTOR = 1.3;
const BUSY_LOAD_PER_CORE = 0.5;

interface Calibration {
  at: string;
  ms: number;
  loadAverage: number[];
}

function busyReasons(calibrations: readonly Calibration[], quietMs: number, cores: number): string[] {
  const reasons: string[] = [];
  for (const { at, ms: took, loadAverage } of calibrations) {
    if (took > quietMs * BUSY_CALIBRATION_FACTOR) reasons.push(`calibration ${at}: ${Math.round(took)} ms against ${quietMs} ms quiet`);
    const load = loadAverage[0] ?? 0;
    if (at === 'at start' && load > cores * BUSY_LOAD_PER_CORE) reasons.push(`load average ${at}: ${load.toFixed(2)} on ${cores} cores`);
  }
  return reasons;
}

/** A fixed amount of single-threaded work, timed: how fast this machine was during the run. */
function calibrate(): number {
  const started = performance.now();
  let value = 0;
  for (let index = 0; index < 20_000_000; index++) value = (value + index * 7) % 1_000_003;
  if (value < 0) throw new Error('unreachable');
  return performance.now() - started;
}

function policyRows(results: PolicyResults): Row[] {
  return results.cases.flatMap((policyCase) => {
    const label = `policy (${policyCase.name} input, ${round(policyCase.inputBytes / 1024, 2)} KiB)`;
    const opa1 = policyCase.opaServer['c1'];
    const opa16 = policyCase.opaServer['c16'];
    return [
      { benchmark: label, figure: 'in-process WASM decisions', value: perSecond(policyCase.inProcess.perSecond), target: '', met: null },
      { benchmark: label, figure: 'in-process p50 / p99', value: `${ms(policyCase.inProcess.p50Ms)} / ${ms(policyCase.inProcess.p99Ms)}`, target: 'p99 < 100 µs', met: policyCase.inProcess.p99Ms < 0.1 },
      ...(opa1 && opa16
        ? [
            { benchmark: label, figure: 'OPA server decisions (1 / 16 clients)', value: `${perSecond(opa1.perSecond)} / ${perSecond(opa16.perSecond)}`, target: '', met: null },
            { benchmark: label, figure: 'OPA server p50 / p99 (1 client)', value: `${ms(opa1.p50Ms)} / ${ms(opa1.p99Ms)}`, target: '', met: null },
          ]
        : []),
      { benchmark: label, figure: 'in-process over OPA server, throughput', value: times(policyCase.throughputRatio), target: '>= 10x', met: policyCase.throughputRatio >= 10 },
    ];
  });
}

function requestRows(results: RequestResults): Row[] {
  const rows: Row[] = [];
  for (const load of ['trivial', 'allowed', 'pending'] as const) {
    for (const concurrency of results.concurrency) {
      const figures = results.loads[load][`c${concurrency}`];
      if (!figures) continue;
      const isTarget = load === 'allowed' && concurrency === 16;
      rows.push({
        benchmark: `request: ${load === 'trivial' ? '{ __typename }' : `${load} requestApproval`}`,
        figure: `${concurrency} clients: req/s, p50 / p99, CPU/req server / load generator`,
        value: `${perSecond(figures.perSecond)}, ${ms(figures.p50Ms)} / ${ms(figures.p99Ms)}, ${cpuPair(figures)}`,
        target: isTarget ? 'p99 < 20 ms' : '',
        met: isTarget ? figures.p99Ms < 20 : null,
      });
    }
  }
  rows.push(
    {
      benchmark: 'request: allowed over trivial',
      figure: '16 clients, throughput ratio',
      value: `${round(results.ratios.allowedOverTrivialAt16 * 100)} %`,
      target: '>= 40 %',
      met: results.ratios.allowedOverTrivialAt16 >= 0.4,
    },
    {
      benchmark: 'request: allowed on @mikro-orm/sqlite',
      figure: '16 clients: req/s, p50 / p99, CPU/req server / load generator',
      value: `${perSecond(results.sqliteDriverAllowed.perSecond)}, ${ms(results.sqliteDriverAllowed.p50Ms)} / ${ms(results.sqliteDriverAllowed.p99Ms)}, ${cpuPair(results.sqliteDriverAllowed)}`,
      target: '',
      met: null,
    },
    {
      benchmark: 'request: better-sqlite over sqlite driver',
      figure: '16 clients, allowed, throughput ratio',
      value: times(results.ratios.betterSqliteOverSqliteAllowedAt16),
      target: '',
      met: null,
    },
  );
  return rows;
}

function scaleRows(results: ScaleResults): Row[] {
  const label = {
    sqlite: 'SQLite (better-sqlite3), one instance',
    postgres: 'PostgreSQL, one instance',
    postgresRedisOne: 'PostgreSQL + Redis, one instance',
    postgresRedisTwo: 'PostgreSQL + Redis, two instances',
  } as const;
  return [
    ...(Object.keys(label) as (keyof typeof label)[]).map((setup) => {
      const figures = results.setups[setup];
      return {
        benchmark: `scale: allowed requestApproval on ${label[setup]}`,
        figure: `${results.clients} clients: req/s, p50 / p99, server CPU/req`,
        value: `${perSecond(figures.perSecond)}, ${ms(figures.p50Ms)} / ${ms(figures.p99Ms)}, ${cpu(figures.serverCpuUsPerOp)}`,
        target: '',
        met: null,
      };
    }),
    { benchmark: 'scale: PostgreSQL over SQLite', figure: `${results.clients} clients, throughput ratio`, value: times(results.ratios.postgresOverSqlite), target: '', met: null },
    { benchmark: 'scale: two instances over one (PostgreSQL + Redis)', figure: `${results.clients} clients, throughput ratio`, value: times(results.ratios.twoInstancesOverOne), target: '', met: null },
  ];
}

/** Delivery targets by population (issues 8 and 15); other populations are reported without one. */
const SUBSCRIPTION_TARGETS_MS: Record<number, number> = { 1_000: 50, 10_000: 250 };

function subscriptionRows(results: SubscriptionResults): Row[] {
  const label = `subscriptions (${results.subscribers} subscribers)`;
  const targetMs = SUBSCRIPTION_TARGETS_MS[results.subscribers];
  return [
    {
      benchmark: label,
      figure: 'pending to delivery p50 / p99',
      value: `${ms(results.deliveryP50Ms)} / ${ms(results.deliveryP99Ms)}`,
      target: targetMs === undefined ? '' : `p99 < ${targetMs} ms`,
      met: targetMs === undefined ? null : results.deliveryP99Ms < targetMs,
    },
    { benchmark: label, figure: 'last delivery (median round) / mutation', value: `${ms(results.lastDeliveryMedianMs)} / ${ms(results.mutationMedianMs)}`, target: '', met: null },
    {
      benchmark: label,
      figure: 'CPU per round: server / load generator',
      value: `${ms(results.cpuPerRoundMs.server)} / ${ms(results.cpuPerRoundMs.loadGenerator)}`,
      target: '',
      met: null,
    },
    {
      benchmark: label,
      figure: 'server RSS / heap used, connected',
      value: `${mib(results.memory.connectedRssBytes)} / ${mib(results.memory.connectedHeapUsedBytes)} (+${round(results.memory.rssPerSubscriberBytes / 1024)} / +${round(results.memory.heapPerSubscriberBytes / 1024)} KiB each)`,
      target: '',
      met: null,
    },
  ];
}

function growthRows(results: GrowthResults): Row[] {
  const label = `growth (${results.approvals.toLocaleString('en-US')} approvals, ${results.auditEvents.toLocaleString('en-US')} events)`;
  return [
    { benchmark: label, figure: 'pending list p50 / p99', value: `${ms(results.pendingList.p50Ms)} / ${ms(results.pendingList.p99Ms)}`, target: 'p99 < 10 ms', met: results.pendingList.p99Ms < 10 },
    { benchmark: label, figure: 'audit trail p50 / p99', value: `${ms(results.auditTrail.p50Ms)} / ${ms(results.auditTrail.p99Ms)}`, target: 'p99 < 10 ms', met: results.auditTrail.p99Ms < 10 },
    { benchmark: label, figure: '{ __typename } p50 / p99 (floor)', value: `${ms(results.trivial.p50Ms)} / ${ms(results.trivial.p99Ms)}`, target: '', met: null },
    { benchmark: label, figure: 'verifyAuditChain', value: `${perSecond(results.verify.eventsPerSecond)} (${round(results.verify.medianSeconds)} s)`, target: '>= 100,000/s', met: results.verify.eventsPerSecond >= 100_000 },
  ];
}

function mcpRows(results: McpGatewayResults): Row[] {
  const label = 'mcp gateway (allowed echo, server-everything over stdio, 1 client)';
  return [
    { benchmark: label, figure: 'direct p50 / p99', value: `${ms(results.directP50Ms)} / ${ms(results.directP99Ms)}`, target: '', met: null },
    { benchmark: label, figure: 'through the gateway p50 / p99', value: `${ms(results.gatewayP50Ms)} / ${ms(results.gatewayP99Ms)}`, target: '', met: null },
    { benchmark: label, figure: 'overhead p50 / p99', value: `${ms(results.overheadP50Ms)} / ${ms(results.overheadP99Ms)}`, target: '', met: null },
  ];
}

function notificationRows(results: NotificationResults): Row[] {
  const label = `notifications (webhook, ${results.deliveries} pending requests one at a time)`;
  const rows: Row[] = [
    {
      benchmark: label,
      figure: 'pending answer to receiver 200, p50 / p99',
      value: `${ms(results.pendingToDelivered.p50Ms)} / ${ms(results.pendingToDelivered.p99Ms)}`,
      target: '',
      met: null,
    },
    {
      benchmark: label,
      figure: 'request sent to receiver 200, p50 / p99',
      value: `${ms(results.sentToDelivered.p50Ms)} / ${ms(results.sentToDelivered.p99Ms)}${results.allVerified ? ', all verified' : ', NOT all verified'}`,
      target: '',
      met: null,
    },
  ];
  for (const kind of ['allowed', 'pending'] as const) {
    const figures = results.load[kind];
    rows.push({
      benchmark: `notifications: ${kind} requestApproval, 16 clients`,
      figure: 'req/s with a channel / without, ratio',
      value: `${perSecond(figures.withChannel.perSecond)} / ${perSecond(figures.withoutChannel.perSecond)}, ${round(figures.ratio * 100)} %`,
      target: '>= 90 %',
      met: figures.ratio >= 0.9,
    });
  }
  return rows;
}

function decisionRows(results: DecisionResults): Row[] {
  const label = `decision to token (${results.requesters} requesters waiting, decided one at a time)`;
  return [
    {
      benchmark: label,
      figure: 'deciding vote sent → token at the requester, p50 / p99',
      value: `${ms(results.tokenP50Ms)} / ${ms(results.tokenP99Ms)}`,
      target: 'p99 < 10 ms',
      met: results.tokenP99Ms < 10,
    },
    {
      benchmark: label,
      figure: 'decide round trip, p50 / p99; CPU per decision, server / load generator',
      value: `${ms(results.decideP50Ms)} / ${ms(results.decideP99Ms)}; ${ms(results.cpuPerDecisionMs.server)} / ${ms(results.cpuPerDecisionMs.loadGenerator)}`,
      target: '',
      met: null,
    },
  ];
}

function inboxRows(results: InboxResults): Row[] {
  const label = `inbox (pending → row visible in Chromium, ${results.requests} requests)`;
  return [{ benchmark: label, figure: 'p50 / p99', value: `${ms(results.p50Ms)} / ${ms(results.p99Ms)}`, target: '', met: null }];
}

function table(rows: Row[]): string {
  const cells = rows.map((row) => [row.benchmark, row.figure, row.value, row.target, row.met === null ? '' : row.met ? 'met' : 'MISSED']);
  const header = ['benchmark', 'figure', 'value (median)', 'target', ''];
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => (cell[column] as string).length)));
  const line = (cell: string[]): string => cell.map((text, column) => text.padEnd(widths[column] as number)).join('  ').trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.map(line)].join('\n');
}

function requestChart(results: RequestResults): string {
  const colors = { trivial: '#888888', allowed: '#1f77b4', pending: '#d62728' };
  const series: ChartSeries[] = [];
  for (const load of ['trivial', 'allowed', 'pending'] as const) {
    for (const [quantile, key] of [['p50', 'p50Ms'], ['p99', 'p99Ms']] as const) {
      series.push({
        label: `${load === 'trivial' ? '{ __typename }' : load} ${quantile}`,
        color: colors[load],
        dashed: quantile === 'p99',
        points: results.concurrency.map((concurrency) => [concurrency, results.loads[load][`c${concurrency}`]?.[key] ?? Number.NaN]),
      });
    }
  }
  series.push(
    { label: 'allowed, sqlite driver p50', color: '#ff7f0e', dashed: false, points: [[16, results.sqliteDriverAllowed.p50Ms]] },
    { label: 'allowed, sqlite driver p99', color: '#ff7f0e', dashed: true, points: [[16, results.sqliteDriverAllowed.p99Ms]] },
  );
  return latencyChart('requestApproval over HTTP: latency against concurrency', CONCURRENCY, series, [
    { ms: 20, label: 'target: allowed p99 < 20 ms at 16 clients' },
  ]);
}

function gitRevision(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const settings = benchSettings();
  const benchmarks = selected();
  const started = performance.now();
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    loadAverageAtStart: loadavg(),
    calibrationMsAtStart: calibrate(),
  };
  const quietCalibrationMs = Number(process.env['BENCH_QUIET_CALIBRATION_MS'] ?? 150);
  const calibrations: Calibration[] = [{ at: 'at start', ms: machine.calibrationMsAtStart, loadAverage: machine.loadAverageAtStart }];
  progress(`${benchmarks.join(', ')}${settings.quick ? ' (quick)' : ''}; ${settings.repeats} x ${settings.runMs} ms runs; load average ${machine.loadAverageAtStart.map((value) => value.toFixed(2)).join(' ')}`);

  const results: {
    policy?: PolicyResults;
    request?: RequestResults;
    subscriptions?: SubscriptionResults;
    /** The fan-out at the larger populations (BENCH_SUBSCRIBERS). */
    subscriptionsAtScale?: SubscriptionResults[];
    growth?: GrowthResults;
    mcp?: McpGatewayResults;
    notifications?: NotificationResults;
    /** Benchmarks that failed, with why; the others still report their figures. */
    failed?: Record<string, string>;
    inbox?: InboxResults;
    decision?: DecisionResults;
    scale?: ScaleResults;
  } = {};
  const profileDir = process.env['BENCH_PROFILE'] === '1' ? join(RESULTS_DIR, 'profiles') : null;
  // Each population is its own benchmark as far as failing goes: a failure at 10,000 keeps 1,000's figures.
  const runSubscriptions = async (): Promise<void> => {
    const [headline, ...larger] = subscriberPopulations(settings);
    results.subscriptions = await runSubscriptionBenchmark(settings, profileDir, headline);
    for (const population of larger) {
      try {
        const figures = await runSubscriptionBenchmark(settings, profileDir, population);
        results.subscriptionsAtScale = [...(results.subscriptionsAtScale ?? []), figures];
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        results.failed = { ...results.failed, [`subscriptions (${population} subscribers)`]: reason };
        progress(`subscriptions at ${population} FAILED: ${reason}`);
      }
    }
  };
  for (const benchmark of benchmarks) {
    const benchStarted = performance.now();
    try {
      if (benchmark === 'policy') results.policy = await runPolicyBenchmark(settings);
      else if (benchmark === 'request') results.request = await runRequestBenchmark(settings, profileDir);
      else if (benchmark === 'subscriptions') await runSubscriptions();
      else if (benchmark === 'mcp') results.mcp = await runMcpGatewayBenchmark(settings);
      else if (benchmark === 'inbox') results.inbox = await runInboxBenchmark(settings);
      else if (benchmark === 'decision') results.decision = await runDecisionBenchmark(settings, profileDir);
      else if (benchmark === 'scale') results.scale = await runScaleBenchmark(settings);
      else if (benchmark === 'notifications') results.notifications = await runNotificationBenchmark(settings);
      else results.growth = await runGrowthBenchmark(settings);
      progress(`${benchmark} took ${round((performance.now() - benchStarted) / 1000)} s`);
    } catch (error) {
      results.failed = { ...results.failed, [benchmark]: error instanceof Error ? error.message : String(error) };
      progress(`${benchmark} FAILED after ${round((performance.now() - benchStarted) / 1000)} s: ${results.failed[benchmark]}`);
    }
    // Its servers have stopped: what the calibration measures now is the rest of the machine.
    calibrations.push({ at: `after ${benchmark}`, ms: calibrate(), loadAverage: loadavg() });
  }

  const rows = [
    ...(results.policy ? policyRows(results.policy) : []),
    ...(results.request ? requestRows(results.request) : []),
    ...(results.subscriptions ? subscriptionRows(results.subscriptions) : []),
    ...(results.subscriptionsAtScale ?? []).flatMap(subscriptionRows),
    ...(results.decision ? decisionRows(results.decision) : []),
    ...(results.growth ? growthRows(results.growth) : []),
    ...(results.mcp ? mcpRows(results.mcp) : []),
    ...(results.notifications ? notificationRows(results.notifications) : []),
    ...(results.inbox ? inboxRows(results.inbox) : []),
    ...(results.scale ? scaleRows(results.scale) : []),
  ];
  mkdirSync(RESULTS_DIR, { recursive: true });
  const atEnd = calibrations.at(-1) as Calibration;
  const busy = busyReasons(calibrations, quietCalibrationMs, machine.cpus);
  const published = busy.length === 0 || process.env['BENCH_ALLOW_BUSY'] === '1';
  const report = {
    date: new Date().toISOString(),
    revision: gitRevision(),
    quick: settings.quick,
    settings,
    machine: { ...machine, loadAverageAtEnd: atEnd.loadAverage, calibrationMsAtEnd: atEnd.ms, quietCalibrationMs, calibrations, busy },
    seconds: (performance.now() - started) / 1000,
    targets: rows.filter((row) => row.met !== null).map(({ benchmark, figure, value, target, met }) => ({ benchmark, figure, value, target, met })),
    results,
  };
  const resultsFile = published ? 'latest.json' : 'busy.json';
  writeFileSync(join(RESULTS_DIR, resultsFile), JSON.stringify(roundDeep(report), null, 2) + '\n');
  if (results.request && published) writeFileSync(join(RESULTS_DIR, 'latency.svg'), requestChart(results.request));

  process.stdout.write(`\n${table(rows)}\n\n`);
  for (const [benchmark, reason] of Object.entries(results.failed ?? {})) process.stdout.write(`FAILED ${benchmark}: ${reason}\n`);
  // A failed benchmark fails the run, once every other one has reported.
  if (results.failed) process.exitCode = 1;
  if (busy.length > 0) {
    process.stdout.write(`BUSY MACHINE (${busy.join('; ')}): ${published ? 'published anyway (BENCH_ALLOW_BUSY=1), marked busy' : 'figures NOT published'}\n`);
    if (!published) process.exitCode = 1;
  }
  const missed = rows.filter((row) => row.met === false).length;
  process.stdout.write(
    (settings.quick ? 'BENCH_QUICK: smoke-run figures, not to be compared with full runs. ' : '') +
      `${rows.filter((row) => row.met !== null).length - missed} targets met, ${missed} missed; ${round(report.seconds)} s; ` +
      `results in ${join('scripts', 'bench', 'results', resultsFile)}${results.request && published ? ' and latency.svg' : ''}\n`,
  );
}

await main();
