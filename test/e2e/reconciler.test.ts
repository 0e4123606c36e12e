/**
 * The reconciler in process, against real adapters: Table Storage and queues on Azurite
 * (a unique prefix per file), the Graph emulator over real HTTP with its validation
 * handshake, and a test clock injected as `now`.
 */
import { handleReconcileRequest, reconcileGroup, reconcileUser } from '../../shared/operations/reconcile';
import { acceptNotifications, hashClientState } from '../../shared/operations/notifications';
import { signClientState } from '../../shared/domain/clientState';
import { handleDeliveryMessage } from '../../shared/operations/deliveries';
import { clientStateKeysFor, createSecretSource } from '../../shared/adapters/secrets';
import { forceUserSync, loadUserSync, putUserSync } from '../../shared/operations/userSync';
import type { MailOperation, MailOperationResult, MailProvider } from '../../shared/ports';
import type { MailResource } from '../../shared/domain/model';
import { startHarness, uniqueSuffix, type Harness } from '../support/reconcile';

const RESOURCES: MailResource[] = ['events', 'contacts', 'messages'];
const MINUTE = 60_000;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    // Short lifetimes keep the clock moves small; one transient retry per operation keeps failing runs quick.
    settings: { SUBSCRIPTION_LIFETIME_MINUTES: '60', SUBSCRIPTION_RENEWAL_MARGIN_MINUTES: '15', GRAPH_WRITE_LIMIT: '2000' },
    provider: { maxTransientRetries: 0 },
  });
});

afterAll(async () => {
  await h?.stop();
});

afterEach(() => {
  h.graph.setFaults({ errorRate: 0, latencyMs: [0, 0] });
});

const employeeIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `T${uniqueSuffix()}${i}`);

async function tableRows(employeeId: string) {
  return (await h.storage.subscriptions.listForUser(employeeId)).map((s) => ({ resource: s.resource, id: s.subscriptionId, expiresAt: s.expiresAt }));
}

/** Exactly one live subscription per resource at the provider, and our table holds exactly those. */
async function expectOnePerResource(employeeId: string): Promise<void> {
  const live = h.liveFor(employeeId);
  expect(live.map((s) => s.resource.split('/').pop()).sort()).toEqual([...RESOURCES].sort());
  const rows = await tableRows(employeeId);
  expect(rows.map((r) => r.id).sort()).toEqual(live.map((s) => s.id).sort());
}

describe('reconciler: renewal before expiry', () => {
  it('renews (PATCH) once less than the margin remains, before the provider would drop the subscription, and moves expiresAt later', async () => {
    const [id] = employeeIds(1) as [string];
    await h.addGroup('enabled', [{ employeeId: id }]);
    await reconcileUser(h.deps, id, h.options());
    const created = await tableRows(id);
    expect(created).toHaveLength(3);

    // 40 of 60 minutes later: 20 remain, more than the 15-minute margin → nothing to do.
    h.clock.advance(40 * MINUTE);
    h.graph.advanceClock(40 * MINUTE);
    const writesBefore = h.graph.stats().writes;
    expect((await reconcileUser(h.deps, id, h.options())).planned).toBe(0);
    expect(h.graph.stats().writes).toBe(writesBefore);

    // 50 minutes: 10 remain → renew all three (three PATCH writes), same ids, expiry 60 min from now.
    h.clock.advance(10 * MINUTE);
    h.graph.advanceClock(10 * MINUTE);
    const run = await reconcileUser(h.deps, id, h.options());
    expect(run).toMatchObject({ planned: 3, failed: 0, status: 'active' });
    expect(h.graph.stats().writes).toBe(writesBefore + 3);
    const renewed = await tableRows(id);
    expect(renewed.map((r) => r.id).sort()).toEqual(created.map((r) => r.id).sort());
    const expected = h.clock.now().getTime() + 60 * MINUTE;
    for (const row of renewed) {
      expect(Date.parse(row.expiresAt)).toBeGreaterThan(Date.parse(created.find((c) => c.id === row.id)?.expiresAt ?? ''));
      expect(Math.abs(Date.parse(row.expiresAt) - expected)).toBeLessThan(MINUTE);
    }
    const provider = h.liveFor(id);
    expect(provider.map((s) => s.expirationDateTime).sort()).toEqual(renewed.map((r) => r.expiresAt).sort());

    // Past the original expiry, the provider still holds them (renewed in time).
    h.graph.advanceClock(15 * MINUTE);
    h.clock.advance(15 * MINUTE);
    expect(h.liveFor(id).map((s) => s.id).sort()).toEqual(created.map((r) => r.id).sort());
    const view = await loadUserSync(h.deps, id, h.clock.now());
    expect(view.status).toBe('active');
    expect(view.subscriptions.every((s) => s.lastRenewedAt !== null)).toBe(true);
  });
});

