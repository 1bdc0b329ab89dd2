import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimitedError, type RateLimitedOperation } from '../domain/errors.js';

/** A token bucket: `perSecond` sustained, with a reserve of `burst` that refills at that rate. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** The per-caller limits of the operations that cost the most or that an attacker would repeat. */
export interface RateLimitSettings {
  /** Off (`COUNTERSIGN_RATE_LIMIT=off`) for benchmarks and load tests. */
  enabled: boolean;
  requestApproval: RateLimit;
  execute: RateLimit;
  /** Counted per client address, since a failed attempt names no caller. */
  failedAuthentication: RateLimit;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  enabled: true,
  requestApproval: { perSecond: 20, burst: 100 },
  execute: { perSecond: 20, burst: 100 },
  failedAuthentication: { perSecond: 2, burst: 20 },
};

/** Where the buckets are kept: this process's memory, or one Redis every instance shares. */
export interface RateLimitStore {
  /** An ioredis connection (no offline queue, so a down Redis fails at once instead of queueing). */
  redis: Redis;
  /** The keys' prefix (COUNTERSIGN_REDIS_PREFIX), so deployments sharing a Redis keep apart. */
  prefix: string;
}

/** A limiter of `points` per `duration` seconds, in `store` (insured by memory) or in memory. */
function limiter(store: RateLimitStore | undefined, keyPrefix: string, points: number, duration: number): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ keyPrefix, points, duration });
  if (!store) return memory;
  return new RateLimiterRedis({
    storeClient: store.redis,
    keyPrefix: `${store.prefix}limits:${keyPrefix}`,
    points,
    duration,
    // Redis unreachable: each instance keeps the same buckets in its own memory until it is back.
    // The limits still hold per instance (a caller may get N× across N instances for that time),
    // rather than refusing everyone or letting anyone through unlimited.
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
  });
}

/**
 * One operation's limit per key (rate-limiter-flexible): a steady limiter of `perSecond` points
 * per second, and a burst limiter holding `burst` points over the time the steady rate takes to
 * earn them back, drawn on once the second's points are spent (the composition
 * rate-limiter-flexible's BurstyRateLimiter makes, with a check that takes nothing). Kept in
 * Redis when instances share one (COUNTERSIGN_REDIS_URL), so a caller has one bucket however
 * many instances it reaches; otherwise in this process's memory.
 */
export class OperationRateLimit {
  private readonly steady: RateLimiterAbstract | null;
  private readonly burst: RateLimiterAbstract | null;

  constructor(
    private readonly operation: RateLimitedOperation,
    private readonly limit: RateLimit | null,
    store?: RateLimitStore,
  ) {
    this.steady = limit && limiter(store, `${operation}:steady`, limit.perSecond, 1);
    this.burst = limit && limiter(store, `${operation}:burst`, limit.burst, Math.max(1, Math.ceil(limit.burst / limit.perSecond)));
  }

  /** Takes one point for `key`, or throws {@link RateLimitedError} with when to retry. */
  async take(key: string): Promise<void> {
    if (!this.steady || !this.burst) return;
    try {
      await this.steady.consume(key);
    } catch (steadyRefusal) {
      if (!(steadyRefusal instanceof RateLimiterRes)) throw steadyRefusal;
      try {
        await this.burst.consume(key);
      } catch (burstRefusal) {
        if (!(burstRefusal instanceof RateLimiterRes)) throw burstRefusal;
        throw this.refusal(Math.min(steadyRefusal.msBeforeNext, burstRefusal.msBeforeNext));
      }
    }
  }

  /** Throws {@link RateLimitedError} when `key` has no point left, without taking one. */
  async check(key: string): Promise<void> {
    if (!this.steady || !this.burst || !this.limit) return;
    const [steady, burst] = await Promise.all([this.steady.get(key), this.burst.get(key)]);
    if (steady && burst && steady.consumedPoints >= this.limit.perSecond && burst.consumedPoints >= this.limit.burst) {
      throw this.refusal(Math.min(steady.msBeforeNext, burst.msBeforeNext));
    }
  }

  private refusal(msBeforeNext: number): RateLimitedError {
    return new RateLimitedError(this.operation, Math.max(1, Math.ceil(msBeforeNext / 1000)));
  }
}

/** The limits the use cases and the transports apply, built once per server from its settings. */
export class RateLimits {
  readonly requestApproval: OperationRateLimit;
  readonly execute: OperationRateLimit;
  readonly failedAuthentication: OperationRateLimit;

  constructor(settings: RateLimitSettings = DEFAULT_RATE_LIMITS, store?: RateLimitStore) {
    const on = (limit: RateLimit): RateLimit | null => (settings.enabled ? limit : null);
    this.requestApproval = new OperationRateLimit('requestApproval', on(settings.requestApproval), store);
    this.execute = new OperationRateLimit('execute', on(settings.execute), store);
    this.failedAuthentication = new OperationRateLimit('authentication', on(settings.failedAuthentication), store);
  }

  /** No limits at all (the CLI's short-lived commands, and what `enabled: false` amounts to). */
  static none(): RateLimits {
    return new RateLimits({ ...DEFAULT_RATE_LIMITS, enabled: false });
  }
}
