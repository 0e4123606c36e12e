import fc from 'fast-check';
import { MEMBER_PREREQUISITES, SYNC_STATUSES, type MailResource } from '../../shared/domain/model';
import { MEMBER_PREREQUISITE_MESSAGES } from '../../shared/domain/prerequisites';
import {
  countStatuses,
  emptyCounts,
  isSyncing,
  resolveStatus,
  wantsSubscriptions,
  type ReconcileState,
  type StatusInput,
} from '../../shared/domain/status';

const now = new Date('2025-06-01T12:00:00Z');
const later = '2025-06-03T12:00:00.000Z';
const earlier = '2025-06-01T11:00:00.000Z';
const resources: MailResource[] = ['events', 'contacts'];

const cleanState: ReconcileState = { consecutiveFailures: 0, suspendedReason: null, lastErrors: [], nextRetryAt: null };
const base: StatusInput = {
  membership: { groupId: 'sales', groupSync: 'enabled', syncChangedAt: '2025-06-01T10:00:00Z' },
  prerequisite: null,
  userEnabled: true,
  state: cleanState,
  subscriptions: [
    { resource: 'events', subscriptionId: 's-ev', expiresAt: later },
    { resource: 'contacts', subscriptionId: 's-co', expiresAt: later },
  ],
  resources,
  now,
};

