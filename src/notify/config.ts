import { ConfigError, flag, integer, type Env } from '../env.js';

/** The notification settings, read from the environment with the rest of the configuration. */
export interface NotifyConfig {
  /** Base URL of the web inbox, for links in messages (`COUNTERSIGN_PUBLIC_URL`). */
  publicUrl: string | null;
  /** SMTP server of email channels, e.g. `smtps://user:pass@mail.example.com` (`COUNTERSIGN_SMTP_URL`). */
  smtpUrl: string | null;
  /** Sender address of notification email (`COUNTERSIGN_SMTP_FROM`). */
  smtpFrom: string;
  /** First retry delay; each later one is 2.78 times longer, with jitter: 8 attempts span about an hour from 5 s (`COUNTERSIGN_NOTIFY_RETRY_BASE_MS`). */
  retryBaseMs: number;
  /** Attempts before a delivery is dead-lettered (`COUNTERSIGN_NOTIFY_MAX_ATTEMPTS`). */
  maxAttempts: number;
  /** How long one attempt may take (`COUNTERSIGN_NOTIFY_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Attempts in flight at once per channel (`COUNTERSIGN_NOTIFY_CONCURRENCY`). */
  concurrencyPerChannel: number;
  /** How often the dispatcher looks for work when nothing woke it (`COUNTERSIGN_NOTIFY_POLL_MS`). */
  pollMs: number;
  /** Default lead time of `approval.expiring` (`COUNTERSIGN_NOTIFY_EXPIRING_SECONDS`). */
  expiringBeforeSeconds: number;
  /** Allow destinations on private, loopback and link-local addresses (`COUNTERSIGN_NOTIFY_ALLOW_PRIVATE`). */
  allowPrivate: boolean;
  /** Run the dispatcher in this process (`COUNTERSIGN_NOTIFY_DISPATCH`, default true). */
  dispatch: boolean;
}


function parsedUrl(env: Env, name: string, protocols: string[]): string | null {
  const raw = env[name];
  if (!raw) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'expected a URL');
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL`);
  return raw.replace(/\/+$/, '');
}

/** Reads the notification settings; defaults suit a development machine. */
export function loadNotifyConfig(env: Env = process.env): NotifyConfig {
  return {
    publicUrl: parsedUrl(env, 'COUNTERSIGN_PUBLIC_URL', ['http:', 'https:']),
    smtpUrl: parsedUrl(env, 'COUNTERSIGN_SMTP_URL', ['smtp:', 'smtps:']),
    smtpFrom: env['COUNTERSIGN_SMTP_FROM'] || 'Countersign <countersign@localhost>',
    retryBaseMs: integer(env, 'COUNTERSIGN_NOTIFY_RETRY_BASE_MS', 5_000, 1, 3_600_000),
    maxAttempts: integer(env, 'COUNTERSIGN_NOTIFY_MAX_ATTEMPTS', 8, 1, 50),
    timeoutMs: integer(env, 'COUNTERSIGN_NOTIFY_TIMEOUT_MS', 5_000, 100, 120_000),
    concurrencyPerChannel: integer(env, 'COUNTERSIGN_NOTIFY_CONCURRENCY', 4, 1, 64),
    pollMs: integer(env, 'COUNTERSIGN_NOTIFY_POLL_MS', 1_000, 10, 60_000),
    expiringBeforeSeconds: integer(env, 'COUNTERSIGN_NOTIFY_EXPIRING_SECONDS', 300, 1, 86_400),
    allowPrivate: flag(env, 'COUNTERSIGN_NOTIFY_ALLOW_PRIVATE', false),
    dispatch: flag(env, 'COUNTERSIGN_NOTIFY_DISPATCH', true),
  };
}
