import { NotFoundError } from '../errors';
import type { Services } from '../services';
import { audit, groupScope, nudge, type OperationContext } from './context';

type Deps = Pick<Services, 'storage'>;

/**
 * `POST /api/groups/{groupId}/sync/force`: clears every suspension in the group and reconciles it.
 * Constant work here whatever the group's size: one audit row and one message; the group's pass
 * clears each suspended member (as a user force does) right before reconciling them.
 */
export async function forceGroupSync(deps: Deps, groupId: string, ctx: OperationContext) {
  const group = await deps.storage.groups.get(groupId);
  if (!group) throw new NotFoundError('GROUP_NOT_FOUND', `Group '${groupId}' does not exist.`);
  await audit(deps.storage.audit, ctx, { action: 'group.force', target: groupId, from: null, to: { suspensions: 'cleared' }, scopes: [groupScope(groupId)] });
  const requested = await nudge(deps.storage.reconcileQueue, ctx, { groupId, reason: 'group.force', clearSuspensions: true });
  return { groupId, reconciliation: { requested } };
}
