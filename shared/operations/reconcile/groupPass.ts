import { clearSuspension, countStatuses, emptyCounts, withFacts } from '../../domain';
import { mapLimited } from '../../util/concurrency';
import { currentGraphAccess } from '../graphAccess';
import { updateUserState } from '../userSync';
import type { Member, StatusCounts, SyncStatus } from '../../domain/model';
import { describe } from '../../logging';
import type { ReconcileRequest } from '../../ports';
import { reconcileUsers } from './executor';
import { checkGuard } from './guard';
import { PREREQUISITE_MAX_AGE_MS, type Deps, type ReconcileOptions } from './options';

export { PREREQUISITE_MAX_AGE_MS } from './options';

export interface GroupPass {
  complete: boolean;
  users: number;
  counts: StatusCounts;
  /** the mass-removal guard stopped the pass (nobody was removed) */
  held?: boolean;
}

/**
 * A group pass: members in pages, users reconciled with bounded concurrency, counts
 * accumulated; out of time → a continuation message carries the rest. Memory stays
 * bounded by the page size whatever the group's size.
 */
export async function reconcileGroup(deps: Deps, request: ReconcileRequest, options: ReconcileOptions): Promise<GroupPass> {
  const groupId = request.groupId as string;
  const counts = { ...emptyCounts(), ...(request.partialCounts ?? {}) };
  let group = await deps.storage.groups.get(groupId);
  // A pass belongs to one position of the switch; a toggle since then starts a pass of its own.
  const passOf = request.passOf ?? group?.syncChangedAt;
  const passStartedAt = request.passStartedAt ?? options.now().toISOString();
  const holder = `${request.requestId}|${passOf ?? ''}`;
  if (group && !(await takeTurn(deps, request, holder, passOf, options))) return { complete: false, users: 0, counts };
  let token = request.continuationToken;
  let users = 0;
  let refresh = !request.skipPrerequisiteRefresh;
  let budget = request.removalBudget;
  // The guard looks at the whole pass before its first page; a continuation is part of a pass it already allowed.
  if (group && passOf && group.syncChangedAt === passOf && group.sync === 'enabled' && !token) {
    const verdict = await checkGuard(deps, group, passOf, { ...options, requestId: request.requestId });
    if (!verdict.proceed) {
      await deps.storage.passLeases.release(groupId, holder);
      options.log('reconcile.group', { groupId, complete: false, held: true, count: verdict.hold.count });
      return { complete: false, users: 0, counts, held: true };
    }
    refresh = verdict.refresh;
    budget = verdict.removalBudget;
  }
  while (group && group.syncChangedAt === passOf) {
    const access = await currentGraphAccess(deps);
    if (access.state === 'failing') {
      // Nothing can be done at the provider; the breaker's recovery sweeps every group again.
      await deps.storage.passLeases.release(groupId, holder);
      options.log('reconcile.group', { groupId, complete: false, stopped: 'graph unavailable', cause: access.cause, users });
      return { complete: false, users, counts };
    }
    if (!(await holdLease(deps, groupId, holder, passOf, options))) {
      // A pass for a newer position of the switch took the group over; it covers these members.
      options.log('reconcile.group', { groupId, complete: false, superseded: true, users });
      return { complete: false, users, counts };
    }
    const pageStart = token;
    const page = await deps.storage.members.list(groupId, { top: pageSize(deps, options), continuationToken: token });
    const known = group;
    const claimed = await claimedHere(deps, groupId, page.items, options);
    let members = claimed;
    if (refresh) {
      const refreshed = await refreshPrerequisites(deps, groupId, claimed, options, budget);
      members = refreshed.members;
      if (refreshed.refused) {
        // Vantagepoint changed its answer since the guard looked: the rest of this pass keeps the stored
        // evaluations, and a pass after it surveys again (and holds the group if the change stands).
        refresh = false;
        await deps.storage.reconcileQueue.request({ groupId, reason: 'guard.recheck', requestId: `${request.requestId}:recheck` }, { delaySeconds: BUSY_RETRY_SECONDS });
      } else if (budget !== undefined) {
        budget = Math.max(0, budget - refreshed.removed);
      }
    }
    if (request.clearSuspensions) await clearSuspensions(deps, members, options);
    const runs = await reconcileUsers(deps, members.map((member) => ({ employeeId: member.employeeId, known: { group: known, member } })), options);
    if (runs.some((r) => r.deferred)) {
      // The budget ran out inside the provider call: this page again, in the next message (done users plan nothing).
      await deps.storage.reconcileQueue.request({
        groupId,
        reason: 'continuation',
        requestId: request.requestId,
        ...(pageStart ? { continuationToken: pageStart } : {}),
        partialCounts: counts,
        passOf,
        passStartedAt,
        ...(refresh ? {} : { skipPrerequisiteRefresh: true }),
        ...(budget !== undefined ? { removalBudget: budget } : {}),
      });
      options.log('reconcile.group', { groupId, complete: false, users, counts, deferred: runs.filter((r) => r.deferred).length });
      return { complete: false, users, counts };
    }
    const pageCounts = countStatuses(runs.map((r) => r.status));
    for (const key of Object.keys(counts) as SyncStatus[]) counts[key] += pageCounts[key];
    users += runs.length;
    token = page.continuationToken ?? undefined;
    // Re-read per page (one read per 100 members) so a long pass never acts on a stale switch.
    group = await deps.storage.groups.get(groupId);
    if (!token) {
      if (group && group.syncChangedAt === passOf) await deps.storage.statusSummaries.put(groupId, { counts, computedAt: options.now().toISOString(), switchAt: passOf, passStartedAt });
      await deps.storage.passLeases.release(groupId, holder);
      options.log('reconcile.group', { groupId, complete: true, users, counts });
      return { complete: true, users, counts };
    }
    if (Date.now() > options.deadline) {
      // The lease stays with this pass: its continuation carries on under the same holder.
      await deps.storage.reconcileQueue.request({
        groupId,
        reason: 'continuation',
        requestId: request.requestId,
        continuationToken: token,
        partialCounts: counts,
        passOf,
        passStartedAt,
        ...(refresh ? {} : { skipPrerequisiteRefresh: true }),
        ...(budget !== undefined ? { removalBudget: budget } : {}),
        ...(request.clearSuspensions ? { clearSuspensions: true } : {}),
      });
      options.log('reconcile.group', { groupId, complete: false, users, counts });
      return { complete: false, users, counts };
    }
  }
  await deps.storage.passLeases.release(groupId, holder);
  options.log('reconcile.group', { groupId, complete: false, superseded: true, users });
  return { complete: false, users, counts };
}