describe('reconciler: clientState keys', () => {
  const OLD = 'reconciler-test-client-state-key-old-0123456789';
  const NEW = 'reconciler-test-client-state-key-new-0123456789';
  const keys = (...list: string[]) => ({ current: async () => list });

  it('replaces a subscription whose clientState the current key did not sign when it is due for renewal, and hands on its notifications meanwhile', async () => {
    const [id] = employeeIds(1) as [string];
    await h.addGroup('enabled', [{ employeeId: id }]);
    // Created while the old key signed.
    await reconcileUser({ ...h.deps, clientStateKeys: keys(OLD) }, id, h.options());
    const before = h.liveFor(id);
    expect(before.map((s) => s.clientState).sort()).toEqual(RESOURCES.map((r) => signClientState([OLD], { employeeId: id, resource: r })).sort());

    // A rotation in progress ("new,old"): not due for renewal yet → nothing changes, and the old
    // subscription's notifications are still accepted.
    const rotating = { ...h.deps, clientStateKeys: keys(NEW, OLD) };
    expect((await reconcileUser(rotating, id, h.options())).planned).toBe(0);
    const events = before.find((s) => s.resource.endsWith('/events'));
    expect(await intake([{ subscriptionId: events?.id, clientState: events?.clientState, changeType: 'updated', resource: events?.resource }], [NEW, OLD])).toMatchObject({ handed_on: 1 });

    // Due for renewal: deleted and recreated in the same run, signed with the new key.
    h.clock.advance(50 * MINUTE);
    h.graph.advanceClock(50 * MINUTE);
    expect(await reconcileUser(rotating, id, h.options())).toMatchObject({ status: 'active', failed: 0 });
    const after = h.liveFor(id);
    expect(after.map((s) => s.clientState).sort()).toEqual(RESOURCES.map((r) => signClientState([NEW], { employeeId: id, resource: r })).sort());
    expect(after.map((s) => s.id).filter((x) => before.some((b) => b.id === x))).toEqual([]);
    await expectOnePerResource(id);
  });

  it('accepts a notification of a subscription from before signed clientStates by the hash our table holds', async () => {
    const [id] = employeeIds(1) as [string];
    await h.addGroup('enabled', [{ employeeId: id }]);
    await reconcileUser(h.deps, id, h.options());
    const [row] = await h.storage.subscriptions.listForUser(id);
    if (!row) throw new Error('no subscription row');
    // The row as the old code wrote it: the SHA-256 of a random clientState.
    const legacy = 'c3VjaC1hLXJhbmRvbS1vbGQtc3R5bGUtY2xpZW50LXN0YXRl';
    const { etag, ...rest } = row;
    await h.storage.subscriptions.save({ ...rest, clientStateHash: hashClientState(legacy) }, etag);
    const notification = { subscriptionId: row.subscriptionId, changeType: 'updated', resource: `Users/x/${row.resource}/1` };
    expect(await intake([{ ...notification, clientState: legacy }])).toMatchObject({ handed_on: 1 });
    expect(await intake([{ ...notification, clientState: `${legacy}x` }])).toMatchObject({ handed_on: 0, bad_client_state: 1 });
  });
});

