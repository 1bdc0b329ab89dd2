/**
 * Benchmark 1: the in-process WASM evaluator against OPA's own server (`opa run --server`, the
 * pinned toolchain, the same policy sources) answering the same inputs over HTTP on loopback.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PolicyEvaluator, type PolicyInput } from '../../src/policy/index.js';
import { HttpClient, measured, progress, sleep, type BenchSettings } from './load.js';
import { REPO_ROOT } from './server.js';
import { figuresOf, median, medianFigures, type RepeatedFigures, type RunFigures, type RunSample } from './stats.js';

const OPA = join(REPO_ROOT, '.tools', 'bin', 'opa');
const DECISION_PATH = '/v1/data/countersign/approval/decision';
/** Concurrent HTTP clients against OPA: one for its best latency, more for its best throughput. */
const OPA_CONCURRENCY = [1, 16];
/** Line items in the large context: about 15 KB of JSON, a bulky invoice, under the gate's 64 KB cap. */
const LARGE_LINE_ITEMS = 150;

export interface PolicyCase {
  name: 'small' | 'large';
  inputBytes: number;
  inProcess: RepeatedFigures;
  opaServer: Record<string, RepeatedFigures>;
  /** In-process decisions per second over OPA's best, median of per-repeat ratios. */
  throughputRatio: number;
}

export interface PolicyResults {
  opaVersion: string;
  cases: PolicyCase[];
}

export function policyInput(lineItems: number): PolicyInput {
  return {
    tenant: 'acme',
    requester: { subject: 'invoice-bot', roles: ['agent'] },
    agent: 'invoice-bot',
    action: 'payment',
    resource: 'invoice/INV-2041',
    context:
      lineItems === 0
        ? { amount: 499, currency: 'USD' }
        : {
            amount: 499,
            currency: 'USD',
            vendor: { id: 'V-1009', name: 'Northwind Traders', country: 'DE' },
            lines: Array.from({ length: lineItems }, (_, index) => ({
              sku: `SKU-${String(index).padStart(5, '0')}`,
              description: 'replacement part, see purchase order',
              quantity: 1 + (index % 7),
              unitPrice: 2.49,
            })),
          },
    confidence: 0.9,
    estimated_duration_minutes: 5,
    priority: 'normal',
    source: 'internal',
  };
}

/** A free loopback port for OPA, which cannot report the port it picked for :0. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface OpaServer {
  url: string;
  stop(): Promise<void>;
}

/** Builds a Rego bundle of policies/ (tests excluded, as for the WASM bundle) and serves it. */
async function startOpaServer(workDir: string): Promise<OpaServer> {
  const tarball = join(workDir, 'rego-bundle.tar.gz');
  execFileSync(OPA, ['build', '-b', 'policies', '--ignore', '*_test.rego', '-o', tarball], { cwd: REPO_ROOT, stdio: 'ignore' });
  const port = await freePort();
  const child: ChildProcess = spawn(OPA, ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', '--bundle', tarball], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = (): void => void child.kill();
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(`${url}/health?bundles`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (attempt > 100 || child.exitCode !== null) throw new Error('opa run --server did not become healthy');
    await sleep(100);
  }
  return {
    url,
    async stop() {
      child.kill();
      await exited;
      process.off('exit', killOnExit);
    },
  };
}

/** Calls the evaluator back to back for the run's duration, timing each call. */
function inProcessRun(evaluator: PolicyEvaluator, input: PolicyInput, durationMs: number): RunSample {
  const latenciesMs: number[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  let now = started;
  while (now < deadline) {
    evaluator.evaluate(input);
    const after = performance.now();
    latenciesMs.push(after - now);
    now = after;
  }
  return { operations: latenciesMs.length, seconds: (now - started) / 1000, latenciesMs };
}

export async function runPolicyBenchmark(settings: BenchSettings): Promise<PolicyResults> {
  const workDir = mkdtempSync(join(tmpdir(), 'countersign-bench-opa-'));
  const evaluator = await PolicyEvaluator.load({ bundleDir: join(REPO_ROOT, 'bundle'), sourcesDir: join(REPO_ROOT, 'policies') });
  const opa = await startOpaServer(workDir);
  const opaVersion = /Version: (\S+)/.exec(execFileSync(OPA, ['version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  const clients = new Map(OPA_CONCURRENCY.map((concurrency) => [concurrency, new HttpClient(opa.url, concurrency)]));
  try {
    const cases: PolicyCase[] = [];
    for (const [name, lineItems] of [['small', 0], ['large', LARGE_LINE_ITEMS]] as const) {
      const input = policyInput(lineItems);
      const body = JSON.stringify({ input });
      const headers = { 'content-type': 'application/json' };

      // Same inputs, same answers: otherwise the comparison would be of different work.
      const wasmDecision = evaluator.evaluate(input);
      const opaAnswer = JSON.parse((await clients.get(1)!.post(DECISION_PATH, body, headers)).body) as {
        result?: { outcome: string; risk_score: number; reasons: { rule_id: string }[] };
      };
      const same =
        opaAnswer.result?.outcome === wasmDecision.outcome &&
        opaAnswer.result.risk_score === wasmDecision.riskScore &&
        isDeepStrictEqual(opaAnswer.result.reasons.map((reason) => reason.rule_id), wasmDecision.reasons.map((reason) => reason.ruleId));
      if (!same) throw new Error(`OPA and the WASM evaluator disagree on the ${name} input: ${JSON.stringify(opaAnswer)}`);

      const inProcessRuns: RunFigures[] = [];
      const opaRuns = new Map<number, RunFigures[]>(OPA_CONCURRENCY.map((concurrency) => [concurrency, []]));
      const ratios: number[] = [];
      for (let repeat = 0; repeat < settings.repeats; repeat++) {
        progress(`policy ${name}: repeat ${repeat + 1}/${settings.repeats}`);
        inProcessRun(evaluator, input, settings.warmupMs);
        const inProcess = figuresOf(inProcessRun(evaluator, input, settings.runMs));
        inProcessRuns.push(inProcess);
        let bestOpa = 0;
        for (const concurrency of OPA_CONCURRENCY) {
          const client = clients.get(concurrency)!;
          const run = figuresOf(
            await measured(settings, concurrency, async () => {
              const response = await client.post(DECISION_PATH, body, headers);
              if (response.status !== 200) throw new Error(`OPA answered ${response.status}: ${response.body}`);
            }),
          );
          opaRuns.get(concurrency)!.push(run);
          bestOpa = Math.max(bestOpa, run.perSecond);
        }
        ratios.push(inProcess.perSecond / bestOpa);
      }
      cases.push({
        name,
        inputBytes: Buffer.byteLength(JSON.stringify(input)),
        inProcess: medianFigures(inProcessRuns),
        opaServer: Object.fromEntries([...opaRuns].map(([concurrency, runs]) => [`c${concurrency}`, medianFigures(runs)])),
        throughputRatio: median(ratios),
      });
    }
    return { opaVersion, cases };
  } finally {
    for (const client of clients.values()) client.close();
    evaluator.close();
    await opa.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}
