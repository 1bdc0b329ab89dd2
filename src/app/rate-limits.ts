import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
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

/**
 * One operation's limit, kept per key in this process's memory (rate-limiter-flexible): a steady
 * limiter of `perSecond` points per second, and a burst limiter holding `burst` points over the
 * time the steady rate takes to earn them back, drawn on once the second's points are spent (the
 * composition rate-limiter-flexible's BurstyRateLimiter makes, with a check that takes nothing).
 */
export class OperationRateLimit {
  private readonly steady: RateLimiterMemory | null;
  private readonly burst: RateLimiterMemory | null;

  constructor(
    private readonly operation: RateLimitedOperation,
    private readonly limit: RateLimit | null,
  ) {
    this.steady = limit && new RateLimiterMemory({ keyPrefix: `${operation}:steady`, points: limit.perSecond, duration: 1 });
    this.burst =
      limit &&
      new RateLimiterMemory({
        keyPrefix: `${operation}:burst`,
        points: limit.burst,
        duration: Math.max(1, Math.ceil(limit.burst / limit.perSecond)),
      });
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

  constructor(settings: RateLimitSettings = DEFAULT_RATE_LIMITS) {
    const on = (limit: RateLimit): RateLimit | null => (settings.enabled ? limit : null);
    this.requestApproval = new OperationRateLimit('requestApproval', on(settings.requestApproval));
    this.execute = new OperationRateLimit('execute', on(settings.execute));
    this.failedAuthentication = new OperationRateLimit('authentication', on(settings.failedAuthentication));
  }

  /** No limits at all (the CLI's short-lived commands, and what `enabled: false` amounts to). */
  static none(): RateLimits {
    return new RateLimits({ ...DEFAULT_RATE_LIMITS, enabled: false });
  }
}
