/**
 * Client-side throttling for Microsoft Graph subscription writes.
 *
 * Graph limits subscription writes per app per tenant (500 per 20 s, sliding) and
 * Outlook allows 4 concurrent requests per app per mailbox. Staying just under both
 * is what lets bulk work run at the limit without being throttled.
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Real time; timers are unref'd so a pending wait never keeps a process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) =>
    new Promise((resolve) => {
      setTimeout(resolve, Math.max(0, ms)).unref();
    }),
};

export interface WriteLimiterOptions {
  /** writes allowed per window */
  limit: number;
  windowMs: number;
  /**
   * Extra time a grant stays counted. Requests reach Graph a little after they are
   * granted, and not all with the same delay; without a margin the service can see
   * limit + 1 writes in its own window.
   */
  safetyMarginMs?: number;
  clock?: Clock;
}

/**
 * Sliding-window rate limiter: at most `limit` grants in any window of `windowMs`
 * (+ margin). Waiters are served in arrival order so a large request cannot starve.
 */
export class WriteLimiter {
  /** the configured budget (the tenant's, for Graph writes) */
  readonly capacity: number;
  readonly windowMs: number;
  /** this process's share of the capacity (see TenantShare); the capacity unless shared */
  private share: number;
  private readonly marginMs: number;
  private readonly clock: Clock;
  /** grant times, oldest first, one entry per write */
  private readonly grants: number[] = [];
  private pausedUntil = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: WriteLimiterOptions) {
    if (!(options.limit >= 1) || !(options.windowMs > 0)) throw new RangeError('limit and windowMs must be positive');
    this.capacity = Math.floor(options.limit);
    this.share = this.capacity;
    this.windowMs = options.windowMs;
    this.marginMs = options.safetyMarginMs ?? Math.min(250, options.windowMs * 0.05);
    this.clock = options.clock ?? systemClock;
  }

  /** Writes allowed per window to this process now. */
  get limit(): number {
    return this.share;
  }

  /** Narrows (or widens back) this process's share of the capacity; grants already made still count. */
  setShare(writes: number): void {
    this.share = Math.min(this.capacity, Math.max(1, Math.floor(writes)));
  }

  /** Resolves once `n` writes may be sent now; they count from this moment. */
  acquire(n = 1): Promise<void> {
    if (!Number.isInteger(n) || n < 1 || n > this.capacity) {
      return Promise.reject(new RangeError(`acquire(n) needs 1 <= n <= ${this.capacity}`));
    }
    const turn = this.queue.then(() => this.take(n));
    // The chain must survive a rejected turn, or every later waiter would fail too.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Graph answered 429: hold every writer back for Retry-After. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }

  /** ms left of the current pause (0 when not paused), for diagnostics and tests. */
  pausedForMs(): number {
    return Math.max(0, this.pausedUntil - this.clock.now());
  }

  /** Writes counted in the current window (for diagnostics and tests). */
  inWindow(): number {
    this.prune(this.clock.now());
    return this.grants.length;
  }

  private async take(n: number): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const wait = Math.max(this.pausedUntil - now, this.waitForRoom(now, n));
      if (wait <= 0) {
        for (let i = 0; i < n; i++) this.grants.push(now);
        return;
      }
      await this.clock.sleep(wait);
    }
  }

  /** ms until the oldest grants have aged out far enough to leave room for n more. */
  private waitForRoom(now: number, n: number): number {
    this.prune(now);
    // A batch formed before the share narrowed may be larger than it: it goes once the window is empty.
    const excess = this.grants.length + Math.min(n, this.limit) - this.limit;
    if (excess <= 0) return 0;
    const freeingGrant = this.grants[excess - 1] ?? now;
    return freeingGrant + this.windowMs + this.marginMs - now;
  }

  private prune(now: number): void {
    const horizon = now - this.windowMs - this.marginMs;
    let expired = 0;
    while (expired < this.grants.length && (this.grants[expired] ?? now) <= horizon) expired++;
    if (expired > 0) this.grants.splice(0, expired);
  }
}

/**
 * At most `capacity` holders per key (per-mailbox concurrency). Non-blocking on
 * purpose: the dispatcher skips a busy mailbox and fills the batch with others.
 */
export class KeyedSemaphore {
  private readonly held = new Map<string, number>();
  private waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  tryAcquire(key: string): boolean {
    const count = this.held.get(key) ?? 0;
    if (count >= this.capacity) return false;
    this.held.set(key, count + 1);
    return true;
  }

  release(key: string): void {
    const count = this.held.get(key) ?? 0;
    if (count <= 1) this.held.delete(key);
    else this.held.set(key, count - 1);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  inUse(key: string): number {
    return this.held.get(key) ?? 0;
  }

  /** Resolves at the next release of any key. */
  whenReleased(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Outlook's published per-app, per-mailbox concurrency. */
export const MAILBOX_CONCURRENCY = 4;

/** Graph's GET /subscriptions allowance per tenant. */
export const LIST_LIMIT = { limit: 25, windowMs: 20_000 } as const;

let sharedLimiter: WriteLimiter | undefined;
let sharedListLimiter: WriteLimiter | undefined;
let sharedMailboxes: KeyedSemaphore | undefined;

/**
 * The process-wide write limiter: every provider in the process shares Graph's
 * per-tenant budget, so they must share one limiter.
 */
export function defaultWriteLimiter(sizing: { GRAPH_WRITE_LIMIT: number; GRAPH_WRITE_WINDOW_SECONDS: number }): WriteLimiter {
  const windowMs = sizing.GRAPH_WRITE_WINDOW_SECONDS * 1000;
  if (!sharedLimiter || sharedLimiter.capacity !== sizing.GRAPH_WRITE_LIMIT || sharedLimiter.windowMs !== windowMs) {
    sharedLimiter = new WriteLimiter({ limit: sizing.GRAPH_WRITE_LIMIT, windowMs });
  }
  return sharedLimiter;
}

/** The process-wide limiter for Graph's subscription list endpoint (25 calls per 20 s). */
export function defaultListLimiter(): WriteLimiter {
  sharedListLimiter ??= new WriteLimiter(LIST_LIMIT);
  return sharedListLimiter;
}

/** The process-wide per-mailbox semaphore (same reason as the shared limiter). */
export function defaultMailboxSemaphore(): KeyedSemaphore {
  sharedMailboxes ??= new KeyedSemaphore(MAILBOX_CONCURRENCY);
  return sharedMailboxes;
}
