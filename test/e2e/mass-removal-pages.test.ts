/**
 * The mass-removal guard on a group too large for one page: the pass runs in pages and hands
 * over to continuation messages, and the removal budget the guard allowed travels with them.
 * Vantagepoint changes its answer after the guard looked (the survey saw every member), and the
 * answer drops people on both pages: the first page takes out what the budget allows, the
 * continuation refuses the second page's refresh (its members stay), and the re-check pass's
 * survey holds the group with one email. Removing members from the held group is not held.
 * A confirmation releases what the administrator saw, not a change that grew past it.
 */
import { removeMember } from '../../shared/operations/members';
import { confirmRemovals } from '../../shared/operations/removals';
import { deliverNotice } from '../../shared/operations/outbox';
import { handleReconcileRequest, PREREQUISITE_MAX_AGE_MS, reconcileGroup } from '../../shared/operations/reconcile';
import type { Mailer, MailProvider, ReconcileRequest, VantagepointDirectory } from '../../shared/ports';
import { employees } from '../support/http';
import { startGuardWorld, type GuardWorld } from '../support/guardWorld';
import { collectingLog, type Harness } from '../support/reconcile';

const MEMBERS = employees(10, 199); // 190 members: a page of 100, then one of 90
const FIRST_PAGE_DROPPED = employees(10, 44); // 35 of the first page
const SECOND_PAGE_DROPPED = employees(110, 144); // 35 of the second page
const DROPPED = new Set([...FIRST_PAGE_DROPPED, ...SECOND_PAGE_DROPPED]);
// 20 % of 190 active members: 38 may go in one pass; 70 would
const LIMIT = 38;
// Later, Vantagepoint's answer loses 25 more of the first page
const MORE = new Set(employees(45, 69));

let h: Harness;
let healthy: VantagepointDirectory;
let broken: VantagepointDirectory;
let worseStill: VantagepointDirectory;
let mailer: Mailer;

let world: GuardWorld;
beforeAll(async () => {
  world = await startGuardWorld([new Set<string>(), DROPPED, new Set([...DROPPED, ...MORE])]);
  ({ h, mailer } = world);
  [healthy, broken, worseStill] = world.directories as [VantagepointDirectory, VantagepointDirectory, VantagepointDirectory];
});

afterAll(async () => {
  await world?.stop();
});

const live = () => h.graph.subscriptions().length;
const prerequisiteOf = async (groupId: string, employeeId: string) => (await h.storage.members.get(groupId, employeeId))?.prerequisite;

let groupId = '';

