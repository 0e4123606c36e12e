import { WriteLimiter, type Clock } from '../../shared/adapters/graph/limiter';
import { TenantShare, type WriterRegistry } from '../../shared/adapters/graph/share';

function fakeClock(): Clock {
  let now = 1_000_000;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      await Promise.resolve();
    },
  };
}

/** Writers that are live at a given time, as the table would answer. */
function registry(others: number): WriterRegistry & { beats: number; fail: boolean } {
  const state = {
    beats: 0,
    fail: false,
    async beat() {
      state.beats++;
      if (state.fail) throw new Error('storage unavailable');
      return others + 1;
    },
  };
  return state;
}

describe('TenantShare', () => {
  it("gives this instance its equal share of the tenant's limit", async () => {
    const limiter = new WriteLimiter({ limit: 500, windowMs: 20_000 });
    await new TenantShare(registry(3), limiter).refresh();
    expect(limiter.capacity).toBe(500);
    expect(limiter.limit).toBe(125);
  });

  it('re-reads the writers at most once per interval, and widens again when others leave', async () => {
    const clock = fakeClock();
    const limiter = new WriteLimiter({ limit: 500, windowMs: 20_000, clock });
    const writers = registry(1);
    const share = new TenantShare(writers, limiter, { now: clock.now, intervalMs: 10_000 });
    await share.refresh();
    await share.refresh();
    expect(writers.beats).toBe(1);
    expect(limiter.limit).toBe(250);

    const alone = registry(0);
    const again = new TenantShare(alone, limiter, { now: clock.now, intervalMs: 10_000 });
    await again.refresh();
    expect(limiter.limit).toBe(500);
  });

  it('keeps the current share when the registry cannot be reached', async () => {
    const limiter = new WriteLimiter({ limit: 500, windowMs: 20_000 });
    const writers = registry(4);
    const share = new TenantShare(writers, limiter, { intervalMs: 0 });
    await share.refresh();
    writers.fail = true;
    await share.refresh();
    expect(limiter.limit).toBe(100);
  });
});

describe('WriteLimiter share', () => {
  it('paces to the narrowed share: never more than the share in any window', async () => {
    const clock = fakeClock();
    const limiter = new WriteLimiter({ limit: 100, windowMs: 1_000, safetyMarginMs: 0, clock });
    limiter.setShare(10);
    const start = clock.now();
    for (let i = 0; i < 5; i++) await limiter.acquire(10);
    // five batches of a full share need four more windows
    expect(clock.now() - start).toBe(4_000);
  });

  it('admits a batch formed before the share narrowed once the window is empty, instead of waiting forever', async () => {
    const clock = fakeClock();
    const limiter = new WriteLimiter({ limit: 100, windowMs: 1_000, safetyMarginMs: 0, clock });
    await limiter.acquire(20);
    limiter.setShare(5);
    await limiter.acquire(20);
    expect(limiter.inWindow()).toBe(20);
  });
});
