/** Latency percentiles and medians of repeated runs: the only statistics the benchmarks report. */

/** One bounded run of a load: how many operations finished, in how long, and each one's latency. */
export interface RunSample {
  operations: number;
  seconds: number;
  /** Milliseconds per operation, in completion order. */
  latenciesMs: number[];
}

/** What a run is reported as. */
export interface RunFigures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  operations: number;
  /** CPU time the server process spent per operation (user + system), where it was measured. */
  serverCpuUsPerOp?: number;
  /** CPU time the load generator (this process) spent per operation over the same run. */
  loadGeneratorCpuUsPerOp?: number;
}

/** The value below which `fraction` of the sorted values lie (nearest rank). */
export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function figuresOf(sample: RunSample): RunFigures {
  const sorted = Float64Array.from(sample.latenciesMs).sort();
  return {
    perSecond: sample.operations / sample.seconds,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    operations: sample.operations,
  };
}

/** Repeated runs of one measurement, reported as the median of each figure. */
export interface RepeatedFigures extends RunFigures {
  repeats: RunFigures[];
}

export function medianFigures(runs: RunFigures[]): RepeatedFigures {
  const cpu = runs.map((run) => run.serverCpuUsPerOp).filter((value): value is number => value !== undefined);
  const ownCpu = runs.map((run) => run.loadGeneratorCpuUsPerOp).filter((value): value is number => value !== undefined);
  return {
    perSecond: median(runs.map((run) => run.perSecond)),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    operations: median(runs.map((run) => run.operations)),
    ...(cpu.length > 0 && { serverCpuUsPerOp: median(cpu) }),
    ...(ownCpu.length > 0 && { loadGeneratorCpuUsPerOp: median(ownCpu) }),
    repeats: runs,
  };
}

/** Rounds for display and JSON: three significant digits, never scientific notation. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const factor = 10 ** Math.max(0, digits - 1 - magnitude);
  return Math.round(value * factor) / factor;
}

/** Rounds every number in a JSON-like value, for a readable results file. */
export function roundDeep<T>(value: T): T {
  if (typeof value === 'number') return round(value) as T;
  if (Array.isArray(value)) return value.map((item) => roundDeep(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, roundDeep(item)])) as T;
  }
  return value;
}