describe('resolveStatus', () => {
  it('is active when every configured resource has a live subscription, listing every step in order', () => {
    const result = resolveStatus(base);
    expect(result).toMatchObject({ status: 'active', reason: null, syncing: true });
    expect(result.steps.map((s) => s.name)).toEqual([
      'membership',
      'group switch',
      'user switch',
      'member prerequisites',
      'suspension',
      'subscription events',
      'subscription contacts',
    ]);
    expect(result.steps.find((s) => s.name === 'subscription events')?.detail).toContain(later);
  });

  it('is disabled NOT_A_MEMBER without a membership, and stops there', () => {
    const result = resolveStatus({ ...base, membership: null });
    expect(result).toMatchObject({ status: 'disabled', reason: 'NOT_A_MEMBER', syncing: false });
    expect(result.steps.map((s) => s.name)).toEqual(['membership']);
  });

  it('a disabled group beats the user switch, prerequisites and suspension', () => {
    const result = resolveStatus({
      ...base,
      membership: { groupId: 'sales', groupSync: 'disabled', syncChangedAt: '2025-06-01T11:59:00Z' },
      userEnabled: false,
      prerequisite: 'USER_INACTIVE',
      state: { ...cleanState, suspendedReason: 'MAILBOX_NOT_FOUND' },
    });
    expect(result).toMatchObject({ status: 'disabled', reason: 'GROUP_DISABLED', syncing: false });
    expect(result.steps.at(-1)).toMatchObject({ name: 'group switch', ok: false });
  });

  it('the user switch beats prerequisites and suspension', () => {
    const result = resolveStatus({ ...base, userEnabled: false, prerequisite: 'NO_USER_RECORD' });
    expect(result).toMatchObject({ status: 'disabled', reason: 'USER_DISABLED' });
  });

  it('a failing prerequisite is not_configured with that code and the shared (or stored) message', () => {
    expect(resolveStatus({ ...base, prerequisite: 'INVALID_EMAIL' })).toMatchObject({
      status: 'not_configured',
      reason: 'INVALID_EMAIL',
      message: MEMBER_PREREQUISITE_MESSAGES.INVALID_EMAIL,
    });
    expect(resolveStatus({ ...base, prerequisite: 'INVALID_EMAIL', prerequisiteMessage: 'stored text' }).message).toBe('stored text');
  });

  it('a prerequisite failure beats a suspension', () => {
    const state = { ...cleanState, suspendedReason: 'TOO_MANY_FAILURES' as const };
    expect(resolveStatus({ ...base, prerequisite: 'EMPLOYEE_TERMINATED', state }).status).toBe('not_configured');
  });

  it('is suspended with the mailbox reason or TOO_MANY_FAILURES, even with live subscriptions', () => {
    const mailbox = resolveStatus({ ...base, state: { ...cleanState, suspendedReason: 'MAILBOX_ACCESS_DENIED' } });
    expect(mailbox).toMatchObject({ status: 'suspended', reason: 'MAILBOX_ACCESS_DENIED', syncing: false });
    const lastErrors = [{ at: earlier, resource: 'events', code: 'ServiceUnavailable', message: 'try later' }];
    const streak = resolveStatus({ ...base, state: { ...cleanState, consecutiveFailures: 10, suspendedReason: 'TOO_MANY_FAILURES', lastErrors } });
    expect(streak).toMatchObject({ status: 'suspended', reason: 'TOO_MANY_FAILURES' });
    expect(streak.message).toContain('10 consecutive failures');
    expect(streak.message).toContain('ServiceUnavailable');
  });

  it('is pending when a subscription is missing or expired and nothing failed', () => {
    const missing = resolveStatus({ ...base, subscriptions: base.subscriptions.slice(0, 1) });
    expect(missing).toMatchObject({ status: 'pending', reason: 'SUBSCRIPTIONS_PENDING', syncing: true });
    const expired = resolveStatus({ ...base, state: null, subscriptions: [...base.subscriptions.slice(0, 1), { resource: 'contacts', subscriptionId: 's-co', expiresAt: earlier }] });
    expect(expired.status).toBe('pending');
    expect(expired.steps.at(-1)).toMatchObject({ ok: false });
    expect(expired.steps.at(-1)?.detail).toContain('expired');
  });

  it('is with_issues TRANSIENT_FAILURE naming the next retry when failures are pending a retry', () => {
    const state: ReconcileState = { ...cleanState, consecutiveFailures: 2, nextRetryAt: '2025-06-01T12:05:00.000Z' };
    const result = resolveStatus({ ...base, state, subscriptions: [] });
    expect(result).toMatchObject({ status: 'with_issues', reason: 'TRANSIENT_FAILURE', syncing: true });
    expect(result.message).toContain('2025-06-01T12:05:00.000Z');
  });

  it('`syncing` is true exactly for active, pending and with_issues, and wantsSubscriptions agrees with the gates (property)', () => {
    const input = fc.record({
      membership: fc.option(fc.record({ groupId: fc.constant('g'), groupSync: fc.constantFrom('enabled' as const, 'disabled' as const), syncChangedAt: fc.constant(earlier) })),
      prerequisite: fc.option(fc.constantFrom(...MEMBER_PREREQUISITES)),
      userEnabled: fc.boolean(),
      state: fc.option(
        fc.record({
          consecutiveFailures: fc.integer({ min: 0, max: 12 }),
          suspendedReason: fc.option(fc.constantFrom('TOO_MANY_FAILURES' as const, 'MAILBOX_NOT_FOUND' as const, 'MAILBOX_ACCESS_DENIED' as const)),
          lastErrors: fc.constant<ReconcileState['lastErrors']>([]),
          nextRetryAt: fc.option(fc.constantFrom(earlier, later)),
        }),
      ),
      subscriptions: fc.subarray([
        { resource: 'events' as const, subscriptionId: 'a', expiresAt: later },
        { resource: 'contacts' as const, subscriptionId: 'b', expiresAt: earlier },
        { resource: 'contacts' as const, subscriptionId: 'c', expiresAt: later },
      ]),
    });
    fc.assert(
      fc.property(input, (partial) => {
        const result = resolveStatus({ ...partial, resources, now });
        expect(result.syncing).toBe(['active', 'pending', 'with_issues'].includes(result.status));
        expect(result.syncing).toBe(isSyncing(result.status));
        expect(wantsSubscriptions(partial)).toBe(result.syncing);
        expect(result.reason === null).toBe(result.status === 'active');
        if (partial.membership?.groupSync === 'disabled') expect(result.reason).toBe('GROUP_DISABLED');
      }),
    );
  });
});

describe('countStatuses', () => {
  it('counts every status, with zeros for the absent ones', () => {
    expect(emptyCounts()).toEqual(Object.fromEntries(SYNC_STATUSES.map((s) => [s, 0])));
    expect(countStatuses(['active', 'active', 'disabled'])).toEqual({ ...emptyCounts(), active: 2, disabled: 1 });
  });
});
