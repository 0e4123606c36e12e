import fc from 'fast-check';
import { DEFAULT_BACKOFF, retryAfterWins, retryDelayMs } from '../../shared/domain/backoff';

describe('retryDelayMs', () => {
  it('grows exponentially from 30 s up to the 1 h cap (upper bound of the jitter)', () => {
    const top = () => 0.999999;
    expect(retryDelayMs(1, top)).toBe(29_999);
    expect(retryDelayMs(2, top)).toBe(59_999);
    expect(retryDelayMs(3, top)).toBe(119_999);
    expect(retryDelayMs(20, top)).toBe(3_599_996);
    expect(retryDelayMs(10_000, top)).toBeLessThan(DEFAULT_BACKOFF.maxMs);
  });

  it('is zero with no failures and uses the whole jitter range', () => {
    expect(retryDelayMs(0, () => 0.5)).toBe(0);
    expect(retryDelayMs(3, () => 0)).toBe(0);
    expect(retryDelayMs(3, () => 0.5)).toBe(60_000);
  });

  it('always lies in [0, min(max, base·2^(n−1))) for any policy (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        (failures, r, baseMs, maxMs) => {
          const delay = retryDelayMs(failures, () => r, { baseMs, maxMs });
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.max(1, Math.min(maxMs, baseMs * 2 ** (failures - 1))));
        },
      ),
    );
  });
});

describe('retryAfterWins', () => {
  it('never undercuts the provider Retry-After', () => {
    expect(retryAfterWins(1_000, 20_000)).toBe(20_000);
    expect(retryAfterWins(30_000, 20_000)).toBe(30_000);
    expect(retryAfterWins(5_000, undefined)).toBe(5_000);
    expect(retryAfterWins(5_000, null)).toBe(5_000);
  });
});