describe('reconciler: failures, suspension and force', () => {
  it('suspends with TOO_MANY_FAILURES after 10 consecutive failed runs, stops calling the provider, and force clears it', async () => {
    const [id] = employeeIds(1) as [string];
    await h.addGroup('enabled', [{ employeeId: id }]);
    h.graph.setFaults({ errorRate: 1 });

    for (let run = 1; run <= 10; run++) {
      const result = await reconcileUser(h.deps, id, h.options());
      expect(result.failed).toBe(3);
      const state = await h.storage.userState.get(id);
      expect(state?.consecutiveFailures).toBe(run);
      if (run < 10) {
        expect(result.status).toBe('with_issues');
        // A run inside the backoff makes no provider call (the jittered delay can, rarely, be 0 ms).
        const nextRetryAt = state?.nextRetryAt ?? '';
        if (Date.parse(nextRetryAt) > h.clock.now().getTime()) {
          const requests = h.graph.stats().requests;
          expect((await reconcileUser(h.deps, id, h.options())).planned).toBe(0);
          expect(h.graph.stats().requests).toBe(requests);
        }
        h.clock.passTo(nextRetryAt);
      } else {
        expect(result.status).toBe('suspended');
      }
    }
    const suspended = await loadUserSync(h.deps, id, h.clock.now());
    expect(suspended).toMatchObject({ status: 'suspended', reason: 'TOO_MANY_FAILURES', nextRetryAt: null });
    expect(suspended.message).toMatch(/10 consecutive failures/);
    expect(suspended.lastErrors.at(-1)).toMatchObject({ code: 'ServiceUnavailable' });
    expect(suspended.steps.find((s) => s.name === 'suspension')).toMatchObject({ ok: false });

    // Suspended: later runs leave the provider alone, whatever the clock.
    h.clock.advance(6 * 60 * MINUTE);
    const requests = h.graph.stats().requests;
    expect((await reconcileUser(h.deps, id, h.options())).planned).toBe(0);
    expect(h.graph.stats().requests).toBe(requests);

    // The cause is fixed; an admin forces a sync: the suspension is lifted and the user reconciled from the queue.
    h.graph.setFaults({ errorRate: 0 });
    await h.takeReconcileRequests();
    const forced = await forceUserSync(h.deps, id, h.context());
    expect(forced).toMatchObject({ status: 'pending', reason: 'SUBSCRIPTIONS_PENDING' });
    const requested = await h.takeReconcileRequests();
    expect(requested).toEqual([expect.objectContaining({ employeeId: id, reason: 'user.force' })]);
    for (const request of requested) await handleReconcileRequest(h.deps, request, h.options());
    expect(await loadUserSync(h.deps, id, h.clock.now())).toMatchObject({ status: 'active', reason: null });
    expect((await h.storage.userState.get(id))?.consecutiveFailures).toBe(0);
    await expectOnePerResource(id);
  });
});

