/**
 * The reconciler, one job per file: `executor` (plan, one provider call, record outcomes),
 * `repair` (our subscription rows against overlapping runs and orphans), `groupPass`
 * (a group's members page by page under a lease), `sweep` (the timer's resync and users
 * outside any group), `release` (a deleted group's members, resumable).
 * This file only routes a queue request to the job.
 */
import type { ReconcileRequest } from '../../ports';
import { reconcileGroup } from './groupPass';
import { reconcileUser } from './executor';
import type { Deps, ReconcileOptions } from './options';
import type { AccessVerdict } from '../../domain/graphAccess';
import { probeGraphAccess } from '../graphAccess';
import { reconcileUsers } from './executor';
import { releaseGroup } from './release';
import { recheckOrphans } from './repair';
import { sweep } from './sweep';
import { reconcileOutsideGroups } from './sweep';
import { repairTenant } from './tenantRepair';

export { policyOf, type Deps, type ReconcileOptions } from './options';
export { reconcileUser, reconcileUsers, type UserRun, type UserTarget } from './executor';
export { PREREQUISITE_MAX_AGE_MS, reconcileGroup, type GroupPass } from './groupPass';
export { reconcileOutsideGroups, sweep } from './sweep';
export { releaseGroup } from './release';
export { repairTenant, ORPHAN_MIN_AGE_MS } from './tenantRepair';

/** The queue trigger's operation: one group pass or one user. */
export async function handleReconcileRequest(deps: Deps, request: ReconcileRequest, options: ReconcileOptions) {
  if (request.groupId) return reconcileGroup(deps, request, options);
  if (request.outsideGroups) return reconcileOutsideGroups(deps, request, options);
  if (request.releaseGroupId) return releaseGroup(deps, request, options);
  if (request.repairOrphans) return repairTenant(deps, request, options);
  if (request.probeGraph) return probe(deps, request, options);
  if (request.employeeId) {
    const stale = request.orphans?.length ? await recheckOrphans(deps, request.employeeId, request.orphans, options.log) : [];
    const removed = [...(request.removedSubscriptionIds ?? []), ...stale];
    const run = await reconcileUser(deps, request.employeeId, { ...options, renew: request.renewSubscriptionIds, removed: removed.length > 0 ? removed : undefined });
    // Out of time inside the provider call: the same request again, in a message of its own.
    if (run.deferred) await deps.storage.reconcileQueue.request({ ...request, reason: 'continuation' });
    return run;
  }
  options.log('reconcile.ignored', { reason: 'no groupId, employeeId or outsideGroups' });
  return undefined;
}

/** The breaker's probe; on recovery every group is swept, so reconciling resumes by itself. */
async function probe(deps: Deps, request: ReconcileRequest, options: ReconcileOptions): Promise<boolean> {
  const ctx = { now: options.now(), log: options.log };
  const recovered = await probeGraphAccess(
    deps,
    async (employeeIds) => {
      let verdict: AccessVerdict = { kind: 'unknown' };
      await reconcileUsers(deps, employeeIds.map((employeeId) => ({ employeeId })), { ...options, probe: true, onAccess: (v) => (verdict = v) });
      return verdict;
    },
    ctx,
  );
  if (recovered) await sweep(deps, { ...options, requestId: request.requestId });
  return recovered;
}
