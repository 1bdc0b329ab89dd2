import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_RATE_LIMITS, type RateLimit, type RateLimitSettings } from './app/rate-limits.js';
import { loadNotifyConfig, NotifyConfigError, type NotifyConfig } from './notify/config.js';

/** Everything the server reads from its environment, validated. */
export interface Config {
  port: number;
  host: string;
  /** SQLite file, or ':memory:' (unused with PostgreSQL). */
  databasePath: string;
  databaseDriver: 'better-sqlite' | 'sqlite' | 'postgresql';
  /** PostgreSQL's `postgres://…` URL when `COUNTERSIGN_DB` is one: instances then share the database. */
  databaseUrl: string | null;
  /** Redis's `redis://…` URL: instances then share the change feed. */
  redisUrl: string | null;
  /** Prefix of Countersign's Redis keys and channels (deployments sharing one Redis give each its own). */
  redisPrefix: string;
  /** HS256 secret for callers' bearer tokens (development). */
  authSecret: string | null;
  /** JWKS of the identity provider that signs callers' bearer tokens. */
  authJwksUrl: string | null;
  authIssuer: string | null;
  authAudience: string | null;
  /** Longest lifetime accepted of a caller token, seconds (required `exp` minus `iat`). */
  authMaxTokenLifetimeSeconds: number;
  /** Clock leeway for callers' `exp`, `nbf` and `iat`, seconds. */
  authClockToleranceSeconds: number;
  /** When set, the only `typ` accepted of caller tokens. */
  authTokenType: string | null;
  /** Shortest interval between JWKS refetches on an unknown `kid`, milliseconds. */
  authJwksCooldownMs: number;
  /** `iss` of decision tokens. */
  issuer: string;
  /** `aud` of decision tokens: who executes with them. */
  tokenAudience: string;
  bundleDir: string;
  /** Policy sources whose digest the bundle must match; null skips the check (packaged deployments). */
  policySourcesDir: string | null;
  watchBundle: boolean;
  expirySweepMs: number;
  /** On shutdown, how long requests in progress may take to finish before their connections are closed. */
  shutdownGraceMs: number;
  graphiql: boolean;
  /** The built approvals inbox (Vite output) served at `/`. */
  inboxDir: string;
  /** Outside production with HS256 caller tokens only: the inbox may mint development tokens. */
  devTokens: boolean;
  /**
   * Key-encryption key (32 bytes) sealing secrets at rest (signing keys, channel secrets); it
   * never lives in the database. See {@link keyEncryptionKeyFrom}.
   */
  keyEncryptionKey: Uint8Array;
  /** Notification channels and their dispatcher. */
  notify: NotifyConfig;
  /** Where signed audit checkpoints are written on a schedule; null: not written. */
  checkpointDir: string | null;
  /** How often checkpoints are written, milliseconds. */
  checkpointIntervalMs: number;
  /** Largest HTTP request body read, bytes; larger ones are refused (413) before parsing. */
  maxBodyBytes: number;
  /** Answer introspection queries (default: outside production only). */
  introspection: boolean;
  /** "Did you mean" suggestions in validation errors (default: outside production only). */
  fieldSuggestions: boolean;
  /** Origins allowed to call from a browser; empty, the default, sends no CORS headers at all. */
  corsOrigins: string[];
  /** graphql-ws bounds: message size, subscriptions per connection, bytes queued to a slow client. */
  webSocketLimits: { maxPayloadBytes: number; maxSubscriptionsPerConnection: number; maxBufferedBytes: number };
  /** Bytes of changes held for one subscriber that is not reading before its subscription ends. */
  subscriberMaxBufferedBytes: number;
  /** Per-caller token buckets on requestApproval and execute, per address on failed authentication. */
  rateLimits: RateLimitSettings;
}

