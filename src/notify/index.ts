import { NotificationChannels } from './channel-admin.js';
import { NotificationDispatcher, type DispatcherOptions } from './dispatcher.js';
import { sealedSecretBox } from './secret-box.js';

export { NotificationChannels } from './channel-admin.js';
export { NotificationDispatcher } from './dispatcher.js';
export type { NotifyConfig } from './config.js';

/** The notification services: channel administration and, unless turned off, the dispatcher. */
export interface Notifications {
  channels: NotificationChannels;
  dispatcher: NotificationDispatcher | null;
  /** Asks the dispatcher for a pass soon (a channel was created or changed); cheap, never waits. */
  changed(): void;
}

/** Builds the notification services over the database. */
export function createNotifications(
  options: Pick<DispatcherOptions, 'orm' | 'committer' | 'config' | 'log' | 'changes' | 'onAttempt'> & {
    /** Seals the channels' signing secrets at rest. */
    keyEncryptionKey: Uint8Array;
  },
): Notifications {
  const secrets = sealedSecretBox(options.keyEncryptionKey);
  const dispatcher = options.config.dispatch
    ? new NotificationDispatcher({
        orm: options.orm,
        committer: options.committer,
        config: options.config,
        secrets,
        log: options.log,
        ...(options.changes && { changes: options.changes }),
        ...(options.onAttempt && { onAttempt: options.onAttempt }),
      })
    : null;
  const changed = () => dispatcher?.wake();
  return { channels: new NotificationChannels(options.orm, options.committer, options.config, secrets, changed), dispatcher, changed };
}
