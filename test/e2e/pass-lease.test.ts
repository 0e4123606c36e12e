/**
 * The sweep re-queues every group every few minutes; a long pass must not get a second
 * pass beside it (safe, but it would spend Graph's write budget twice).
 */
import { reconcileGroup } from '../../shared/operations/reconcile';
import { startHarness, uniqueSuffix, type Harness } from '../support/reconcile';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ settings: { GRAPH_RESOURCES: 'events', GRAPH_WRITE_LIMIT: '2000' } });
});

afterAll(async () => {
  await h?.stop();
});

const ids = (n: number) => Array.from({ length: n }, (_, i) => ({ employeeId: `L${uniqueSuffix()}${i}` }));

it('skips a sweep while a pass holds the group, and runs it once the lease is released or expired', async () => {
  const members = ids(3);
  const group = await h.addGroup('enabled', members);
  await h.storage.passLeases.put(group.id, { holder: 'another-pass', until: new Date(h.clock.now().getTime() + 60_000).toISOString() });

  const skipped = await reconcileGroup(h.deps, { groupId: group.id, reason: 'sweep', requestId: 'sweep-1' }, h.options());
  expect(skipped).toMatchObject({ complete: false, users: 0 });
  for (const { employeeId } of members) expect(h.liveFor(employeeId)).toHaveLength(0);

  // A nudge that is not a sweep waits its turn: one pass is owed after the running one, scheduled
  // once (a delayed message), and a second nudge meanwhile is folded into it.
  const before = await h.queuedReconcileRequests();
  expect(await reconcileGroup(h.deps, { groupId: group.id, reason: 'members.add', requestId: 'nudge-1' }, h.options())).toMatchObject({ complete: false, users: 0 });
  expect(await reconcileGroup(h.deps, { groupId: group.id, reason: 'members.add', requestId: 'nudge-2' }, h.options())).toMatchObject({ complete: false, users: 0 });
  expect(await h.queuedReconcileRequests()).toBe(before + 1);
  for (const { employeeId } of members) expect(h.liveFor(employeeId)).toHaveLength(0);
  // The owed pass, arriving while the group is still busy, keeps waiting (it is not folded away).
  expect(await reconcileGroup(h.deps, { groupId: group.id, reason: 'members.add', requestId: 'nudge-1', followUp: true }, h.options())).toMatchObject({ complete: false });
  expect(await h.queuedReconcileRequests()).toBe(before + 2);

  // Once the running pass lets go, the owed pass runs and takes the lease.
  await h.storage.passLeases.release(group.id, 'another-pass');
  const nudged = await reconcileGroup(h.deps, { groupId: group.id, reason: 'members.add', requestId: 'nudge-1', followUp: true }, h.options());
  expect(nudged).toMatchObject({ complete: true, users: 3, counts: { active: 3 } });
  for (const { employeeId } of members) expect(h.liveFor(employeeId)).toHaveLength(1);
  // Done: the lease is released, so the next sweep runs (and finds nothing to do).
  expect(await h.storage.passLeases.get(group.id)).toBeNull();
  expect(await reconcileGroup(h.deps, { groupId: group.id, reason: 'sweep', requestId: 'sweep-2' }, h.options())).toMatchObject({ complete: true, users: 3 });

  // A crashed pass's lease expires on its own.
  await h.storage.passLeases.put(group.id, { holder: 'crashed', until: new Date(h.clock.now().getTime() + 60_000).toISOString() });
  h.clock.advance(61_000);
  expect(await reconcileGroup(h.deps, { groupId: group.id, reason: 'sweep', requestId: 'sweep-3' }, h.options())).toMatchObject({ complete: true });
});

it('releases only its own lease', async () => {
  const group = await h.addGroup('disabled', ids(1));
  await h.storage.passLeases.put(group.id, { holder: 'mine', until: new Date(h.clock.now().getTime() + 60_000).toISOString() });
  await h.storage.passLeases.release(group.id, 'someone-else');
  expect(await h.storage.passLeases.get(group.id)).toMatchObject({ holder: 'mine' });
  await h.storage.passLeases.release(group.id, 'mine');
  expect(await h.storage.passLeases.get(group.id)).toBeNull();
});

it('a pass for a newer position of the switch does not wait for the older pass', async () => {
  const group = await h.addGroup('enabled', ids(2));
  await h.storage.passLeases.put(group.id, { holder: 'old-pass|2000-01-01T00:00:00.000Z', passOf: '2000-01-01T00:00:00.000Z', until: new Date(h.clock.now().getTime() + 60_000).toISOString() });
  const newer = await reconcileGroup(h.deps, { groupId: group.id, reason: 'group.sync.enabled', requestId: 'toggle' }, h.options());
  expect(newer).toMatchObject({ complete: true, users: 2 });
});

it('a continuation whose lease a newer pass took stops without acting', async () => {
  const members = ids(2);
  const group = await h.addGroup('enabled', members);
  const passOf = (await h.storage.groups.get(group.id))?.syncChangedAt;
  await h.storage.passLeases.put(group.id, { holder: 'newer|9999-01-01T00:00:00.000Z', passOf: '9999-01-01T00:00:00.000Z', until: new Date(h.clock.now().getTime() + 60_000).toISOString() });
  const first = await h.storage.members.list(group.id, { top: 1 });
  const stale = await reconcileGroup(
    h.deps,
    { groupId: group.id, reason: 'continuation', requestId: 'old', passOf, continuationToken: first.continuationToken ?? undefined },
    h.options(),
  );
  expect(stale).toMatchObject({ complete: false, users: 0 });
  for (const { employeeId } of members) expect(h.liveFor(employeeId)).toHaveLength(0);
});
