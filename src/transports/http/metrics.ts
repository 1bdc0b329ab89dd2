import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Gate } from '../../app/gate.js';
import type { PolicyEvaluator } from '../../policy/index.js';

/** Seconds: from a fast policy evaluation to a slow batched commit. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const EVALUATION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

/**
 * The Prometheus metrics of one instance, served at `/metrics`. Each instance has a registry of its
 * own (tests run several in one process); the instruments are named and documented here, in one
 * place, and the parts that feed them are handed callbacks (services options) or wrapped
 * ({@link instrument}), so the use cases carry no metrics code.
 */
export class Metrics {
  readonly registry = new Registry();

  /** Gate operations (requestApproval, decide, execute, ...) by outcome: the policy's outcome or the error code. */
  readonly operations = this.counter(
    'countersign_operations_total',
    'Gate operations by outcome (allow, deny, require_approval, replayed, ok, or the error code).',
    ['operation', 'outcome'],
  );

  /** How long each operation took, queueing and commit included: the latency a caller sees. */
  readonly operationSeconds = this.histogram(
    'countersign_operation_duration_seconds',
    'Duration of gate operations (the decision latency of requestApproval), from validation to commit.',
    LATENCY_BUCKETS,
    ['operation'],
  );

  readonly policyEvaluationSeconds = this.histogram(
    'countersign_policy_evaluation_seconds',
    'Time to evaluate the policy for one request.',
    EVALUATION_BUCKETS,
  );

  readonly commitBatchSize = this.histogram(
    'countersign_commit_batch_size',
    'State changes committed together in one transaction (group commit).',
    BATCH_BUCKETS,
  );

  private subscriberCount: () => number = () => 0;

  readonly subscribers: Gauge = new Gauge({
    name: 'countersign_subscribers',
    help: 'Live subscription connections on this instance (WebSocket connections and Server-Sent Event streams).',
    registers: [this.registry],
    collect: (): void => this.subscribers.set(this.subscriberCount()),
  });

  readonly notificationDeliveries = this.counter(
    'countersign_notification_deliveries_total',
    'Notification delivery attempts by channel kind and resulting status (DELIVERED, RETRYING, DEAD).',
    ['channel', 'status'],
  );

  readonly redisErrors = this.counter(
    'countersign_redis_errors_total',
    'Errors talking to Redis (failed publishes, lost connections, failed readiness pings).',
  );

  readonly databaseErrors = this.counter(
    'countersign_database_errors_total',
    'Database errors: write transactions that failed to commit and failed readiness checks.',
  );

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // Process metrics (CPU, memory, event-loop lag) help read the rest.
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'countersign_' });
  }

  private counter<Label extends string>(name: string, help: string, labelNames: readonly Label[] = []): Counter<Label> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<Label extends string>(name: string, help: string, buckets: number[], labelNames: readonly Label[] = []): Histogram<Label> {
    return new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
  }

  /** Where the subscribers gauge reads its value at each scrape. */
  countSubscribers(count: () => number): void {
    this.subscriberCount = count;
  }

  /** Hears of each group-commit batch (services option `onCommitBatch`). */
  readonly onCommitBatch = (batch: { size: number; committed: boolean }): void => {
    this.commitBatchSize.observe(batch.size);
    if (!batch.committed) this.databaseErrors.inc();
  };

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** The outcome label of a settled gate operation. */
function outcomeOf(operation: string, result: unknown): string {
  if (operation !== 'requestApproval') return 'ok';
  const { approval, replayed } = result as { approval: { status: string }; replayed?: boolean };
  if (replayed) return 'replayed';
  return approval.status === 'APPROVED' ? 'allow' : approval.status === 'DENIED' ? 'deny' : 'require_approval';
}

/** A typed failure's code (TOKEN_REPLAYED, ...), or `error` for an unexpected one. */
function errorOutcome(error: unknown): string {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'error';
}

/** The gate's state-changing operations, counted and timed. */
const INSTRUMENTED_OPERATIONS = ['requestApproval', 'decide', 'execute', 'completeExecution', 'updateTenantSettings'] as const;

/**
 * Counts and times the gate's operations (by outcome) and the policy's evaluations by wrapping
 * those methods on these two instances: every transport (GraphQL, MCP) is measured alike, and the
 * use cases stay free of metrics code.
 */
export function instrument(metrics: Metrics, gate: Gate, evaluator: PolicyEvaluator): void {
  const methods = gate as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const operation of INSTRUMENTED_OPERATIONS) {
    const original = (methods[operation] as (...args: unknown[]) => Promise<unknown>).bind(gate);
    methods[operation] = async (...args: unknown[]) => {
      const stop = metrics.operationSeconds.startTimer({ operation });
      try {
        const result = await original(...args);
        metrics.operations.inc({ operation, outcome: outcomeOf(operation, result) });
        return result;
      } catch (error) {
        metrics.operations.inc({ operation, outcome: errorOutcome(error) });
        throw error;
      } finally {
        stop();
      }
    };
  }
  const evaluate = evaluator.evaluate.bind(evaluator);
  evaluator.evaluate = (input) => {
    const stop = metrics.policyEvaluationSeconds.startTimer();
    try {
      return evaluate(input);
    } finally {
      stop();
    }
  };
}
