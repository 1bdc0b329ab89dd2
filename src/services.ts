import type { Clock } from './domain/clock.js';
import type { MikroORM } from '@mikro-orm/core';
import { Gate } from './app/gate.js';
import type { Config } from './config.js';
import { AuditLog } from './db/audit-log.js';
import { Committer, type CommitObserver } from './db/committer.js';
import { databaseOptions, openDatabase } from './db/orm.js';
import type { ChangeFeed } from './feed/feed.js';
import { InProcessChangeFeed } from './feed/in-process.js';
import { RedisChangeFeed } from './feed/redis.js';
import type { NotificationDeliveryStatus } from './db/entities/notification-delivery.entity.js';
import { createNotifications, type Notifications } from './notify/index.js';
import { PolicyEvaluator, type PolicyEvent } from './policy/index.js';
import { RateLimits } from './app/rate-limits.js';
import { Redis } from 'ioredis';

/** The service graph every entry point works with: the server, the CLI, the benchmarks and tests. */
export interface Services {
  readonly orm: MikroORM;
  readonly evaluator: PolicyEvaluator;
  /** The change feed the gate publishes committed changes to and consumers subscribe to. */
  readonly changes: ChangeFeed;
  /** The Redis feed shared with other instances, when COUNTERSIGN_REDIS_URL is set (readiness pings it). */
  readonly sharedFeed: RedisChangeFeed | null;
  readonly gate: Gate;
  /** Notification channels and the dispatcher that delivers to them (started by the server). */
  readonly notifications: Notifications;
  /** Stops the policy watcher, waits for queued writes and closes the database. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Receives policy reloads and fail-safe evaluations; defaults to `log`. */
  onPolicyEvent?: (event: PolicyEvent) => void;
  log?: (message: string) => void;
  /** The clock of every use case; tests advance it instead of sleeping. */
  now?: Clock;
  /** Replaces a part of the graph, e.g. another change feed. */
  changes?: ChangeFeed;
  /** Hears of Redis errors of the shared change feed (the metrics count them); defaults to `log`. */
  onRedisError?: (error: unknown) => void;
  /** Hears of each group-commit batch: its size and whether it committed (the metrics). */
  onCommitBatch?: CommitObserver;
  /** Hears of every notification attempt recorded (the metrics count them). */
  onNotificationAttempt?: (channelKind: string, status: NotificationDeliveryStatus) => void;
}

/** Builds the service graph from the configuration: the one place it is put together. */
export async function createServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  const log = options.log ?? ((message: string) => console.log(message));
  const onPolicyEvent =
    options.onPolicyEvent ??
    ((event: PolicyEvent) => {
      if (event.kind === 'reloaded') log(`policy: reloaded revision ${event.revision} (was ${event.previousRevision})`);
      else if (event.kind === 'reload_refused') log(`policy: ${event.error.message}; still serving ${event.servingRevision}`);
      else log(`policy: evaluation failed safe for ${event.tenant}/${event.action}: ${event.problem}`);
    });
  const evaluator = await PolicyEvaluator.load({
    bundleDir: config.bundleDir,
    ...(config.policySourcesDir && { sourcesDir: config.policySourcesDir }),
    watch: config.watchBundle,
    onEvent: onPolicyEvent,
  });
  let orm: MikroORM | undefined;
  let shared: RedisChangeFeed | null = null;
  let limitsRedis: Redis | null = null;
  try {
    orm = await openDatabase(databaseOptions(config));
    if (!options.changes && config.redisUrl) {
      shared = await RedisChangeFeed.connect({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        onError: options.onRedisError ?? ((error) => log(`redis: ${(error as Error).message}`)),
      });
    }
    const changes = options.changes ?? shared ?? new InProcessChangeFeed();
    // Instances sharing a Redis share the rate-limit buckets in it, so N instances do not give a
    // caller N times its limit. No offline queue: while Redis is down each instance limits on its
    // own (the limiters' in-memory insurance, see rate-limits.ts) instead of waiting on it.
    if (config.redisUrl && config.rateLimits.enabled) {
      limitsRedis = new Redis(config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: 'countersign-limits' });
      limitsRedis.on('error', options.onRedisError ?? ((error: unknown) => log(`redis (rate limits): ${(error as Error).message}`)));
      await limitsRedis.connect();
    }
    // One writer for the gate and channel administration, whose changes are audited alike.
    const committer = new Committer(orm, new AuditLog(() => evaluator.revision), undefined, options.onCommitBatch);
    const notifications = createNotifications({
      orm,
      committer,
      config: config.notify,
      keyEncryptionKey: config.keyEncryptionKey,
      log,
      changes,
      ...(options.onNotificationAttempt && { onAttempt: options.onNotificationAttempt }),
    });
    const gate = await Gate.open({
      orm,
      evaluator,
      publisher: changes,
      issuer: config.issuer,
      tokenAudience: config.tokenAudience,
      committer,
      keyEncryptionKey: config.keyEncryptionKey,
      rateLimits: new RateLimits(config.rateLimits, limitsRedis ? { redis: limitsRedis, prefix: config.redisPrefix } : undefined),
      ...(options.now && { now: options.now }),
    });
    const opened = orm;
    return {
      orm: opened,
      evaluator,
      changes,
      sharedFeed: shared,
      gate,
      notifications,
      async close() {
        evaluator.close();
        await gate.whenIdle();
        await notifications.dispatcher?.stop();
        // The dispatcher's last writes (outcomes, released claims) are committer jobs.
        await gate.whenIdle();
        await shared?.close();
        limitsRedis?.disconnect();
        await opened.close(true);
      },
    };
  } catch (error) {
    evaluator.close();
    await shared?.close();
    limitsRedis?.disconnect();
    await orm?.close(true);
    throw error;
  }
}
