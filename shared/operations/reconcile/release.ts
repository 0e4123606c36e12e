import type { ReconcileRequest } from '../../ports';
import type { Deps, ReconcileOptions } from './options';

/**
 * The second half of a group deletion, as a queue job: release every member's claim and
 * delete the group's rows, then the group row itself. Every round re-reads, so a crash, a
 * 503 or the time budget running out part-way only means the next delivery (a redelivery
 * or the continuation this run queues) carries on. A group that exists again (re-created
 * after the job finished) is left alone.
 */
export async function releaseGroup(deps: Deps, request: ReconcileRequest, options: ReconcileOptions): Promise<{ removed: number; done: boolean }> {
  const groupId = request.releaseGroupId as string;
  if (await deps.storage.groups.get(groupId)) {
    options.log('reconcile.group_release', { groupId, skipped: 'the group exists' });
    return { removed: 0, done: true };
  }
  const { removed, done } = await deps.storage.members.removeAll(groupId, { until: options.deadline });
  if (!done) {
    await deps.storage.reconcileQueue.request({ releaseGroupId: groupId, reason: 'continuation', requestId: request.requestId });
    options.log('reconcile.group_release', { groupId, removed, complete: false });
    return { removed, done };
  }
  const deleting = await deps.storage.groups.getDeleting(groupId);
  // Optimistic: an ETag that moved means someone else finished the job first.
  if (deleting) await deps.storage.groups.delete(groupId, deleting.etag).catch(() => undefined);
  options.log('reconcile.group_release', { groupId, removed, complete: true });
  return { removed, done };
}
