/**
 * Each retry waits this many times longer than the one before: chosen so that, with the default
 * 5 s base, the seven waits between eight attempts add up to an hour (5 s · (2.78⁷ − 1) / 1.78 ≈ 60 min).
 */
export const BACKOFF_FACTOR = 2.78;

/** How far a wait may stray from its step either way: a quarter. */
export const JITTER = 0.25;

/** No retry waits longer than a day, whatever the base. */
const MAX_DELAY_MS = 24 * 3_600_000;

/**
 * The wait before the next attempt after `failedAttempts` consecutive failures (1 after the
 * first): the step `base · 2.78^(n−1)`, give or take a quarter at random (jitter, which keeps
 * senders from hitting a receiver that recovers all at once). With the default 5 s base and 8
 * attempts, the later attempts come about 5 s, 19 s, 58 s, 2.7 min, 7.7 min, 21 min and 60 min
 * after the first; jitter keeps the last between 45 and 75 min, and on average at the hour.
 */
export function retryDelayMs(baseMs: number, failedAttempts: number, random: () => number = Math.random): number {
  const step = baseMs * BACKOFF_FACTOR ** Math.max(0, failedAttempts - 1);
  return Math.round(Math.min(MAX_DELAY_MS, step * (1 - JITTER + 2 * JITTER * random())));
}
