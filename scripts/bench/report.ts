// The benchmark run's report: one row a figure, with its target where an issue names one, the
// table printed at the end of a run, and the request benchmark's latency chart.
import { latencyChart, type ChartSeries } from './chart.js';
import type { DecisionResults } from './decision.js';
import type { GrowthResults } from './growth.js';
import type { InboxResults } from './inbox.js';
import type { McpGatewayResults } from './mcp-gateway.js';
import type { NotificationResults } from './notifications.js';
import type { PolicyResults } from './policy.js';
import { CONCURRENCY, type RequestResults } from './request.js';
import type { ScaleResults } from './scale.js';
import { round } from './stats.js';
import type { SubscriptionResults } from './subscriptions.js';

/** What one run measured, benchmark by benchmark (latest.json's `results`). */
export interface BenchResults {
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
}

export interface Row {
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

// Targets are issue 15's (the second performance round) where it names one, else the first round's.
function policyRows(results: PolicyResults): Row[] {
  return results.cases.flatMap((policyCase) => {
    const label = `policy (${policyCase.name} input, ${round(policyCase.inputBytes / 1024, 2)} KiB)`;
    const opa1 = policyCase.opaServer['c1'];
    const opa16 = policyCase.opaServer['c16'];
    // Issue 15 sets 150 µs for the 15 KiB input; the small input keeps the first round's 100 µs.
    const p99TargetMs = policyCase.name === 'large' ? 0.15 : 0.1;
    return [
      { benchmark: label, figure: 'in-process WASM decisions', value: perSecond(policyCase.inProcess.perSecond), target: '', met: null },
      { benchmark: label, figure: 'in-process p50 / p99', value: `${ms(policyCase.inProcess.p50Ms)} / ${ms(policyCase.inProcess.p99Ms)}`, target: `p99 < ${ms(p99TargetMs)}`, met: policyCase.inProcess.p99Ms < p99TargetMs },
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

function allowedFloorValue(results: RequestResults): string {
  const floor = results.allowedFloor;
  if (!floor) return 'not measured';
  const us = (value: number): string => `${Math.round(value)} µs`;
  return `${round(floor.ceilingOverTrivial * 100)} %: ${us(floor.trivialServerUs)} / (it + ${us(floor.evaluateUs)} + ${us(floor.signUs)} + ${us(floor.storeUs)})`;
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
        target: isTarget ? 'p99 < 15 ms' : '',
        met: isTarget ? figures.p99Ms < 15 : null,
      });
    }
  }
  rows.push(
    {
      benchmark: 'request: allowed over trivial',
      figure: '16 clients, throughput ratio',
      value: `${round(results.ratios.allowedOverTrivialAt16 * 100)} %`,
      target: '>= 50 %',
      met: results.ratios.allowedOverTrivialAt16 >= 0.5,
    },
    {
      benchmark: 'request: allowed over trivial, bound on this machine',
      figure: 'trivial server CPU / (it + evaluate + sign + store), parts alone',
      value: allowedFloorValue(results),
      target: '',
      met: null,
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
      figure: 'CPU per round: server / load generator (of which kernel)',
      value: `${ms(results.cpuPerRoundMs.server)} (${ms(results.cpuPerRoundMs.serverSystem)}) / ${ms(results.cpuPerRoundMs.loadGenerator)} (${ms(results.cpuPerRoundMs.loadGeneratorSystem)})`,
      target: '',
      met: null,
    },
    {
      benchmark: `${label}, bound on this machine`,
      figure: 'CPU a round demands of the cores both processes share / last delivery',
      value: `${ms((results.cpuPerRoundMs.server + results.cpuPerRoundMs.loadGenerator) / results.cores)} over ${results.cores} cores / ${ms(results.lastDeliveryMedianMs)}`,
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
    { benchmark: label, figure: 'pending list p50 / p99', value: `${ms(results.pendingList.p50Ms)} / ${ms(results.pendingList.p99Ms)}`, target: 'p99 < 5 ms', met: results.pendingList.p99Ms < 5 },
    { benchmark: label, figure: 'audit trail p50 / p99', value: `${ms(results.auditTrail.p50Ms)} / ${ms(results.auditTrail.p99Ms)}`, target: 'p99 < 5 ms', met: results.auditTrail.p99Ms < 5 },
    { benchmark: label, figure: '{ __typename } p50 / p99 (floor)', value: `${ms(results.trivial.p50Ms)} / ${ms(results.trivial.p99Ms)}`, target: '', met: null },
    { benchmark: label, figure: 'verifyAuditChain', value: `${perSecond(results.verify.eventsPerSecond)} (${round(results.verify.medianSeconds)} s)`, target: '>= 300,000/s', met: results.verify.eventsPerSecond >= 300_000 },
    {
      benchmark: label,
      figure: 'verifyAuditChain, first on a fresh server (unmeasured above)',
      value: `${perSecond(results.verify.checked / results.verify.firstSeconds)} (${round(results.verify.firstSeconds)} s)`,
      target: '',
      met: null,
    },
    ...(results.verifyFloor
      ? [
          {
            benchmark: label,
            figure: `its floor: texts read / read and hashed, one thread; bound on ${results.verifyFloor.cores} cores`,
            value: `${perSecond(results.verifyFloor.readPerSecond)} / ${perSecond(results.verifyFloor.readAndHashPerSecond)}; ${perSecond(results.verifyFloor.boundPerSecond)}`,
            target: '',
            met: null,
          },
        ]
      : []),
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
  const label = `decision to token (${results.requesters} requesters waiting, decided one at a time; ${results.rounds ?? 1} x ${results.requesters} after ${results.warmupRounds ?? 1} warm-up round${(results.warmupRounds ?? 1) === 1 ? '' : 's'})`;
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

export function table(rows: Row[]): string {
  const cells = rows.map((row) => [row.benchmark, row.figure, row.value, row.target, row.met === null ? '' : row.met ? 'met' : 'MISSED']);
  const header = ['benchmark', 'figure', 'value (median)', 'target', ''];
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => (cell[column] as string).length)));
  const line = (cell: string[]): string => cell.map((text, column) => text.padEnd(widths[column] as number)).join('  ').trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.map(line)].join('\n');
}

export function requestChart(results: RequestResults): string {
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
    { ms: 15, label: 'target: allowed p99 < 15 ms at 16 clients' },
  ]);
}


/** Every figure of the run, in the order the benchmarks ran. */
export function resultRows(results: BenchResults): Row[] {
  return [
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
}