describe('reconciler: one owner per fact', () => {
  const mailboxGone = (ops: MailOperation[]): MailOperationResult[] =>
    ops.map(() => ({ ok: false, failure: 'permanent', reason: 'MAILBOX_NOT_FOUND', status: 404, code: 'MailboxNotEnabledForRESTAPI', message: 'mailbox gone' }));

  it('a force made while a run is at the provider is not undone by that run', async () => {
    const [id] = employeeIds(1) as [string];
    await h.addGroup('enabled', [{ employeeId: id }]);
    let release = (): void => undefined;
    let entered = (): void => undefined;
    const atProvider = new Promise<void>((resolve) => (entered = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const mail: MailProvider = {
      apply: async (ops) => {
        entered();
        await gate;
        return mailboxGone(ops);
      },
      listSubscriptions: async () => ({ items: [], next: null }),
    };
    const run = reconcileUser({ ...h.deps, mail }, id, h.options());
    await atProvider;
    await forceUserSync(h.deps, id, h.context());
    release();
    await run;
    const state = await h.storage.userState.get(id);
    expect(state).toMatchObject({ suspendedReason: null, consecutiveFailures: 0, forces: 1 });
    // the run's errors are still shown, for explanation
    expect(state?.lastErrors.map((e) => e.code)).toContain('MailboxNotEnabledForRESTAPI');
    expect((await loadUserSync(h.deps, id, h.clock.now())).status).not.toBe('suspended');

    // A run that starts after the force counts as usual.
    await reconcileUser({ ...h.deps, mail: { apply: async (ops) => mailboxGone(ops), listSubscriptions: async () => ({ items: [], next: null }) } }, id, h.options());
    expect(await h.storage.userState.get(id)).toMatchObject({ suspendedReason: 'MAILBOX_NOT_FOUND', consecutiveFailures: 1 });
  });

  it('the personal switch written during a run survives the run', async () => {
    const [id] = employeeIds(1) as [string];
    await h.addGroup('enabled', [{ employeeId: id }]);
    let release = (): void => undefined;
    let entered = (): void => undefined;
    const atProvider = new Promise<void>((resolve) => (entered = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const mail: MailProvider = {
      apply: async (ops) => {
        entered();
        await gate;
        return mailboxGone(ops);
      },
      listSubscriptions: async () => ({ items: [], next: null }),
    };
    const run = reconcileUser({ ...h.deps, mail }, id, h.options());
    await atProvider;
    await putUserSync(h.deps, { employeeId: id, enabled: false }, h.context());
    release();
    await run;
    expect(await h.storage.userState.get(id)).toMatchObject({ userEnabled: false, suspendedReason: 'MAILBOX_NOT_FOUND' });
  });

  it('a suspension keeps the streak it quotes while later deletes succeed', async () => {
    const [id] = employeeIds(1) as [string];
    await h.addGroup('enabled', [{ employeeId: id }]);
    await reconcileUser({ ...h.deps, mail: { apply: async (ops) => mailboxGone(ops), listSubscriptions: async () => ({ items: [], next: null }) } }, id, h.options());
    // a later run deletes whatever is left (the user is suspended): success does not rewrite the count
    await reconcileUser(h.deps, id, h.options());
    const view = await loadUserSync(h.deps, id, h.clock.now());
    const state = await h.storage.userState.get(id);
    expect(view.status).toBe('suspended');
    expect(state?.consecutiveFailures).toBeGreaterThan(0);
  });
});

describe('reconciler: overlapping runs', () => {
  it('two concurrent runs for one user leave exactly one live subscription per resource, at the provider and in our table', async () => {
    // Eight users at once, two overlapping runs each: the interleavings differ from user to user.
    const ids = employeeIds(8);
    await h.addGroup('enabled', ids.map((employeeId) => ({ employeeId })));
    // Provider latency spreads the answers, so one run's create often lands before the other's is recorded.
    h.graph.setFaults({ latencyMs: [0, 60] });
    const runs = await Promise.all(ids.flatMap((id) => [reconcileUser(h.deps, id, h.options()), reconcileUser(h.deps, id, h.options())]));
    // "Already exists" because of the overlap is resolved, not reported as a failure.
    expect(runs.filter((r) => r.failed > 0)).toEqual([]);
    for (const id of ids) {
      await expectOnePerResource(id);
      // A create answered "already exists" because of the overlap is resolved, not counted against the user.
      expect(await h.storage.userState.get(id)).toMatchObject({ consecutiveFailures: 0, lastErrors: [] });
      // Settled: another run has nothing to do.
      expect((await reconcileUser(h.deps, id, h.options())).planned).toBe(0);
    }
  });

  it('two concurrent group passes create no duplicates for any member', async () => {
    const ids = employeeIds(4);
    const group = await h.addGroup('enabled', ids.map((employeeId) => ({ employeeId })));
    const request = { groupId: group.id, reason: 'test', requestId: 'overlap' };
    const passes = await Promise.all([reconcileGroup(h.deps, request, h.options()), reconcileGroup(h.deps, request, h.options())]);
    expect(passes.map((p) => p.complete)).toEqual([true, true]);
    for (const id of ids) await expectOnePerResource(id);
    const again = await reconcileGroup(h.deps, request, h.options());
    expect(again.counts).toMatchObject({ active: 4, pending: 0, with_issues: 0 });
  });

  it('two concurrent runs after a disable delete everything once and leave nothing behind', async () => {
    const [id] = employeeIds(1) as [string];
    const group = await h.addGroup('enabled', [{ employeeId: id }]);
    await reconcileUser(h.deps, id, h.options());
    await h.storage.groups.update(group.id, { sync: 'disabled', syncChangedAt: h.clock.now().toISOString() }, group.etag);
    const runs = await Promise.all([reconcileUser(h.deps, id, h.options()), reconcileUser(h.deps, id, h.options())]);
    // One run deletes each subscription; the other finds it already gone, which is not a failure.
    expect(runs.map((r) => [r.status, r.failed])).toEqual([['disabled', 0], ['disabled', 0]]);
    expect(h.liveFor(id)).toEqual([]);
    expect(await tableRows(id)).toEqual([]);
  });
});

/** The webhook's intake and the deliveries' consumer in this process, against the harness's storage. */
async function intake(items: unknown[], keys?: string[]): Promise<Record<string, number>> {
  const persisted: Record<string, unknown>[] = [];
  const ctx = h.context();
  const clientStateKeys = keys ? { current: async () => keys } : clientStateKeysFor(h.config, createSecretSource(h.config));
  await acceptNotifications({ storage: { deliveryQueue: { persist: async (m) => void persisted.push(...m) } }, clientStateKeys }, items, ctx);
  const total: Record<string, number> = {};
  for (const message of persisted) {
    const tally = await handleDeliveryMessage(h.deps, message, { log: () => undefined, now: () => ctx.now });
    for (const [k, v] of Object.entries(tally ?? {})) total[k] = (total[k] ?? 0) + v;
  }
  return total;
}

describe('reconciler: a member leaves the group', () => {
  it('drops their notifications at once and deletes their subscriptions on the next run', async () => {
    const [id] = employeeIds(1) as [string];
    const group = await h.addGroup('enabled', [{ employeeId: id }]);
    await reconcileUser(h.deps, id, h.options());
    const [sub] = h.liveFor(id);
    const notification = { subscriptionId: sub?.id, clientState: sub?.clientState, changeType: 'updated', resource: sub?.resource };
    expect(await intake([notification])).toMatchObject({ handed_on: 1 });

    expect(await h.storage.members.remove(group.id, id)).toBe(true);
    expect(await intake([notification])).toMatchObject({ handed_on: 0, dropped_not_syncing: 1 });

    expect(await reconcileUser(h.deps, id, h.options())).toMatchObject({ status: 'disabled', planned: 3, failed: 0 });
    expect(h.liveFor(id)).toEqual([]);
    expect(await tableRows(id)).toEqual([]);
    // With its subscriptions gone, a late notification is from an unknown subscription.
    expect(await intake([notification])).toMatchObject({ unknown_subscription: 1 });
  });
});

describe('reconciler: group pass within a time budget', () => {
  it('hands over to a continuation message when out of time, and the second pass completes the counts', async () => {
    // 101 members: one page of 100 and one of 1. Two eligible (first and last), the rest not configured.
    const base = `C${uniqueSuffix()}`;
    const ids = Array.from({ length: 101 }, (_, i) => `${base}${String(i).padStart(3, '0')}`);
    const eligible = new Set([ids[0], ids[100]]);
    const group = await h.addGroup(
      'enabled',
      ids.map((employeeId) => ({ employeeId, prerequisite: eligible.has(employeeId) ? null : ('NO_USER_RECORD' as const) })),
    );
    await h.takeReconcileRequests();

    // The budget runs out during the first page's provider call: that call still finishes what it started (this
    // provider ignores the deadline, as a call that started everything before it would), and the pass hands over.
    const finishing: MailProvider = { apply: (ops) => h.mail.apply(ops), listSubscriptions: (cursor) => h.mail.listSubscriptions(cursor) };
    const first = await reconcileGroup({ ...h.deps, mail: finishing }, { groupId: group.id, reason: 'test', requestId: 'budget' }, h.options(Date.now() - 1));
    expect(first).toMatchObject({ complete: false, users: 100 });
    expect(first.counts).toMatchObject({ active: 1, not_configured: 99 });
    expect(await h.storage.statusSummaries.get(group.id)).toBeNull();

    const continuation = await h.takeReconcileRequests();
    expect(continuation).toEqual([
      expect.objectContaining({ groupId: group.id, reason: 'continuation', requestId: 'budget', continuationToken: expect.any(String), partialCounts: first.counts }),
    ]);
    const second = await handleReconcileRequest(h.deps, continuation[0] as (typeof continuation)[number], h.options());
    expect(second).toMatchObject({ complete: true, users: 1 });
    const counts = { active: 2, pending: 0, with_issues: 0, suspended: 0, not_configured: 99, disabled: 0 };
    expect(second).toMatchObject({ counts });
    expect((await h.storage.statusSummaries.get(group.id))?.counts).toEqual(counts);
    for (const id of eligible) await expectOnePerResource(id as string);
  });

  it('starts no provider call after the deadline: the page goes whole to a continuation, nobody is charged', async () => {
    const [id] = employeeIds(1) as [string];
    const group = await h.addGroup('enabled', [{ employeeId: id }]);
    await h.takeReconcileRequests();
    const writes = h.graph.stats().writes;
    const first = await reconcileGroup(h.deps, { groupId: group.id, reason: 'test', requestId: 'late' }, h.options(Date.now() - 1));
    expect(first).toMatchObject({ complete: false, users: 0 });
    expect(h.graph.stats().writes).toBe(writes);
    expect(await h.storage.userState.get(id)).toMatchObject({ consecutiveFailures: 0, lastErrors: [], suspendedReason: null });
    const [continuation, ...rest] = await h.takeReconcileRequests();
    expect(rest).toEqual([]);
    expect(continuation).toEqual(expect.objectContaining({ groupId: group.id, reason: 'continuation', requestId: 'late' }));
    expect(continuation?.continuationToken).toBeUndefined();
    expect(await handleReconcileRequest(h.deps, continuation as NonNullable<typeof continuation>, h.options())).toMatchObject({ complete: true, users: 1 });
    await expectOnePerResource(id);
  });
});
