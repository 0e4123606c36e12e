/**
 * Sign-in throttling (pure): failures are counted per key in a fixed window that opens at the
 * first failure. Once a key reaches its limit, attempts wait until the window closes.
 */
export interface FailureWindow {
  failures: number;
  /** ISO time of the window's first failure */
  windowStart: string;
}

function windowEnd(state: FailureWindow, windowSeconds: number): number {
  return Date.parse(state.windowStart) + windowSeconds * 1000;
}

/** Seconds until this key may try again; 0 when it may try now. */
export function lockedForSeconds(state: FailureWindow | null, now: Date, limit: number, windowSeconds: number): number {
  if (!state || state.failures < limit) return 0;
  const remainingMs = windowEnd(state, windowSeconds) - now.getTime();
  return remainingMs > 0 ? Math.ceil(remainingMs / 1000) : 0;
}

/** The window after one more failure: a closed (or absent) window starts over. */
export function afterFailure(state: FailureWindow | null, now: Date, windowSeconds: number): FailureWindow {
  if (!state || now.getTime() >= windowEnd(state, windowSeconds)) return { failures: 1, windowStart: now.toISOString() };
  return { failures: state.failures + 1, windowStart: state.windowStart };
}
