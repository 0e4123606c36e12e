/**
 * Issue 3 item 6 at the planner level: random sequences of group toggles, membership changes,
 * user switches, prerequisite changes, clock jumps and provider faults; once the faults stop and an
 * admin forces the suspended users, a bounded number of plan → apply rounds leaves exactly one live
 * subscription per (enabled eligible user, resource) at the provider and none for anyone else.
 *
 * The provider is an in-memory fake with Graph's semantics (409 on a duplicate, 404 once expired,
 * lost responses that leave an orphan behind); the planner and reducer run for real.
 */
import fc from 'fast-check';
import type { MailOperation } from '../../shared/ports';
import type { MailResource } from '../../shared/domain/model';
import {
  applyOutcomes,
  clearSuspension,
  planUser,
  toMailOperation,
  type ActionOutcome,
  type OutcomeEffects,
  type ProviderResult,
  type ReconcilePolicy,
} from '../../shared/domain/planner';
import { resolveStatus, wantsSubscriptions, type EligibilityInput, type HeldSubscription, type ReconcileState } from '../../shared/domain/status';

const MINUTE = 60_000;
const RESOURCES: MailResource[] = ['events', 'contacts'];
const POLICY: ReconcilePolicy = { lifetimeMinutes: 4320, renewalMarginMinutes: 1440, maxFailures: 3 };
const MAX_LIFETIME_MINUTES = 10_080;
const USERS = 4;
const GROUPS = 2;

type Fault = 'none' | 'transient' | 'throttled' | 'lostResponse' | 'mailboxMissing' | 'forbidden';

/** Graph's subscription semantics, kept in memory. */
class FakeProvider {
  readonly subscriptions = new Map<string, { mailbox: string; resource: MailResource; expiresAt: number }>();
  private nextId = 1;

  constructor(private readonly clock: () => number) {}

  apply(op: MailOperation, fault: Fault): ProviderResult {
    this.prune();
    const injected = this.injectedFailure(fault);
    if (injected !== null && fault !== 'lostResponse') return injected;
    const result = this.perform(op);
    // A lost response: the provider did the work, the caller never heard back.
    return injected ?? result;
  }

  findExisting(mailbox: string, resource: MailResource): string[] {
    this.prune();
    return [...this.subscriptions].filter(([, s]) => s.mailbox === mailbox && s.resource === resource).map(([id]) => id);
  }

  liveFor(mailbox: string, resource: MailResource): number {
    return this.findExisting(mailbox, resource).length;
  }

  private prune(): void {
    for (const [id, s] of this.subscriptions) if (s.expiresAt <= this.clock()) this.subscriptions.delete(id);
  }

  private cappedExpiry(requested: string): number {
    return Math.min(Date.parse(requested), this.clock() + MAX_LIFETIME_MINUTES * MINUTE);
  }

  private injectedFailure(fault: Fault): ProviderResult | null {
    switch (fault) {
      case 'none':
        return null;
      case 'transient':
      case 'lostResponse':
        return { ok: false, failure: 'transient', status: 503, code: 'ServiceUnavailable', message: 'unavailable' };
      case 'throttled':
        return { ok: false, failure: 'transient', status: 429, code: 'TooManyRequests', message: 'throttled', retryAfterMs: 90_000 };
      case 'mailboxMissing':
        return { ok: false, failure: 'permanent', reason: 'MAILBOX_NOT_FOUND', status: 404, code: 'MailboxNotEnabledForRESTAPI', message: 'no mailbox' };
      case 'forbidden':
        return { ok: false, failure: 'permanent', reason: 'MAILBOX_ACCESS_DENIED', status: 403, code: 'AccessDenied', message: 'denied' };
    }
  }

  private perform(op: MailOperation): ProviderResult {
    const gone: ProviderResult = { ok: false, failure: 'gone', status: 404, code: 'ResourceNotFound', message: 'not found' };
    if (op.kind === 'create') {
      if (this.findExisting(op.mailbox, op.resource).length > 0) {
        return { ok: false, failure: 'exists', status: 409, code: 'Conflict', message: 'already exists' };
      }
      const id = `sub-${this.nextId++}`;
      const expiresAt = this.cappedExpiry(op.expiresAt);
      this.subscriptions.set(id, { mailbox: op.mailbox, resource: op.resource, expiresAt });
      return { ok: true, subscriptionId: id, expiresAt: new Date(expiresAt).toISOString() };
    }
    const existing = this.subscriptions.get(op.subscriptionId);
    if (existing === undefined) return gone;
    if (op.kind === 'delete') {
      this.subscriptions.delete(op.subscriptionId);
      return { ok: true };
    }
    existing.expiresAt = this.cappedExpiry(op.expiresAt);
    return { ok: true, expiresAt: new Date(existing.expiresAt).toISOString() };
  }
}

