import type { Services } from '../services';
import type { z } from 'zod';
import type * as S from '../api/schemas';
import { ConflictError } from '../errors';
import { mapPage } from '../util/concurrency';
import { actor, audit, groupScope, nudge, requireGroupEtag, type OperationContext } from './context';
import { loadGroupView, requireGroup, type GroupViewBody } from './views';

type Deps = Pick<Services, 'storage'>;

export async function createGroup(deps: Deps, body: z.output<typeof S.CreateGroupBody>, ctx: OperationContext): Promise<GroupViewBody> {
  await refuseLeftovers(deps, body.id, ctx);
  const at = ctx.now.toISOString();
  const group = await deps.storage.groups.create({
    id: body.id,
    name: body.name,
    description: body.description ?? '',
    mailboxAccess: body.mailboxAccess,
    sync: 'disabled',
    syncChangedAt: at,
    createdAt: at,
    updatedAt: at,
    updatedBy: actor(ctx),
  });
  await audit(deps.storage.audit, ctx, {
    action: 'group.create',
    target: group.id,
    from: null,
    to: { name: group.name, description: group.description, mailboxAccess: group.mailboxAccess, sync: group.sync },
    scopes: [groupScope(group.id)],
  });
  return loadGroupView(deps.storage, group);
}

/**
 * An add still writing when its group's release job passed leaves member rows behind (it queues
 * another release as it finds the group gone). Until that job has run the id is still being
 * released: a group re-created over those rows would inherit people nobody added to it.
 */
async function refuseLeftovers(deps: Deps, groupId: string, ctx: OperationContext): Promise<void> {
  if (await deps.storage.groups.get(groupId)) return; // create answers that conflict itself
  if ((await deps.storage.members.summary(groupId)).memberCount === 0) return;
  await nudge(deps.storage.reconcileQueue, ctx, { releaseGroupId: groupId, reason: 'group.create_over_leftovers' });
  throw new ConflictError('GROUP_DELETING', `Group '${groupId}' is still being deleted (its members are being released); retry shortly.`);
}

export async function listGroups(deps: Deps, query: z.output<typeof S.ListGroupsQuery>) {
  const page = await deps.storage.groups.list(query);
  return mapPage(page, (g) => loadGroupView(deps.storage, g));
}

export async function getGroup(deps: Deps, groupId: string): Promise<GroupViewBody> {
  return loadGroupView(deps.storage, await requireGroup(deps.storage, groupId));
}

export async function patchGroup(
  deps: Deps,
  input: { groupId: string; body: z.output<typeof S.PatchGroupBody>; ifMatch: string | null },
  ctx: OperationContext,
): Promise<GroupViewBody> {
  const group = await requireGroup(deps.storage, input.groupId);
  requireGroupEtag(group, input.ifMatch);
  const patch = {
    ...(input.body.name !== undefined ? { name: input.body.name } : {}),
    ...(input.body.description !== undefined ? { description: input.body.description } : {}),
  };
  // Without If-Match the read ETag still guards the write: a concurrent change is a 412, never overwritten.
  const updated = await deps.storage.groups.update(group.id, { ...patch, updatedAt: ctx.now.toISOString(), updatedBy: actor(ctx) }, group.etag);
  await audit(deps.storage.audit, ctx, {
    action: 'group.update',
    target: group.id,
    from: { ...(patch.name !== undefined ? { name: group.name } : {}), ...(patch.description !== undefined ? { description: group.description } : {}) },
    to: patch,
    scopes: [groupScope(group.id)],
  });
  return loadGroupView(deps.storage, updated);
}

export async function deleteGroup(deps: Deps, input: { groupId: string; ifMatch: string | null }, ctx: OperationContext): Promise<void> {
  const group = await requireGroup(deps.storage, input.groupId);
  requireGroupEtag(group, input.ifMatch);
  if (group.sync === 'enabled') {
    throw new ConflictError('GROUP_ENABLED', `Group '${group.id}' is enabled; disable synchronization before deleting it.`);
  }
  // Marked first (guarded by its ETag, so a concurrent enable wins): from here the group is gone for
  // every reader, adds to it answer 404 and its members' claims count as free. A queued release job
  // removes the members and then the row; it resumes where it stopped if it fails or runs out of time,
  // and the sweep re-queues it for a group left marked (e.g. the queue was down just now).
  const { memberCount } = await deps.storage.members.summary(group.id);
  await deps.storage.groups.markDeleting(group.id, group.etag, ctx.now.toISOString());
  await audit(deps.storage.audit, ctx, {
    action: 'group.delete',
    target: group.id,
    from: { name: group.name, memberCount },
    to: null,
    scopes: [groupScope(group.id)],
  });
  await nudge(deps.storage.reconcileQueue, ctx, { releaseGroupId: group.id, reason: 'group.delete' });
}
