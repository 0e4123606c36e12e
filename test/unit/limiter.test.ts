import fc from 'fast-check';
import { KeyedSemaphore, WriteLimiter, type Clock } from '../../shared/adapters/graph/limiter';

/** Virtual time: sleeping advances the clock at once, so no test waits for real. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
      await Promise.resolve();
    },
  };
}

/** Largest number of grants falling in any window [t, t + windowMs). */
function busiestWindow(grantTimes: number[], windowMs: number): number {
  const sorted = [...grantTimes].sort((a, b) => a - b);
  let best = 0;
  for (let start = 0, end = 0; start < sorted.length; start++) {
    while (end < sorted.length && (sorted[end] as number) < (sorted[start] as number) + windowMs) end++;
    best = Math.max(best, end - start);
  }
  return best;
}

async function grantAll(limiter: WriteLimiter, clock: Clock, sizes: number[]): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(
    sizes.map(async (n) => {
      await limiter.acquire(n);
      for (let i = 0; i < n; i++) times.push(clock.now());
    }),
  );
  return times;
}

describe('WriteLimiter', () => {
  it('never grants more than the limit in any window, for any mix of request sizes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 30 }), fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 60 }), async (limit, raw) => {
        const clock = fakeClock();
        const windowMs = 1000;
        const limiter = new WriteLimiter({ limit, windowMs, safetyMarginMs: 0, clock });
        const times = await grantAll(limiter, clock, raw.map((n) => Math.min(n, limit)));
        expect(busiestWindow(times, windowMs)).toBeLessThanOrEqual(limit);
      }),
      { numRuns: 150 },
    );
  });

  it('saturates the limit: 5,000 writes at 500 per window are all granted by the start of the 10th window', async () => {
    const clock = fakeClock();
    const start = clock.now();
    const limiter = new WriteLimiter({ limit: 500, windowMs: 20_000, safetyMarginMs: 0, clock });
    await grantAll(limiter, clock, Array.from({ length: 250 }, () => 20)); // 5,000 writes
    // 500 go at once, then 500 per window: the last batch is granted at the start of the 10th window.
    expect(clock.now() - start).toBe(9 * 20_000);
  });

  it('counts a grant for window + safety margin', async () => {
    const clock = fakeClock();
    const limiter = new WriteLimiter({ limit: 2, windowMs: 1000, safetyMarginMs: 100, clock });
    await grantAll(limiter, clock, [2, 1]);
    expect(clock.slept).toEqual([1100]);
  });

  it('serves waiters in arrival order', async () => {
    const clock = fakeClock();
    const limiter = new WriteLimiter({ limit: 3, windowMs: 1000, safetyMarginMs: 0, clock });
    const order: string[] = [];
    await Promise.all(
      (['a', 'b', 'c', 'd'] as const).map((name, i) => limiter.acquire(i === 0 ? 3 : 1).then(() => order.push(name))),
    );
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('holds every writer back while paused by a 429', async () => {
    const clock = fakeClock();
    const limiter = new WriteLimiter({ limit: 100, windowMs: 1000, safetyMarginMs: 0, clock });
    const pausedAt = clock.now();
    limiter.pause(2500);
    await limiter.acquire(1);
    expect(clock.now() - pausedAt).toBe(2500);
  });

  it('rejects a request larger than the limit instead of waiting forever', async () => {
    const limiter = new WriteLimiter({ limit: 5, windowMs: 1000, clock: fakeClock() });
    await expect(limiter.acquire(6)).rejects.toThrow(RangeError);
    await expect(limiter.acquire(1)).resolves.toBeUndefined();
  });
});

describe('KeyedSemaphore (per-mailbox concurrency)', () => {
  it('admits at most 4 holders per mailbox and frees a slot on release', () => {
    const mailboxes = new KeyedSemaphore(4);
    const admitted = Array.from({ length: 6 }, () => mailboxes.tryAcquire('E1'));
    expect(admitted).toEqual([true, true, true, true, false, false]);
    expect(mailboxes.tryAcquire('E2')).toBe(true);
    mailboxes.release('E1');
    expect(mailboxes.inUse('E1')).toBe(3);
    expect(mailboxes.tryAcquire('E1')).toBe(true);
    expect(mailboxes.tryAcquire('E1')).toBe(false);
  });

  it('never exceeds 4 per key under random acquire/release sequences', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.boolean()), { maxLength: 200 }), (steps) => {
        const mailboxes = new KeyedSemaphore(4);
        const held = new Map<string, number>();
        for (const [key, acquire] of steps) {
          const count = held.get(key) ?? 0;
          if (acquire && mailboxes.tryAcquire(key)) held.set(key, count + 1);
          if (!acquire && count > 0) {
            mailboxes.release(key);
            held.set(key, count - 1);
          }
          expect(held.get(key) ?? 0).toBeLessThanOrEqual(4);
          expect(mailboxes.inUse(key)).toBe(held.get(key) ?? 0);
        }
      }),
    );
  });

  it('wakes a waiter when any slot is released', async () => {
    const mailboxes = new KeyedSemaphore(1);
    mailboxes.tryAcquire('E1');
    const woken = mailboxes.whenReleased();
    mailboxes.release('E1');
    await expect(woken).resolves.toBeUndefined();
  });
});
