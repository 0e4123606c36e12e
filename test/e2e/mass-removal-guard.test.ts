/**
 * The mass-removal guard end to end: Vantagepoint suddenly answers with a user list that
 * has lost most of a group's members. The pass removes nobody, the group is held with the
 * count and the cause, the administrators get one email (through the Graph emulator); the
 * hold clears by itself once Vantagepoint answers normally again, and an administrator's
 * confirmation lets the removals go ahead. Disabling a group is never held.
 */
import { groupScope } from '../../shared/operations/context';
import { deliverNotice } from '../../shared/operations/outbox';
import { PREREQUISITE_MAX_AGE_MS, reconcileGroup } from '../../shared/operations/reconcile';
import { confirmRemovals } from '../../shared/operations/removals';
import type { Mailer, VantagepointDirectory } from '../../shared/ports';
import { employees } from '../support/http';
import { startGuardWorld, type GuardWorld } from '../support/guardWorld';
import { collectingLog, type Harness } from '../support/reconcile';

const MEMBERS = employees(10, 39); // 30 members
const DROPPED = new Set(employees(10, 34)); // 25 of them vanish from the user list

let h: Harness;
let healthy: VantagepointDirectory;
let broken: VantagepointDirectory;
let mailer: Mailer;

let world: GuardWorld;
beforeAll(async () => {
  world = await startGuardWorld([new Set<string>(), DROPPED]);
  ({ h, mailer } = world);
  [healthy, broken] = world.directories as [VantagepointDirectory, VantagepointDirectory];
});

afterAll(async () => {
  await world?.stop();
});

const pass = (directory: VantagepointDirectory, requestId: string) => {
  const { log, events } = collectingLog();
  return reconcileGroup({ ...h.deps, directory }, { groupId, reason: 'test', requestId }, { ...h.options(), log }).then((result) => ({ result, events }));
};
const live = () => h.graph.subscriptions().length;
const holdOf = async () => (await h.storage.statusSummaries.get(groupId))?.hold ?? null;
let groupId = '';

it('holds the group when Vantagepoint suddenly drops most of its members: nobody is removed, one email goes to the list', async () => {
  groupId = (await h.addGroup('enabled', MEMBERS.map((employeeId) => ({ employeeId })))).id;
  const first = await pass(healthy, 'first');
  expect(first.result).toMatchObject({ complete: true, counts: { active: 30 } });
  expect(live()).toBe(30);

  h.clock.advance(PREREQUISITE_MAX_AGE_MS + 60_000);
  const held = await pass(broken, 'held');
  expect(held.result).toMatchObject({ complete: false, held: true, users: 0 });
  expect(live()).toBe(30);
  for (const id of DROPPED) expect((await h.storage.members.get(groupId, id))?.prerequisite).toBeNull();
  const hold = await holdOf();
  expect(hold).toMatchObject({ count: 25, activeMembers: 30, limit: 10, byReason: { NO_USER_RECORD: 25 }, cause: expect.stringMatching(/25 of 30 active members/) });

  // one notice for the hold, and its email reaches the list through Graph sendMail
  const notices = await h.takeNotices();
  expect(notices.map((n) => n.notice)).toEqual([expect.objectContaining({ cause: 'group_held', groupId, count: 25, episode: `${groupId}@${hold?.heldAt}` })]);
  await deliverNotice({ storage: h.storage, mailer }, notices[0]!, { now: h.clock.now, log: () => undefined });
  expect(h.graph.sentMail().filter((m) => m.subject.includes(groupId) || m.body.includes(groupId))).toEqual([
    expect.objectContaining({ to: ['ops@contoso.test'], body: expect.stringMatching(new RegExp(`confirm-removals[\\s\\S]*`)) }),
  ]);

  // a later check that still sees the mass change keeps the same hold, and emails nobody again
  h.clock.advance(60_000);
  const still = await pass(broken, 'still');
  expect(still.result).toMatchObject({ held: true });
  expect(await holdOf()).toMatchObject({ heldAt: hold?.heldAt, count: 25 });
  expect(await h.takeNotices()).toEqual([]);
  expect(live()).toBe(30);
});

