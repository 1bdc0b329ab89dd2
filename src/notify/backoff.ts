/** Each retry waits this many times longer than the one before. */
export const BACKOFF_FACTOR = 3;

/** No retry waits longer than a day, whatever the base. */
const MAX_DELAY_MS = 24 * 3_600_000;

/**
 * The wait before the next attempt after `failedAttempts` consecutive failures (1 after the
 * first): between half and all of `base · 3^(n−1)`, the random part (jitter) keeping senders
 * from hitting a receiver that recovers all at once. With the default 5 s base and 8 attempts,
 * the later attempts come on average about 4 s, 15 s, 50 s, 2.5 min, 7.5 min, 23 min and 68 min
 * after the first.
 */
export function retryDelayMs(baseMs: number, failedAttempts: number, random: () => number = Math.random): number {
  const full = Math.min(MAX_DELAY_MS, baseMs * BACKOFF_FACTOR ** Math.max(0, failedAttempts - 1));
  return Math.round(full / 2 + random() * (full / 2));
}
