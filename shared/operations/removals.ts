import { ConflictError } from '../errors';
import type { Services } from '../services';
import { actor, audit, groupScope, nudge, requireGroupEtag, type OperationContext } from './context';
import { holdOf, loadGroupView, requireGroup, statusSummaryFor } from './views';

type Deps = Pick<Services, 'storage'>;

/**
 * An administrator releases a group held by the mass-removal guard. This request writes
 * only its own fact — the confirmation, naming the hold it releases — and nudges the
 * reconciler; the hold itself is the reconciler's, which lets the pass go on and clears it.
 */
export async function confirmRemovals(deps: Deps, groupId: string, ctx: OperationContext, ifMatch: string | null = null) {
  const group = await requireGroup(deps.storage, groupId);
  requireGroupEtag(group, ifMatch);
  const hold = holdOf(group, await statusSummaryFor(deps.storage, group));
  if (!hold) throw new ConflictError('GROUP_NOT_HELD', `Group '${group.id}' is not held by the mass-removal guard: there is nothing to confirm.`);
  await deps.storage.removalConfirmations.put(group.id, { heldAt: hold.heldAt, count: hold.count, by: actor(ctx), at: ctx.now.toISOString() });
  await audit(deps.storage.audit, ctx, {
    action: 'group.confirm_removals',
    target: group.id,
    from: { status: 'held', count: hold.count, heldAt: hold.heldAt, cause: hold.cause },
    to: { status: 'confirmed', count: hold.count },
    scopes: [groupScope(group.id)],
  });
  const requested = await nudge(deps.storage.reconcileQueue, ctx, { groupId: group.id, reason: 'guard.confirmed' });
  return { group: await loadGroupView(deps.storage, group), confirmed: { count: hold.count, heldAt: hold.heldAt }, reconciliation: { requested } };
}
