import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Everything the server reads from its environment, validated. */
export interface Config {
  port: number;
  host: string;
  /** SQLite file, or ':memory:'. */
  databasePath: string;
  databaseDriver: 'better-sqlite' | 'sqlite';
  /** HS256 secret for callers' bearer tokens (development). */
  authSecret: string | null;
  /** JWKS of the identity provider that signs callers' bearer tokens. */
  authJwksUrl: string | null;
  authIssuer: string | null;
  authAudience: string | null;
  /** `iss` of decision tokens. */
  issuer: string;
  /** `aud` of decision tokens: who executes with them. */
  tokenAudience: string;
  bundleDir: string;
  /** Policy sources whose digest the bundle must match; null skips the check (packaged deployments). */
  policySourcesDir: string | null;
  watchBundle: boolean;
  expirySweepMs: number;
  graphiql: boolean;
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
  const driver = env['COUNTERSIGN_DB_DRIVER'] ?? 'better-sqlite';
  if (driver !== 'better-sqlite' && driver !== 'sqlite') {
    throw new ConfigError('COUNTERSIGN_DB_DRIVER', `expected better-sqlite or sqlite, got "${driver}"`);
  }
  const config: Config = {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: env['HOST'] || '127.0.0.1',
    databasePath: env['COUNTERSIGN_DB'] || resolve('data', 'countersign.sqlite'),
    databaseDriver: driver,
    authSecret,
    authJwksUrl,
    authIssuer: env['COUNTERSIGN_AUTH_ISSUER'] || null,
    authAudience: env['COUNTERSIGN_AUTH_AUDIENCE'] || null,
    issuer: env['COUNTERSIGN_ISSUER'] || 'urn:countersign:local',
    tokenAudience: env['COUNTERSIGN_TOKEN_AUDIENCE'] || 'urn:countersign:execute',
    bundleDir: resolve(env['COUNTERSIGN_BUNDLE_DIR'] || 'bundle'),
    policySourcesDir: env['COUNTERSIGN_POLICY_SOURCES'] === '' ? null : resolve(env['COUNTERSIGN_POLICY_SOURCES'] || 'policies'),
    watchBundle: flag(env, 'COUNTERSIGN_WATCH_BUNDLE', true),
    expirySweepMs: integer(env, 'COUNTERSIGN_EXPIRY_SWEEP_MS', 5000, 100, 3_600_000),
    graphiql: flag(env, 'COUNTERSIGN_GRAPHIQL', !production),
    ...overrides,
  };
  if (!config.authSecret && !config.authJwksUrl) {
    if (production) {
      throw new ConfigError(
        'COUNTERSIGN_AUTH_SECRET',
        'set COUNTERSIGN_AUTH_JWKS_URL (identity provider) or COUNTERSIGN_AUTH_SECRET (HS256)',
      );
    }
    config.authSecret = developmentAuthSecret(config.databasePath);
  }
  return config;
}

/**
 * Outside production, a fresh checkout must start without any setting: the caller-token secret
 * is generated once and kept beside the database, where `countersign token mint` finds it too.
 */
export function developmentAuthSecret(databasePath: string): string {
  const base = databasePath === ':memory:' ? resolve('data', 'countersign.sqlite') : databasePath;
  const file = resolve(dirname(base), 'dev-auth-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
