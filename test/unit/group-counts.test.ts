import { groupCounts } from '../../shared/operations/views';
import { emptyCounts } from '../../shared/domain';

const members = { memberCount: 10, notConfigured: { INVALID_EMAIL: 2, NO_USER_RECORD: 1 } };
const changedAt = '2026-11-26T10:00:00.000Z';

describe('group status counts', () => {
  it('counts every member of a disabled group as disabled, whatever the last summary said', () => {
    const stale = { counts: { ...emptyCounts(), active: 10 }, computedAt: '2026-11-26T11:00:00.000Z', switchAt: changedAt };
    expect(groupCounts({ sync: 'disabled', syncChangedAt: changedAt }, members, stale)).toEqual({ ...emptyCounts(), disabled: 10 });
  });

  it('shows a just-enabled group as pending except the members failing a prerequisite', () => {
    // computed after the switch moved, but for its previous position (a pass that raced the toggle)
    const before = { counts: { ...emptyCounts(), disabled: 10 }, computedAt: '2026-11-26T10:00:01.000Z', switchAt: '2026-11-26T09:00:00.000Z' };
    expect(groupCounts({ sync: 'enabled', syncChangedAt: changedAt }, members, before)).toEqual({ ...emptyCounts(), pending: 7, not_configured: 3 });
  });

  it("uses the reconciler's summary once it was computed for the switch's current position, counting members added since as pending", () => {
    const fresh = { counts: { ...emptyCounts(), active: 5, suspended: 1, not_configured: 3 }, computedAt: '2026-11-26T10:05:00.000Z', switchAt: changedAt };
    expect(groupCounts({ sync: 'enabled', syncChangedAt: changedAt }, members, fresh)).toEqual({ ...emptyCounts(), active: 5, suspended: 1, not_configured: 3, pending: 1 });
  });
});