interface User {
  group: number | null;
  userEnabled: boolean;
  eligible: boolean;
  /** our tables: user state and the subscriptions we hold */
  state: ReconcileState | null;
  held: Map<MailResource, HeldSubscription>;
}

type Event =
  | { kind: 'toggleGroup'; group: number }
  | { kind: 'setMembership'; user: number; group: number | null }
  | { kind: 'toggleUser'; user: number }
  | { kind: 'setEligible'; user: number; eligible: boolean }
  | { kind: 'advance'; minutes: number }
  | { kind: 'force'; user: number }
  | { kind: 'reconcile'; user: number | 'all'; faults: Fault[] };

class World {
  now = Date.parse('2025-06-01T00:00:00Z');
  readonly groupsEnabled: boolean[] = Array.from({ length: GROUPS }, () => false);
  readonly users: User[] = Array.from({ length: USERS }, (_, i) => ({
    group: i % GROUPS,
    userEnabled: true,
    eligible: true,
    state: null,
    held: new Map(),
  }));
  readonly provider = new FakeProvider(() => this.now);
  private faults: Fault[] = ['none'];
  private faultIndex = 0;
  private seed: number;

  constructor(seed: number) {
    this.seed = seed;
  }

  readonly random = (): number => {
    // A tiny LCG: deterministic jitter for a given fast-check seed.
    this.seed = (this.seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return this.seed / 2_147_483_648;
  };

  eligibility(index: number): EligibilityInput {
    const user = this.users[index] as User;
    return {
      membership:
        user.group === null
          ? null
          : { groupId: `g${user.group}`, groupSync: this.groupsEnabled[user.group] ? 'enabled' : 'disabled', syncChangedAt: '' },
      prerequisite: user.eligible ? null : 'USER_INACTIVE',
      userEnabled: user.userEnabled,
      state: user.state,
    };
  }

  apply(event: Event): void {
    const user = 'user' in event && typeof event.user === 'number' ? (this.users[event.user] as User) : undefined;
    switch (event.kind) {
      case 'toggleGroup':
        this.groupsEnabled[event.group] = !this.groupsEnabled[event.group];
        return;
      case 'setMembership':
        (user as User).group = event.group;
        return;
      case 'toggleUser':
        (user as User).userEnabled = !(user as User).userEnabled;
        return;
      case 'setEligible':
        (user as User).eligible = event.eligible;
        return;
      case 'advance':
        this.now += event.minutes * MINUTE;
        return;
      case 'force':
        if ((user as User).state) (user as User).state = clearSuspension((user as User).state as ReconcileState);
        return;
      case 'reconcile':
        this.faults = event.faults.length > 0 ? event.faults : ['none'];
        for (const index of event.user === 'all' ? this.users.keys() : [event.user]) this.reconcile(index);
        return;
    }
  }

  stopFaults(): void {
    this.faults = ['none'];
  }

  private nextFault(): Fault {
    return this.faults[this.faultIndex++ % this.faults.length] as Fault;
  }

  private call(op: MailOperation | null): ProviderResult {
    return op === null ? { ok: true } : this.provider.apply(op, this.nextFault());
  }

  /** One executor run for one user: plan, call the provider, fold the results, write our tables. */
  reconcile(index: number): void {
    const user = this.users[index] as User;
    const employeeId = `E${index}`;
    const mailbox = `e${index}@example.com`;
    const now = new Date(this.now);
    const actions = planUser({
      employeeId,
      mailbox,
      desired: wantsSubscriptions(this.eligibility(index)),
      state: user.state,
      subscriptions: [...user.held.values()],
      resources: RESOURCES,
      now,
      policy: POLICY,
    });
    const outcomes: ActionOutcome[] = actions.map((action) => ({
      action,
      result: this.call(toMailOperation(action, employeeId, mailbox, 'client-state')),
    }));
    const effects = applyOutcomes(user.state, outcomes, now, POLICY, this.random);
    user.state = effects.state;
    this.write(user, effects);
    this.adopt(user, employeeId, mailbox, effects.needsAdoption);
  }

  private write(user: User, effects: OutcomeEffects): void {
    for (const { resource, subscriptionId } of effects.subscriptions.remove) {
      if (user.held.get(resource)?.subscriptionId === subscriptionId) user.held.delete(resource);
    }
    for (const { resource, subscriptionId, expiresAt } of effects.subscriptions.upsert) {
      user.held.set(resource, { resource, subscriptionId, expiresAt });
    }
  }

  /** The executor's part for 'exists': find the orphan from a lost response and take it over by renewing it. */
  private adopt(user: User, employeeId: string, mailbox: string, creates: OutcomeEffects['needsAdoption']): void {
    for (const create of creates) {
      const [orphan] = this.provider.findExisting(mailbox, create.resource);
      if (orphan === undefined) continue;
      const result = this.call({ kind: 'renew', employeeId, subscriptionId: orphan, expiresAt: create.expiresAt });
      if (result.ok) user.held.set(create.resource, { resource: create.resource, subscriptionId: orphan, expiresAt: result.expiresAt ?? create.expiresAt });
    }
  }
}

const userIndex = fc.integer({ min: 0, max: USERS - 1 });
const fault = fc.constantFrom<Fault>('none', 'none', 'transient', 'throttled', 'lostResponse', 'mailboxMissing', 'forbidden');
const event: fc.Arbitrary<Event> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('toggleGroup' as const), group: fc.integer({ min: 0, max: GROUPS - 1 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('setMembership' as const), user: userIndex, group: fc.option(fc.integer({ min: 0, max: GROUPS - 1 })) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('toggleUser' as const), user: userIndex }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('setEligible' as const), user: userIndex, eligible: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), minutes: fc.integer({ min: 1, max: 6000 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('force' as const), user: userIndex }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('reconcile' as const),
      user: fc.oneof(userIndex, fc.constant('all' as const)),
      faults: fc.array(fault, { minLength: 1, maxLength: 5 }),
    }),
    weight: 5,
  },
);

