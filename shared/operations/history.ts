import { NotFoundError } from '../errors';
import type { Services } from '../services';
import { groupScope } from './context';

/**
 * The group's audit trail, newest first. It outlives the group: after a delete the
 * trail (ending with `group.delete`) is still served; an id with no trail is unknown.
 */
export async function groupHistory(deps: Pick<Services, 'storage'>, input: { groupId: string; top: number; continuationToken?: string | undefined }) {
  const [group, page] = await Promise.all([deps.storage.groups.get(input.groupId), deps.storage.audit.list(groupScope(input.groupId), input)]);
  if (!group && page.items.length === 0 && !input.continuationToken) {
    throw new NotFoundError('GROUP_NOT_FOUND', `No group with id '${input.groupId}'.`);
  }
  return {
    items: page.items.map((e) => ({ at: e.at, by: e.by, action: e.action, target: e.target, from: e.from, to: e.to, requestId: e.requestId })),
    continuationToken: page.continuationToken,
  };
}