/** A configuration problem, reported at start before anything listens. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `expected an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function url(env: Env, name: string): string | null {
  const raw = env[name];
  if (!raw) return null;
  try {
    const parsed = new URL(raw);
    if (!['http:', 'https:'].includes(parsed.protocol)) throw new Error('not http(s)');
    return parsed.toString();
  } catch {
    throw new ConfigError(name, `expected an http(s) URL, got "${raw}"`);
  }
}

/** Parses a connection URL; the error names the variable, never the URL (it may hold a password). */
function checkUrl(name: string, raw: string): void {
  try {
    new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
}

function origins(env: Env, name: string): string[] {
  const raw = env[name];
  if (!raw) return [];
  return raw.split(',').map((entry) => {
    const origin = entry.trim();
    try {
      const parsed = new URL(origin);
      if (!['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) throw new Error('not an origin');
    } catch {
      throw new ConfigError(name, `expected comma-separated origins such as https://inbox.example.com, got "${origin}"`);
    }
    return origin;
  });
}

function rateLimitSettings(env: Env): RateLimitSettings {
  const raw = env['COUNTERSIGN_RATE_LIMIT'];
  if (raw !== undefined && raw !== '' && !['on', 'off'].includes(raw)) {
    throw new ConfigError('COUNTERSIGN_RATE_LIMIT', `expected on or off, got "${raw}"`);
  }
  const limit = (prefix: string, fallback: RateLimit): RateLimit => ({
    perSecond: integer(env, `${prefix}_PER_SECOND`, fallback.perSecond, 1, 1_000_000),
    burst: integer(env, `${prefix}_BURST`, fallback.burst, 0, 10_000_000),
  });
  return {
    enabled: raw !== 'off',
    requestApproval: limit('COUNTERSIGN_RATE_LIMIT_REQUESTS', DEFAULT_RATE_LIMITS.requestApproval),
    execute: limit('COUNTERSIGN_RATE_LIMIT_EXECUTES', DEFAULT_RATE_LIMITS.execute),
    failedAuthentication: limit('COUNTERSIGN_RATE_LIMIT_FAILED_AUTH', DEFAULT_RATE_LIMITS.failedAuthentication),
  };
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

/** Reads and validates the configuration; `overrides` win over the environment (tests use them). */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const production = env['NODE_ENV'] === 'production';
  const authSecret = env['COUNTERSIGN_AUTH_SECRET'] || null;
  const authJwksUrl = url(env, 'COUNTERSIGN_AUTH_JWKS_URL');
  if (authSecret !== null && authSecret.length < 32) {
    throw new ConfigError('COUNTERSIGN_AUTH_SECRET', 'must be at least 32 characters');
  }
  const database = env['COUNTERSIGN_DB'] || '';
  const databaseUrl = /^postgres(ql)?:\/\//i.test(database) ? database : null;
  const driver = databaseUrl ? 'postgresql' : (env['COUNTERSIGN_DB_DRIVER'] ?? 'better-sqlite');
  if (driver !== 'better-sqlite' && driver !== 'sqlite' && driver !== 'postgresql') {
    throw new ConfigError('COUNTERSIGN_DB_DRIVER', `expected better-sqlite or sqlite, got "${driver}"`);
  }
  if (databaseUrl) checkUrl('COUNTERSIGN_DB', databaseUrl);
  const redisUrl = env['COUNTERSIGN_REDIS_URL'] || null;
  if (redisUrl) {
    checkUrl('COUNTERSIGN_REDIS_URL', redisUrl);
    if (!/^rediss?:\/\//i.test(redisUrl)) throw new ConfigError('COUNTERSIGN_REDIS_URL', 'expected a redis:// or rediss:// URL');
  }
  const config: Config = {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: env['HOST'] || '127.0.0.1',
    databasePath: databaseUrl || !database ? resolve('data', 'countersign.sqlite') : database,
    databaseDriver: driver,
    databaseUrl,
    redisUrl,
    redisPrefix: env['COUNTERSIGN_REDIS_PREFIX'] || 'countersign:',
    authSecret,
    authJwksUrl,
    authIssuer: env['COUNTERSIGN_AUTH_ISSUER'] || null,
    authAudience: env['COUNTERSIGN_AUTH_AUDIENCE'] || null,
    authMaxTokenLifetimeSeconds: integer(env, 'COUNTERSIGN_AUTH_MAX_TOKEN_LIFETIME_SECONDS', 24 * 3600, 60, 366 * 24 * 3600),
    authClockToleranceSeconds: integer(env, 'COUNTERSIGN_AUTH_CLOCK_TOLERANCE_SECONDS', 30, 0, 600),
    authTokenType: env['COUNTERSIGN_AUTH_TOKEN_TYPE'] || null,
    authJwksCooldownMs: integer(env, 'COUNTERSIGN_AUTH_JWKS_COOLDOWN_MS', 1000, 0, 3_600_000),
    issuer: env['COUNTERSIGN_ISSUER'] || 'urn:countersign:local',
    tokenAudience: env['COUNTERSIGN_TOKEN_AUDIENCE'] || 'urn:countersign:execute',
    bundleDir: resolve(env['COUNTERSIGN_BUNDLE_DIR'] || 'bundle'),
    policySourcesDir: env['COUNTERSIGN_POLICY_SOURCES'] === '' ? null : resolve(env['COUNTERSIGN_POLICY_SOURCES'] || 'policies'),
    watchBundle: flag(env, 'COUNTERSIGN_WATCH_BUNDLE', true),
    expirySweepMs: integer(env, 'COUNTERSIGN_EXPIRY_SWEEP_MS', 5000, 100, 3_600_000),
    shutdownGraceMs: integer(env, 'COUNTERSIGN_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    graphiql: flag(env, 'COUNTERSIGN_GRAPHIQL', !production),
    inboxDir: resolve(env['COUNTERSIGN_INBOX_DIR'] || join('dist', 'web')),
    // Minting any caller at will is a development convenience; production never has it.
    devTokens: !production && flag(env, 'COUNTERSIGN_DEV_TOKENS', true),
    keyEncryptionKey: EMPTY_KEY,
    notify: notifySettings(env),
    checkpointDir: env['COUNTERSIGN_CHECKPOINT_DIR'] ? resolve(env['COUNTERSIGN_CHECKPOINT_DIR']) : null,
    checkpointIntervalMs: integer(env, 'COUNTERSIGN_CHECKPOINT_INTERVAL_MS', 300_000, 1000, 86_400_000),
    maxBodyBytes: integer(env, 'COUNTERSIGN_MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    introspection: flag(env, 'COUNTERSIGN_INTROSPECTION', !production),
    fieldSuggestions: flag(env, 'COUNTERSIGN_FIELD_SUGGESTIONS', !production),
    corsOrigins: origins(env, 'COUNTERSIGN_CORS_ORIGINS'),
    webSocketLimits: {
      maxPayloadBytes: integer(env, 'COUNTERSIGN_WS_MAX_PAYLOAD_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
      maxSubscriptionsPerConnection: integer(env, 'COUNTERSIGN_WS_MAX_SUBSCRIPTIONS', 50, 1, 10_000),
      maxBufferedBytes: integer(env, 'COUNTERSIGN_WS_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    },
    rateLimits: rateLimitSettings(env),
    subscriberMaxBufferedBytes: integer(env, 'COUNTERSIGN_SUBSCRIBER_MAX_BUFFERED_BYTES', 8 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    ...overrides,
  };
  if (config.keyEncryptionKey === EMPTY_KEY) {
    config.keyEncryptionKey = keyEncryptionKeyFrom(env) ?? missingKeyEncryptionKey(production, config.databasePath);
  } else if (config.keyEncryptionKey.byteLength !== KEK_BYTES) {
    throw new ConfigError('COUNTERSIGN_KEY_ENCRYPTION_KEY', `must be ${KEK_BYTES} bytes, got ${config.keyEncryptionKey.byteLength}`);
  }
  if (!config.authSecret && !config.authJwksUrl) {
    if (production) {
      throw new ConfigError(
        'COUNTERSIGN_AUTH_SECRET',
        'set COUNTERSIGN_AUTH_JWKS_URL (identity provider) or COUNTERSIGN_AUTH_SECRET (HS256)',
      );
    }
    config.authSecret = developmentAuthSecret(config.databasePath);
  }
  if (production) {
    // A token minted for another service of the same identity provider must not be a credential here.
    for (const [variable, value] of [
      ['COUNTERSIGN_AUTH_ISSUER', config.authIssuer],
      ['COUNTERSIGN_AUTH_AUDIENCE', config.authAudience],
    ] as const) {
      if (!value) throw new ConfigError(variable, 'is required in production: caller tokens must name who issued them and for whom');
    }
  }
  return config;
}

const KEK_BYTES = 32;
/** Placeholder until the key is resolved (an override wins over the environment). */
const EMPTY_KEY = new Uint8Array(0);

/**
 * The key-encryption key from `COUNTERSIGN_KEY_ENCRYPTION_KEY` (32 bytes, base64 or base64url)
 * or from the file named by `COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE` (the same base64 text, or the
 * 32 raw bytes); null when neither is set.
 */
export function keyEncryptionKeyFrom(env: Env): Uint8Array | null {
  const inline = env['COUNTERSIGN_KEY_ENCRYPTION_KEY'];
  const file = env['COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE'];
  if (inline && file) {
    throw new ConfigError('COUNTERSIGN_KEY_ENCRYPTION_KEY', 'set it or COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE, not both');
  }
  if (inline) return decodeKey('COUNTERSIGN_KEY_ENCRYPTION_KEY', inline);
  if (!file) return null;
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new ConfigError('COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE', `cannot read "${file}": ${(error as Error).message}`);
  }
  if (bytes.byteLength === KEK_BYTES) return new Uint8Array(bytes);
  return decodeKey('COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE', bytes.toString('utf8'));
}

function decodeKey(variable: string, text: string): Uint8Array {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (key.byteLength !== KEK_BYTES) {
    throw new ConfigError(variable, `expected ${KEK_BYTES} random bytes in base64 (e.g. openssl rand -base64 32)`);
  }
  return new Uint8Array(key);
}

function missingKeyEncryptionKey(production: boolean, databasePath: string): Uint8Array {
  if (production) {
    throw new ConfigError(
      'COUNTERSIGN_KEY_ENCRYPTION_KEY',
      'required in production to seal signing keys at rest: 32 random bytes in base64 (openssl rand -base64 32), ' +
        'or a file holding them named by COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE',
    );
  }
  return developmentKeyEncryptionKey(databasePath);
}

/**
 * Outside production the key-encryption key is generated once and kept beside the database (as
 * the development caller-token secret is), so that a fresh checkout starts without any setting.
 * A copy of the database alone then still holds no usable secret.
 */
export function developmentKeyEncryptionKey(databasePath: string): Uint8Array {
  const file = developmentKeyEncryptionKeyFile(databasePath);
  if (existsSync(file)) return decodeKey('COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE', readFileSync(file, 'utf8'));
  mkdirSync(dirname(file), { recursive: true });
  const key = randomBytes(KEK_BYTES);
  try {
    writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process created it first: use theirs, or the two would seal with different keys.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return decodeKey('COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE', readFileSync(file, 'utf8'));
  }
  return new Uint8Array(key);
}

/** Where the development key-encryption key of a database is kept. */
export function developmentKeyEncryptionKeyFile(databasePath: string): string {
  return resolve(dirname(developmentBase(databasePath)), 'dev-key-encryption-key');
}

function developmentBase(databasePath: string): string {
  return databasePath === ':memory:' ? resolve('data', 'countersign.sqlite') : databasePath;
}

function notifySettings(env: Env): NotifyConfig {
  try {
    return loadNotifyConfig(env);
  } catch (error) {
    if (error instanceof NotifyConfigError) throw new ConfigError(error.variable, error.message.slice(error.variable.length + 2));
    throw error;
  }
}

/**
 * Outside production, a fresh checkout must start without any setting: the caller-token secret
 * is generated once and kept beside the database, where `countersign token mint` finds it too.
 */
export function developmentAuthSecret(databasePath: string): string {
  const file = resolve(dirname(developmentBase(databasePath)), 'dev-auth-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
