import type { Clock } from './domain/clock.js';
import type { MikroORM } from '@mikro-orm/core';
import { Gate } from './app/gate.js';
import type { Config } from './config.js';
import { databaseOptions, openDatabase } from './db/orm.js';
import type { ChangeFeed } from './feed/feed.js';
import { InProcessChangeFeed } from './feed/in-process.js';
import { createNotifications, type Notifications } from './notify/index.js';
import { PolicyEvaluator, type PolicyEvent } from './policy/index.js';

/** The service graph every entry point works with: the server, the CLI, the benchmarks and tests. */
export interface Services {
  readonly orm: MikroORM;
  readonly evaluator: PolicyEvaluator;
  /** The change feed the gate publishes committed changes to and consumers subscribe to. */
  readonly changes: ChangeFeed;
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
  try {
    orm = await openDatabase(databaseOptions(config));
    const changes = options.changes ?? new InProcessChangeFeed();
    const notifications = createNotifications({ orm, config: config.notify, keyEncryptionKey: config.keyEncryptionKey, log });
    // Committed changes reach the feed and wake the notification dispatcher, which reads the audit trail.
    const publisher = {
      publish(change: Parameters<ChangeFeed['publish']>[0]) {
        changes.publish(change);
        notifications.changed();
      },
    };
    const gate = await Gate.open({
      orm,
      evaluator,
      publisher,
      issuer: config.issuer,
      tokenAudience: config.tokenAudience,
      ...(options.now && { now: options.now }),
    });
    const opened = orm;
    return {
      orm: opened,
      evaluator,
      changes,
      gate,
      notifications,
      async close() {
        evaluator.close();
        await gate.whenIdle();
        await notifications.dispatcher?.stop();
        await opened.close(true);
      },
    };
  } catch (error) {
    evaluator.close();
    await orm?.close(true);
    throw error;
  }
}
