import fc from 'fast-check';
import type { MailResource } from '../../shared/domain/model';
import {
  applyOutcomes,
  clearSuspension,
  initialReconcileState,
  planUser,
  toMailOperation,
  type ActionOutcome,
  type PlanInput,
  type PlannedAction,
  type ProviderResult,
  type ReconcilePolicy,
} from '../../shared/domain';
import { isLive, type HeldSubscription, type ReconcileState } from '../../shared/domain/status';

const MINUTE = 60_000;
const now = new Date('2025-06-01T12:00:00.000Z');
const inMinutes = (minutes: number): string => new Date(now.getTime() + minutes * MINUTE).toISOString();
const policy: ReconcilePolicy = { lifetimeMinutes: 4320, renewalMarginMinutes: 1440, maxFailures: 10 };
const ALL: MailResource[] = ['events', 'contacts', 'messages'];

const baseInput: PlanInput = {
  employeeId: 'E1',
  mailbox: 'e1@example.com',
  desired: true,
  state: null,
  subscriptions: [],
  resources: ['events', 'contacts'],
  now,
  policy,
};
const held = (resource: MailResource, subscriptionId: string, minutesLeft: number): HeldSubscription => ({
  resource,
  subscriptionId,
  expiresAt: inMinutes(minutesLeft),
});