/** Each settling round advances less than the renewal margin (so held subscriptions are renewed in time) but more than
 *  the longest backoff and Retry-After; enough rounds pass for any orphan nobody owns to reach its expiry. */
const SETTLE_STEP_MINUTES = POLICY.renewalMarginMinutes - 1;
const SETTLE_ROUNDS = Math.ceil(POLICY.lifetimeMinutes / SETTLE_STEP_MINUTES) + 2;

function settle(world: World): void {
  world.stopFaults();
  world.users.forEach((_, user) => world.apply({ kind: 'force', user }));
  for (let round = 0; round < SETTLE_ROUNDS; round += 1) {
    world.apply({ kind: 'advance', minutes: SETTLE_STEP_MINUTES });
    world.apply({ kind: 'reconcile', user: 'all', faults: ['none'] });
  }
}

function expectConverged(world: World): void {
  const now = new Date(world.now);
  world.users.forEach((user, index) => {
    const mailbox = `e${index}@example.com`;
    const eligibility = world.eligibility(index);
    const desired = wantsSubscriptions(eligibility);
    for (const resource of RESOURCES) {
      expect({ user: index, resource, live: world.provider.liveFor(mailbox, resource) }).toEqual({ user: index, resource, live: desired ? 1 : 0 });
      // our table agrees with the provider
      expect(user.held.get(resource)?.subscriptionId).toEqual(desired ? world.provider.findExisting(mailbox, resource)[0] : undefined);
    }
    const status = resolveStatus({ ...eligibility, subscriptions: [...user.held.values()], resources: RESOURCES, now });
    expect(status.status === 'active').toBe(desired);
  });
}

describe('reconciliation converges (issue 3 item 6)', () => {
  it('after faults stop, bounded rounds leave exactly one live subscription per (enabled eligible user, resource) and none else', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), fc.integer({ min: 1, max: 2 ** 30 }), (events, seed) => {
        const world = new World(seed);
        for (const e of events) world.apply(e);
        settle(world);
        expectConverged(world);
      }),
      { numRuns: 150 },
    );
  });

  it('converges from the worst start: every group enabled while the provider loses every response', () => {
    const world = new World(7);
    world.apply({ kind: 'toggleGroup', group: 0 });
    world.apply({ kind: 'toggleGroup', group: 1 });
    for (let i = 0; i < 3; i += 1) world.apply({ kind: 'reconcile', user: 'all', faults: ['lostResponse'] });
    expect(world.provider.subscriptions.size).toBe(USERS * RESOURCES.length); // orphans we do not know of
    expect(world.users.every((u) => u.held.size === 0)).toBe(true);
    settle(world);
    expectConverged(world);
    expect(world.users.every((u) => u.held.size === RESOURCES.length)).toBe(true);
  });
});
