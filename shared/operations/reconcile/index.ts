/**
 * The reconciler, one job per file: `executor` (plan, one provider call, record outcomes),
 * `repair` (our subscription rows against overlapping runs and orphans), `groupPass`
 * (a group's members page by page under a lease), `sweep` (the timer's resync and users
 * outside any group). This file only routes a queue request to the job.
 */
import type { ReconcileRequest } from '../../ports';
import { reconcileGroup } from './groupPass';
import { reconcileUser } from './executor';
import type { Deps, ReconcileOptions } from './options';
import { reconcileOutsideGroups } from './sweep';

export { policyOf, type Deps, type ReconcileOptions } from './options';
export { reconcileUser, reconcileUsers, type UserRun, type UserTarget } from './executor';
export { PREREQUISITE_MAX_AGE_MS, reconcileGroup, type GroupPass } from './groupPass';
export { reconcileOutsideGroups, sweep } from './sweep';

/** The queue trigger's operation: one group pass or one user. */
export async function handleReconcileRequest(deps: Deps, request: ReconcileRequest, options: ReconcileOptions) {
  if (request.groupId) return reconcileGroup(deps, request, options);
  if (request.outsideGroups) return reconcileOutsideGroups(deps, request, options);
  if (request.employeeId) {
    return reconcileUser(deps, request.employeeId, { ...options, renew: request.renewSubscriptionIds, removed: request.removedSubscriptionIds });
  }
  options.log('reconcile.ignored', { reason: 'no groupId, employeeId or outsideGroups' });
  return undefined;
}