const PAGE = 100;
const MIN_PAGE = 5;

/**
 * Members per page: no more than this instance's share of Graph's write limit can serve in the
 * time left (each member may need a write per resource), so a page fits in its invocation even
 * when many instances share the tenant's limit.
 */
export function pageSize(deps: Pick<Deps, 'mail' | 'config'>, options: Pick<ReconcileOptions, 'deadline'>): number {
  const rate = deps.mail.writesPerSecond?.();
  const seconds = (options.deadline - Date.now()) / 1000;
  if (!rate || !(seconds < 3600)) return PAGE;
  const perMember = Math.max(1, deps.config.GRAPH_RESOURCES.length);
  return Math.max(MIN_PAGE, Math.min(PAGE, Math.floor((rate * Math.max(0, seconds)) / perMember)));
}

/**
 * A group force (POST /api/groups/{groupId}/sync/force): each suspended member of the page has
 * their suspension cleared as a user force does (the force count moves with it, so a run that
 * began earlier cannot suspend them again), right before they are reconciled.
 */
async function clearSuspensions(deps: Deps, members: Member[], options: ReconcileOptions): Promise<void> {
  const now = options.now();
  const cleared = await mapLimited(
    members,
    async (m) => {
      const state = await deps.storage.userState.get(m.employeeId);
      if (!state?.suspendedReason && !state?.consecutiveFailures) return 0;
      await updateUserState(deps, m.employeeId, now, (s) => (s.suspendedReason || s.consecutiveFailures ? { ...s, ...clearSuspension(s), forces: s.forces + 1 } : s));
      return 1;
    },
    16,
  );
  options.log('reconcile.suspensions_cleared', { groupId: members[0]?.groupId ?? null, cleared: cleared.reduce((a: number, b: number) => a + b, 0) });
}

/**
 * The claim is the source of truth: a pass acts only on members whose claim names this group.
 * A row whose claim names another group (a move that stopped half-way) or none (an add racing a
 * remove) is repaired by deleting it, so no user is ever reconciled by two groups.
 */
async function claimedHere(deps: Deps, groupId: string, members: Member[], options: ReconcileOptions): Promise<Member[]> {
  if (members.length === 0) return members;
  const claims = await deps.storage.members.claimedGroups(members.map((m) => m.employeeId));
  const strays = members.filter((m) => claims.get(m.employeeId) !== groupId);
  if (strays.length === 0) return members;
  await deps.storage.members.removeRows(groupId, strays);
  options.log('reconcile.membership_repaired', { groupId, rowsRemoved: strays.map((m) => ({ employeeId: m.employeeId, claimedBy: claims.get(m.employeeId) ?? null })) });
  return members.filter((m) => claims.get(m.employeeId) === groupId);
}