it('clears the hold by itself when a later check no longer sees the mass change', async () => {
  const cleared = await pass(healthy, 'cleared');
  expect(cleared.result).toMatchObject({ complete: true, counts: { active: 30 } });
  expect(cleared.events.map((e) => e.event)).toContain('reconcile.guard_cleared');
  expect(await holdOf()).toBeNull();
  expect(live()).toBe(30);
});

it('holds the pages to the limit too: Vantagepoint changing its answer after the guard looked removes nobody, and a re-check is queued', async () => {
  h.clock.advance(PREREQUISITE_MAX_AGE_MS + 60_000);
  // the guard's survey sees the healthy answer; the page's refresh, a moment later, the truncated one
  let calls = 0;
  const switching: VantagepointDirectory = { ...healthy, employeeFacts: (ids) => (calls++ === 0 ? healthy : broken).employeeFacts(ids) };
  const queued = await h.queuedReconcileRequests();
  const changed = await pass(switching, 'changed-mid-pass');
  expect(calls).toBe(2);
  expect(changed.result).toMatchObject({ complete: true, counts: { active: 30 } });
  expect(changed.events).toContainEqual({ event: 'reconcile.guard_refresh_refused', fields: expect.objectContaining({ groupId, removing: 25, budget: 10 }) });
  expect(live()).toBe(30);
  for (const id of DROPPED) expect((await h.storage.members.get(groupId, id))?.prerequisite).toBeNull();
  // the re-check is a pass of its own (delayed); its guard then sees the change and holds the group
  expect(await h.queuedReconcileRequests()).toBe(queued + 1);
  const recheck = await pass(broken, 'recheck');
  expect(recheck.result).toMatchObject({ held: true });
  expect(live()).toBe(30);
  expect(await h.takeNotices()).toHaveLength(1);
  expect((await pass(healthy, 'healthy-again')).result).toMatchObject({ complete: true, counts: { active: 30 } });
  expect(await holdOf()).toBeNull();
});

it('lets the removals go ahead once an administrator confirms them, audited', async () => {
  h.clock.advance(PREREQUISITE_MAX_AGE_MS + 60_000);
  await pass(broken, 'held-again');
  const hold = await holdOf();
  expect(hold).toMatchObject({ count: 25 });
  expect(await h.takeNotices()).toHaveLength(1); // a new hold is a new episode: one more email

  const confirmed = await confirmRemovals(h.deps, groupId, h.context());
  expect(confirmed).toMatchObject({ confirmed: { count: 25, heldAt: hold?.heldAt }, reconciliation: { requested: true }, group: { hold: { status: 'held' } } });
  const trail = await h.storage.audit.list(groupScope(groupId), { top: 5 });
  expect(trail.items[0]).toMatchObject({ action: 'group.confirm_removals', from: { status: 'held', count: 25 }, to: { status: 'confirmed' } });

  const after = await pass(broken, 'confirmed');
  expect(after.result).toMatchObject({ complete: true, counts: { active: 5, not_configured: 25 } });
  expect(after.events.map((e) => e.event)).toContain('reconcile.guard_confirmed');
  expect(await holdOf()).toBeNull();
  expect(live()).toBe(5);
  // nothing left to confirm
  await expect(confirmRemovals(h.deps, groupId, h.context())).rejects.toMatchObject({ status: 409, code: 'GROUP_NOT_HELD' });
});

it('never holds an explicit admin action: disabling the group removes everyone', async () => {
  const group = await h.storage.groups.get(groupId);
  const at = h.clock.now().toISOString();
  await h.storage.groups.update(groupId, { sync: 'disabled', syncChangedAt: at, updatedAt: at, updatedBy: 'test' }, group!.etag);
  const off = await pass(broken, 'disabled');
  expect(off.result).toMatchObject({ complete: true, counts: { disabled: 30 } });
  expect(off.result.held).toBeUndefined();
  expect(live()).toBe(0);
});