describe('planUser', () => {
  it('creates every missing resource with the configured lifetime', () => {
    expect(planUser(baseInput)).toEqual([
      { kind: 'create', resource: 'events', expiresAt: inMinutes(4320) },
      { kind: 'create', resource: 'contacts', expiresAt: inMinutes(4320) },
    ]);
  });

  it('renews inside the margin, leaves fresh ones alone, forgets and recreates expired ones', () => {
    const actions = planUser({
      ...baseInput,
      resources: ALL,
      subscriptions: [held('events', 'ev', 1439), held('contacts', 'co', 1441), held('messages', 'me', -1)],
    });
    expect(actions).toEqual([
      { kind: 'renew', resource: 'events', subscriptionId: 'ev', expiresAt: inMinutes(4320) },
      { kind: 'forget', resource: 'messages', subscriptionId: 'me' },
      { kind: 'create', resource: 'messages', expiresAt: inMinutes(4320) },
    ]);
  });

  it('deletes live and forgets expired subscriptions when not desired', () => {
    const subscriptions = [held('events', 'ev', 100), held('contacts', 'co', -5)];
    expect(planUser({ ...baseInput, desired: false, subscriptions })).toEqual([
      { kind: 'delete', resource: 'events', subscriptionId: 'ev' },
      { kind: 'forget', resource: 'contacts', subscriptionId: 'co' },
    ]);
  });

  it('treats a suspended user as not desired even when told otherwise', () => {
    const state: ReconcileState = { ...initialReconcileState(), suspendedReason: 'MAILBOX_NOT_FOUND' };
    expect(planUser({ ...baseInput, state, subscriptions: [held('events', 'ev', 100)] })).toEqual([
      { kind: 'delete', resource: 'events', subscriptionId: 'ev' },
    ]);
  });

  it('while waiting for a retry: no creates or renews, but expired records are still forgotten', () => {
    const state: ReconcileState = { ...initialReconcileState(), consecutiveFailures: 1, nextRetryAt: inMinutes(1) };
    const actions = planUser({ ...baseInput, state, subscriptions: [held('events', 'ev', 10), held('contacts', 'co', -10)] });
    expect(actions).toEqual([{ kind: 'forget', resource: 'contacts', subscriptionId: 'co' }]);
  });

  it('deletes subscriptions for resources no longer configured', () => {
    const actions = planUser({ ...baseInput, resources: ['events'], subscriptions: [held('events', 'ev', 3000), held('messages', 'me', 3000)] });
    expect(actions).toEqual([{ kind: 'delete', resource: 'messages', subscriptionId: 'me' }]);
  });

  it('renews on reauthorizationRequired and forgets+recreates on subscriptionRemoved', () => {
    const subscriptions = [held('events', 'ev', 3000), held('contacts', 'co', 3000)];
    const actions = planUser({ ...baseInput, subscriptions, renewNow: ['ev'], removed: ['co'] });
    expect(actions).toEqual([
      { kind: 'renew', resource: 'events', subscriptionId: 'ev', expiresAt: inMinutes(4320) },
      { kind: 'forget', resource: 'contacts', subscriptionId: 'co' },
      { kind: 'create', resource: 'contacts', expiresAt: inMinutes(4320) },
    ]);
  });

  it('deletes a subscription whose clientState is not signed with the current key when it is due for renewal, and only then', () => {
    const subscriptions = [held('events', 'ev', 60), held('contacts', 'co', 3000)];
    expect(planUser({ ...baseInput, subscriptions, replaceAtRenewal: ['ev', 'co'] })).toEqual([{ kind: 'delete', resource: 'events', subscriptionId: 'ev' }]);
    expect(planUser({ ...baseInput, subscriptions, replaceAtRenewal: ['co'] })).toEqual([{ kind: 'renew', resource: 'events', subscriptionId: 'ev', expiresAt: inMinutes(4320) }]);
  });

  it("moves a member's subscriptions when their email changed: delete the old mailbox's, create the new one's", () => {
    const subscriptions = [
      { ...held('events', 'ev', 3000), mailbox: 'old@example.com' },
      { ...held('contacts', 'co', 3000), mailbox: 'E1@Example.com' },
    ];
    expect(planUser({ ...baseInput, subscriptions })).toEqual([
      { kind: 'delete', resource: 'events', subscriptionId: 'ev' },
      { kind: 'create', resource: 'events', expiresAt: inMinutes(4320) },
    ]);
  });

  it('keeps invariants over random states (property)', () => {
    const subscriptionFor = (resource: MailResource) =>
      fc.option(
        fc
          .tuple(fc.integer({ min: -3000, max: 6000 }), fc.constantFrom(undefined, baseInput.mailbox, 'moved@example.com'))
          .map(([left, mailbox]) => ({ ...held(resource, `${resource}-id`, left), ...(mailbox ? { mailbox } : {}) })),
      );
    const arbitrary = fc.record({
      desired: fc.boolean(),
      resources: fc.subarray(ALL),
      subscriptions: fc.tuple(...ALL.map(subscriptionFor)).map((subs) => subs.filter((s): s is HeldSubscription => s !== null)),
      suspended: fc.boolean(),
      retryInMinutes: fc.option(fc.integer({ min: -60, max: 60 })),
      renewNow: fc.subarray(ALL.map((r) => `${r}-id`)),
      removed: fc.subarray(ALL.map((r) => `${r}-id`)),
    });
    fc.assert(
      fc.property(arbitrary, (g) => {
        const state: ReconcileState = {
          consecutiveFailures: g.retryInMinutes === null ? 0 : 1,
          suspendedReason: g.suspended ? 'TOO_MANY_FAILURES' : null,
          lastErrors: [],
          nextRetryAt: g.retryInMinutes === null ? null : inMinutes(g.retryInMinutes),
        };
        const input: PlanInput = { ...baseInput, ...g, state };
        const actions = planUser(input);
        const byResource = (r: MailResource, kind: PlannedAction['kind']) => actions.filter((a) => a.resource === r && a.kind === kind);
        const effectivelyDesired = g.desired && !g.suspended;
        const waiting = g.retryInMinutes !== null && g.retryInMinutes > 0;

        // every held subscription is acted on at most once
        const ids = actions.flatMap((a) => ('subscriptionId' in a ? [a.subscriptionId] : []));
        expect(new Set(ids).size).toBe(ids.length);
        for (const r of ALL) {
          const creates = byResource(r, 'create').length;
          expect(creates).toBeLessThanOrEqual(1);
          if (creates > 0) {
            const existing = g.subscriptions.find((s) => s.resource === r);
            // a delete beside a create only when the held one watches the member's old mailbox
            const movedMailbox = existing?.mailbox === 'moved@example.com';
            expect(byResource(r, 'renew').length + (movedMailbox ? 0 : byResource(r, 'delete').length)).toBe(0);
            // never create where a live subscription for this mailbox exists (unless the provider told us it is gone)
            if (existing && isLive(existing, now) && !movedMailbox) expect(g.removed).toContain(existing.subscriptionId);
          }
        }
        if (!effectivelyDesired) {
          expect(actions.every((a) => a.kind === 'delete' || a.kind === 'forget')).toBe(true);
          expect(actions).toHaveLength(g.subscriptions.length);
        }
        if (waiting) expect(actions.some((a) => a.kind === 'create' || a.kind === 'renew')).toBe(false);
        if (effectivelyDesired && !waiting) {
          // applying the plan successfully leaves exactly one fresh subscription per configured resource
          const after = new Map(g.subscriptions.map((s) => [s.resource, s.expiresAt]));
          for (const a of actions) {
            if (a.kind === 'delete' || a.kind === 'forget') after.delete(a.resource);
            else after.set(a.resource, a.expiresAt);
          }
          expect([...after.keys()].sort()).toEqual([...new Set(g.resources)].sort());
          for (const expiresAt of after.values()) {
            expect(Date.parse(expiresAt) - now.getTime()).toBeGreaterThanOrEqual(policy.renewalMarginMinutes * MINUTE);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('applyOutcomes', () => {
  const create = (resource: MailResource = 'events'): Extract<PlannedAction, { kind: 'create' }> => ({
    kind: 'create',
    resource,
    expiresAt: inMinutes(4320),
  });
  const transient = (extra: Partial<ProviderResult> = {}): ProviderResult => ({
    ok: false,
    failure: 'transient',
    status: 503,
    code: 'ServiceUnavailable',
    message: 'try later',
    ...extra,
  });
  const run = (state: ReconcileState | null, outcomes: ActionOutcome[], random = () => 0.5) =>
    applyOutcomes(state, outcomes, now, policy, random);

  it('records a created subscription and resets the failure streak', () => {
    const state: ReconcileState = { ...initialReconcileState(), consecutiveFailures: 3, nextRetryAt: inMinutes(-1) };
    const effects = run(state, [{ action: create(), result: { ok: true, subscriptionId: 'new', expiresAt: inMinutes(4000) } }]);
    expect(effects.subscriptions.upsert).toEqual([
      { change: 'created', resource: 'events', subscriptionId: 'new', expiresAt: inMinutes(4000), createdAt: now.toISOString() },
    ]);
    expect(effects.state).toMatchObject({ consecutiveFailures: 0, nextRetryAt: null });
  });

  it('records a renewal with the renewal time', () => {
    const action: PlannedAction = { kind: 'renew', resource: 'contacts', subscriptionId: 'co', expiresAt: inMinutes(4320) };
    expect(run(null, [{ action, result: { ok: true } }]).subscriptions.upsert).toEqual([
      { change: 'renewed', resource: 'contacts', subscriptionId: 'co', expiresAt: inMinutes(4320), lastRenewedAt: now.toISOString() },
    ]);
  });

  it('counts a run with a transient failure once and schedules the retry with jittered backoff', () => {
    const effects = run(null, [
      { action: create('events'), result: transient() },
      { action: create('contacts'), result: transient() },
      { action: create('messages'), result: { ok: true, subscriptionId: 'm' } },
    ]);
    expect(effects.state.consecutiveFailures).toBe(1);
    expect(effects.state.nextRetryAt).toBe(new Date(now.getTime() + 15_000).toISOString()); // 0.5 × 30 s
    expect(effects.state.lastErrors.map((e) => e.resource)).toEqual(['events', 'contacts']);
    expect(effects.subscriptions.upsert).toHaveLength(1);
  });

  it("never retries before the provider's Retry-After", () => {
    const effects = run(null, [{ action: create(), result: transient({ retryAfterMs: 120_000 }) }], () => 0);
    expect(effects.state.nextRetryAt).toBe(new Date(now.getTime() + 120_000).toISOString());
  });

  it('suspends with the mailbox reason on a permanent failure', () => {
    const result: ProviderResult = { ok: false, failure: 'permanent', reason: 'MAILBOX_NOT_FOUND', status: 404, code: 'MailboxNotEnabledForRESTAPI', message: 'no mailbox' };
    const effects = run(null, [{ action: create(), result }]);
    expect(effects.state).toMatchObject({ suspendedReason: 'MAILBOX_NOT_FOUND', nextRetryAt: null });
  });

  it('suspends with TOO_MANY_FAILURES when the streak reaches maxFailures', () => {
    const nine: ReconcileState = { ...initialReconcileState(), consecutiveFailures: 9 };
    expect(run(nine, [{ action: create(), result: transient() }]).state).toMatchObject({
      consecutiveFailures: 10,
      suspendedReason: 'TOO_MANY_FAILURES',
      nextRetryAt: null,
    });
  });

  it("hands an 'exists' create over for adoption without counting a failure", () => {
    const state: ReconcileState = { ...initialReconcileState(), consecutiveFailures: 2, nextRetryAt: inMinutes(-1) };
    const result: ProviderResult = { ok: false, failure: 'exists', status: 409, code: 'Conflict', message: 'exists' };
    const effects = run(state, [{ action: create(), result }]);
    expect(effects.needsAdoption).toEqual([create()]);
    expect(effects.state).toEqual(state);
  });

  it("keeps the existing id of an 'exists' for the re-check", () => {
    const result: ProviderResult = { ok: false, failure: 'exists', existingId: 'sub-1', status: 409, code: 'Conflict', message: 'exists' };
    expect(run(null, [{ action: create(), result }]).needsAdoption).toEqual([{ ...create(), existingId: 'sub-1' }]);
  });

  it("charges nobody for 'unavailable' (credentials, permission, an outage): state and rows unchanged, whatever the streak", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), fc.constantFrom('CREDENTIALS', 'UNAUTHORIZED', 'PERMISSION', 'SERVICE'), (streak, cause) => {
        const state: ReconcileState = { ...initialReconcileState(), consecutiveFailures: streak };
        const result = { ok: false, failure: 'unavailable', cause, status: 403, code: 'Authorization_RequestDenied', message: 'denied' } as ProviderResult;
        const effects = run(state, [
          { action: create('events'), result },
          { action: { kind: 'renew', resource: 'contacts', subscriptionId: 'co', expiresAt: inMinutes(4320) }, result },
          { action: { kind: 'delete', resource: 'messages', subscriptionId: 'me' }, result },
        ]);
        expect(effects.state).toEqual(state);
        expect(effects.subscriptions).toEqual({ upsert: [], remove: [] });
      }),
    );
  });

  it("forgets on 'gone': renew (to recreate next run) and delete (removal done)", () => {
    const gone: ProviderResult = { ok: false, failure: 'gone', status: 404, code: 'ResourceNotFound', message: 'gone' };
    const effects = run(null, [
      { action: { kind: 'renew', resource: 'events', subscriptionId: 'ev', expiresAt: inMinutes(4320) }, result: gone },
      { action: { kind: 'delete', resource: 'contacts', subscriptionId: 'co' }, result: gone },
      { action: { kind: 'forget', resource: 'messages', subscriptionId: 'me' }, result: { ok: true } },
    ]);
    expect(effects.subscriptions.remove).toEqual([
      { resource: 'events', subscriptionId: 'ev' },
      { resource: 'contacts', subscriptionId: 'co' },
      { resource: 'messages', subscriptionId: 'me' },
    ]);
    expect(effects.state.consecutiveFailures).toBe(0);
  });

  it('keeps a delete that failed transiently and only the last five errors', () => {
    const state: ReconcileState = {
      ...initialReconcileState(),
      lastErrors: Array.from({ length: 5 }, (_, i) => ({ at: inMinutes(-10), resource: 'events', code: `old${i}`, message: 'old' })),
    };
    const effects = run(state, [{ action: { kind: 'delete', resource: 'events', subscriptionId: 'ev' }, result: transient() }]);
    expect(effects.subscriptions.remove).toEqual([]);
    expect(effects.state.lastErrors.map((e) => e.code)).toEqual(['old1', 'old2', 'old3', 'old4', 'ServiceUnavailable']);
  });

  it('clearSuspension lifts the suspension and the backoff but keeps the errors', () => {
    const lastErrors = [{ at: inMinutes(-1), resource: 'events', code: 'x', message: 'y' }];
    const suspended = { consecutiveFailures: 10, suspendedReason: 'TOO_MANY_FAILURES' as const, lastErrors, nextRetryAt: inMinutes(5), extra: 1 };
    expect(clearSuspension(suspended)).toEqual({ consecutiveFailures: 0, suspendedReason: null, lastErrors, nextRetryAt: null, extra: 1 });
  });
});

describe('toMailOperation', () => {
  it('maps actions to provider operations and forget to none', () => {
    expect(toMailOperation({ kind: 'create', resource: 'events', expiresAt: 'x' }, 'E1', 'm@x.com', 'cs')).toEqual({
      kind: 'create', employeeId: 'E1', mailbox: 'm@x.com', resource: 'events', expiresAt: 'x', clientState: 'cs',
    });
    expect(toMailOperation({ kind: 'delete', resource: 'events', subscriptionId: 's' }, 'E1', 'm', 'cs')).toEqual({ kind: 'delete', employeeId: 'E1', subscriptionId: 's' });
    expect(toMailOperation({ kind: 'forget', resource: 'events', subscriptionId: 's' }, 'E1', 'm', 'cs')).toBeNull();
  });
});