/** A lease outlives the time budget a little, so a continuation can pick it up; capped for unbounded test runs. */
const LEASE_SLACK_MS = 60_000;
const MAX_LEASE_MS = 30 * 60_000;

/** A pass that finds the group busy waits its turn this long (a scheduled retry, not the next sweep). */
export const BUSY_RETRY_SECONDS = 5;

function leaseFor(holder: string, passOf: string | undefined, options: ReconcileOptions) {
  const ttl = Math.min(Math.max(options.deadline - Date.now(), 0), MAX_LEASE_MS) + LEASE_SLACK_MS;
  return { holder, passOf, until: new Date(options.now().getTime() + ttl).toISOString() };
}

async function holdLease(deps: Deps, groupId: string, holder: string, passOf: string | undefined, options: ReconcileOptions): Promise<boolean> {
  return (await deps.storage.passLeases.acquire(groupId, leaseFor(holder, passOf, options), options.now())).acquired;
}

/**
 * One pass per group at a time. A sweep finding the group busy is dropped (the running pass
 * covers it); any other request is owed one pass after the running one: the first such request
 * schedules it, later ones are folded into it, and the owed pass itself keeps waiting its turn.
 */
async function takeTurn(deps: Deps, request: ReconcileRequest, holder: string, passOf: string | undefined, options: ReconcileOptions): Promise<boolean> {
  const groupId = request.groupId as string;
  const sweep = request.reason === 'sweep' && !request.followUp;
  const claim = await deps.storage.passLeases.acquire(groupId, leaseFor(holder, passOf, options), options.now(), { followUp: !sweep && !request.continuationToken });
  if (claim.acquired) return true;
  if (sweep || request.continuationToken) {
    options.log('reconcile.group', { groupId, complete: false, skipped: request.continuationToken ? 'superseded by a newer pass' : 'a pass is running' });
    return false;
  }
  if (claim.followUpQueued && !request.followUp) {
    options.log('reconcile.group', { groupId, complete: false, skipped: 'a pass is running; a follow-up pass is already scheduled' });
    return false;
  }
  const { passOf: _p, passStartedAt: _s, partialCounts: _c, ...rest } = request;
  await deps.storage.reconcileQueue.request({ ...rest, followUp: true }, { delaySeconds: BUSY_RETRY_SECONDS });
  options.log('reconcile.group', { groupId, complete: false, deferred: 'a pass is running', retryInSeconds: BUSY_RETRY_SECONDS });
  return false;
}

/**
 * Re-evaluates the prerequisites of members whose last check is older than
 * PREREQUISITE_MAX_AGE_MS, so a fix made in Vantagepoint (an email entered, a user
 * activated) is picked up without re-adding the member. Vantagepoint being down only
 * means the stored evaluation is used this time.
 */
async function refreshPrerequisites(
  deps: Deps,
  groupId: string,
  members: Member[],
  options: ReconcileOptions,
  budget: number | undefined,
): Promise<{ members: Member[]; removed: number; refused?: true }> {
  const now = options.now();
  const stale = members.filter((m) => now.getTime() - Date.parse(m.checkedAt) > PREREQUISITE_MAX_AGE_MS);
  if (!deps.directory || stale.length === 0) return { members, removed: 0 };
  try {
    const facts = await deps.directory.employeeFacts(stale.map((m) => m.employeeId));
    const checkedAt = now.toISOString();
    const updated = stale.map((m) => withFacts(m, facts.get(m.employeeId), checkedAt));
    const removed = updated.filter((m, i) => m.prerequisite !== null && stale[i]?.prerequisite === null).length;
    if (budget !== undefined && removed > budget) {
      options.log('reconcile.guard_refresh_refused', { groupId, removing: removed, budget });
      return { members, removed: 0, refused: true };
    }
    await deps.storage.members.updatePrerequisites(groupId, updated);
    const changed = updated.filter((m, i) => m.prerequisite !== stale[i]?.prerequisite || m.email !== stale[i]?.email).length;
    options.log('reconcile.prerequisites_refreshed', { groupId, checked: updated.length, changed });
    const byId = new Map(updated.map((m) => [m.employeeId, m]));
    return { members: members.map((m) => byId.get(m.employeeId) ?? m), removed };
  } catch (err) {
    options.log('reconcile.prerequisites_refresh_failed', { groupId, error: describe(err) });
    return { members, removed: 0 };
  }
}
