import type { ReconcileRequest } from '../../ports';
import { mapLimited } from '../../util/concurrency';
import { currentGraphAccess, ensureProbe } from '../graphAccess';
import { announceGraphAccess } from '../incidents';
import { describe } from '../../logging';
import { reconcileUsers } from './executor';
import type { Deps, ReconcileOptions } from './options';

/**
 * The timer's resync (controller pattern): every group gets a pass through the queue
 * (scaled out by the platform), and one message starts the scan for users holding
 * subscriptions outside any group (removed members, deleted groups). The Graph breaker
 * gets a probe if it lost its own, and its episode a notice if none was queued.
 */
export async function sweep(deps: Deps, options: ReconcileOptions & { requestId: string }): Promise<{ groups: number }> {
  let groups = 0;
  let token: string | undefined;
  do {
    const page = await deps.storage.groups.list({ top: 200, continuationToken: token });
    await mapLimited(page.items, (g) => deps.storage.reconcileQueue.request({ groupId: g.id, reason: 'sweep', requestId: options.requestId }), 16);
    groups += page.items.length;
    token = page.continuationToken ?? undefined;
  } while (token);
  await deps.storage.reconcileQueue.request({ outsideGroups: true, reason: 'sweep', requestId: options.requestId });
  await ensureProbe(deps, { now: options.now(), log: options.log });
  // Level-triggered: a Graph access episode whose notice the breaker's listener could not queue is told now.
  await announceGraphAccess(deps, await currentGraphAccess(deps, true), options).catch((err: unknown) => options.log('graph.access_announce_failed', { error: describe(err) }));
  // A delete whose release job was lost (the queue was down when it was accepted) is finished here.
  const deleting = await deps.storage.groups.listDeleting();
  await mapLimited(deleting, (groupId) => deps.storage.reconcileQueue.request({ releaseGroupId: groupId, reason: 'sweep', requestId: options.requestId }), 16);
  options.log('reconcile.sweep', { groups, deleting: deleting.length });
  return { groups };
}

/**
 * Users holding subscriptions but in no group, page by page within the time budget;
 * out of time → a continuation message carries on where this run stopped.
 */
export async function reconcileOutsideGroups(deps: Deps, request: ReconcileRequest, options: ReconcileOptions): Promise<{ users: number; complete: boolean }> {
  let users = 0;
  let token = request.continuationToken;
  do {
    const pageStart = token;
    const page = await deps.storage.subscriptions.listUsers({ top: 200, continuationToken: token });
    const memberships = await mapLimited(page.items, (employeeId) => deps.storage.members.groupOf(employeeId), 16);
    const outside = page.items.filter((_, i) => !memberships[i]).map((employeeId) => ({ employeeId }));
    const runs = outside.length > 0 ? await reconcileUsers(deps, outside, options) : [];
    users += outside.length;
    token = page.continuationToken ?? undefined;
    // out of time inside the provider call: this page again (users done plan nothing)
    if (runs.some((r) => r.deferred)) token = pageStart;
    if ((token || runs.some((r) => r.deferred)) && Date.now() > options.deadline) {
      await deps.storage.reconcileQueue.request({ outsideGroups: true, reason: 'continuation', requestId: request.requestId, ...(token ? { continuationToken: token } : {}) });
      options.log('reconcile.outside_groups', { users, complete: false });
      return { users, complete: false };
    }
  } while (token);
  options.log('reconcile.outside_groups', { users, complete: true });
  return { users, complete: true };
}
