/**
 * Retry delays for transient mail-provider failures: exponential backoff with full jitter
 * (spreads the retries of many users that failed together, e.g. during a provider outage).
 */

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 30_000, maxMs: 60 * 60_000 };

/**
 * Delay before the next attempt after `consecutiveFailures` failures in a row: uniform in
 * [0, min(maxMs, baseMs · 2^(failures−1))). `random` returns [0, 1) like Math.random.
 */
export function retryDelayMs(consecutiveFailures: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (consecutiveFailures <= 0) return 0;
  // Capping the exponent keeps 2^n finite for absurd failure counts.
  const exponent = Math.min(consecutiveFailures - 1, 52);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}

/** The provider's Retry-After is a floor: our jitter may wait longer, never shorter. */
export function retryAfterWins(delayMs: number, retryAfterMs: number | null | undefined): number {
  return retryAfterMs === null || retryAfterMs === undefined ? delayMs : Math.max(delayMs, retryAfterMs);
}