it('carries the removal budget through the continuations of a large group: the pass never takes out more than the limit, and the re-check holds the group', async () => {
  groupId = (await h.addGroup('enabled', MEMBERS.map((employeeId) => ({ employeeId })))).id;
  expect(await reconcileGroup({ ...h.deps, directory: healthy }, { groupId, reason: 'test', requestId: 'first' }, h.options())).toMatchObject({ complete: true, counts: { active: 190 } });
  expect(live()).toBe(190);
  await h.takeReconcileRequests();

  // An hour on, every member is due for a refresh. The guard's survey (the first question) sees the
  // healthy answer; every page's refresh after it, the truncated one.
  h.clock.advance(PREREQUISITE_MAX_AGE_MS + 60_000);
  let calls = 0;
  const switching: VantagepointDirectory = { ...healthy, employeeFacts: (ids) => (calls++ === 0 ? healthy : broken).employeeFacts(ids) };
  // Out of time after the first page: a provider that finishes what it started, then a continuation.
  const finishing: MailProvider = { apply: (ops) => h.mail.apply(ops), listSubscriptions: (cursor) => h.mail.listSubscriptions(cursor) };
  const first = collectingLog();
  const page1 = await reconcileGroup({ ...h.deps, mail: finishing, directory: switching }, { groupId, reason: 'test', requestId: 'budget' }, { ...h.options(Date.now() - 1), log: first.log });
  expect(page1).toMatchObject({ complete: false, users: 100, counts: { active: 65, not_configured: 35 } });
  expect(live()).toBe(155);
  const [continuation, ...others] = await h.takeReconcileRequests();
  expect(others).toEqual([]);
  expect(continuation).toMatchObject({ groupId, reason: 'continuation', continuationToken: expect.any(String), removalBudget: LIMIT - 35 });

  // The continuation's page would take out 35 more with 3 left: its refresh is refused, nobody on it is removed.
  const queuedBefore = await h.queuedReconcileRequests();
  const second = collectingLog();
  const page2 = await handleReconcileRequest({ ...h.deps, directory: switching }, continuation as ReconcileRequest, { ...h.options(), log: second.log });
  expect(page2).toMatchObject({ complete: true, users: 90, counts: { active: 155, not_configured: 35 } });
  expect(second.events).toContainEqual({ event: 'reconcile.guard_refresh_refused', fields: expect.objectContaining({ groupId, removing: 35, budget: LIMIT - 35 }) });
  expect(live()).toBe(155);
  for (const id of SECOND_PAGE_DROPPED) expect(await prerequisiteOf(groupId, id)).toBeNull();
  for (const id of FIRST_PAGE_DROPPED) expect(await prerequisiteOf(groupId, id)).toBe('NO_USER_RECORD');
  expect(await h.queuedReconcileRequests()).toBe(queuedBefore + 1); // the delayed re-check pass

  // The re-check's survey sees the rest of the change (35 of 155 > 31): the group is held, one email goes out.
  const recheck = await reconcileGroup({ ...h.deps, directory: broken }, { groupId, reason: 'guard.recheck', requestId: 'budget:recheck' }, h.options());
  expect(recheck).toMatchObject({ held: true, users: 0 });
  expect((await h.storage.statusSummaries.get(groupId))?.hold).toMatchObject({ count: 35, activeMembers: 155, limit: 31, byReason: { NO_USER_RECORD: 35 } });
  expect(live()).toBe(155);
  const notices = await h.takeNotices();
  expect(notices.map((n) => n.notice)).toEqual([expect.objectContaining({ cause: 'group_held', groupId, count: 35 })]);
  await deliverNotice({ storage: h.storage, mailer }, notices[0]!, { now: h.clock.now, log: () => undefined });
  const [email, ...again] = h.graph.sentMail().filter((m) => m.body.includes(groupId));
  expect(again).toEqual([]);
  expect(email).toMatchObject({ to: ['ops@contoso.test'], body: expect.stringMatching(/For whom: 35 of the group's 155 active members[^\n]*: E0110 \(E0110\), [^\n]* and 15 more\./) });

  // Removing members is an administrator's explicit act: 40 (more than the limit) leave the held group at once.
  const leaving = employees(150, 189);
  for (const employeeId of leaving) await removeMember({ ...h.deps, directory: healthy }, { groupId, employeeId }, h.context());
  const runs = (await h.takeReconcileRequests()).filter((r) => r.employeeId);
  expect(runs).toHaveLength(40);
  for (const run of runs) await handleReconcileRequest(h.deps, run, h.options());
  expect(live()).toBe(115);
  for (const id of leaving) expect(h.liveFor(id)).toEqual([]);
});

it('lets a confirmation release only what the administrator saw (and the usual limit): a change grown past it is a new hold with its own email', async () => {
  const first = (await h.storage.statusSummaries.get(groupId))?.hold;
  expect(first).toMatchObject({ count: 35 });
  expect(await confirmRemovals(h.deps, groupId, h.context())).toMatchObject({ confirmed: { count: 35 } });

  // An hour on, Vantagepoint loses 25 more: 60 of the 115 active members, over the 35 confirmed plus 23.
  h.clock.advance(PREREQUISITE_MAX_AGE_MS + 60_000);
  const grown = collectingLog();
  expect(await reconcileGroup({ ...h.deps, directory: worseStill }, { groupId, reason: 'guard.confirmed', requestId: 'grown' }, { ...h.options(), log: grown.log })).toMatchObject({ held: true });
  expect(grown.events).toContainEqual({ event: 'reconcile.guard_grew', fields: expect.objectContaining({ confirmed: 35, count: 60, allowed: 35 + 23 }) });
  const second = (await h.storage.statusSummaries.get(groupId))?.hold;
  expect(second).toMatchObject({ count: 60, activeMembers: 115, limit: 23 });
  expect(second?.heldAt).not.toBe(first?.heldAt);
  expect(live()).toBe(115);
  expect((await h.takeNotices()).map((n) => n.notice)).toEqual([expect.objectContaining({ cause: 'group_held', count: 60, episode: `${groupId}@${second?.heldAt}` })]);

  // Confirmed as it now stands, the removals go ahead.
  await confirmRemovals(h.deps, groupId, h.context());
  expect(await reconcileGroup({ ...h.deps, directory: worseStill }, { groupId, reason: 'guard.confirmed', requestId: 'confirmed' }, h.options())).toMatchObject({ complete: true, counts: { active: 55 } });
  expect(live()).toBe(55);
  expect((await h.storage.statusSummaries.get(groupId))?.hold).toBeUndefined();
});
