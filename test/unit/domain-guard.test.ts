import fc from 'fast-check';
import { DEFAULT_GUARD, guardTrips, removalLimit } from '../../shared/domain/guard';

const threshold = fc.record({ percent: fc.integer({ min: 1, max: 100 }), minimum: fc.integer({ min: 0, max: 1000 }) });

describe('mass-removal guard', () => {
  it('defaults to 20 % of the active members, at least 10 people', () => {
    expect(removalLimit(1000, DEFAULT_GUARD)).toBe(200);
    expect(removalLimit(30, DEFAULT_GUARD)).toBe(10);
    expect(guardTrips(201, 1000, DEFAULT_GUARD)).toBe(true);
    expect(guardTrips(200, 1000, DEFAULT_GUARD)).toBe(false);
    // a small group losing everyone is under the 10-person floor
    expect(guardTrips(8, 8, DEFAULT_GUARD)).toBe(false);
    expect(guardTrips(11, 12, DEFAULT_GUARD)).toBe(true);
  });

  it('never trips at or under the minimum, whatever the group size', () => {
    fc.assert(
      fc.property(threshold, fc.integer({ min: 0, max: 100_000 }), (t, active) => {
        expect(guardTrips(t.minimum, active, t)).toBe(false);
      }),
    );
  });

  it('trips when everyone of a group larger than the minimum would go', () => {
    fc.assert(
      fc.property(threshold, fc.integer({ min: 1, max: 100_000 }), (t, extra) => {
        const active = t.minimum + extra;
        // unless the percentage allows everyone (100 %)
        expect(guardTrips(active, active, t)).toBe(t.percent < 100);
      }),
    );
  });

  it('is monotonic: more removals never un-trip it, more active members never trip it', () => {
    fc.assert(
      fc.property(threshold, fc.nat(10_000), fc.nat(10_000), fc.nat(100), (t, active, removing, more) => {
        if (guardTrips(removing, active, t)) expect(guardTrips(removing + more, active, t)).toBe(true);
        if (!guardTrips(removing, active, t)) expect(guardTrips(removing, active + more, t)).toBe(false);
      }),
    );
  });
});
