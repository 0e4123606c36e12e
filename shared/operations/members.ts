import type { z } from 'zod';
import type * as S from '../api/schemas';
import { withFacts } from '../domain';
import type { Member } from '../domain/model';
import { ConflictError, NotFoundError } from '../errors';
import type { Services } from '../services';
import { actor, audit, groupScope, nudge, userScope, type OperationContext } from './context';
import { mapPage } from '../util/concurrency';
import { loadUserSync } from './userSync';
import { requireGroup } from './views';

type Deps = Pick<Services, 'storage' | 'directory' | 'config'>;

/**
 * Bulk add: evaluates each member's prerequisites against Vantagepoint once, stores
 * them (Table transactions), and answers with one result per id. A member failing a
 * prerequisite is still added — not configured — and never blocks the group.
 */
export async function addMembers(
  deps: Deps,
  input: { groupId: string; body: z.output<typeof S.AddMembersBody> },
  ctx: OperationContext,
) {
  const group = await requireGroup(deps.storage, input.groupId);
  const ids = [...new Set(input.body.employeeIds)];
  const facts = await deps.directory.employeeFacts(ids);
  const at = ctx.now.toISOString();
  const members: Member[] = ids.map((employeeId) =>
    withFacts(
      { groupId: group.id, employeeId, name: '', email: '', prerequisite: null, prerequisiteMessage: '', checkedAt: at, addedAt: at, addedBy: actor(ctx) },
      facts.get(employeeId),
      at,
    ),
  );
  const outcomes = await deps.storage.members.add(group.id, members, { move: input.body.move });
  // A delete accepted while this add ran: its release job may have passed already, so it runs
  // again for what this add wrote (the claims made here count as free meanwhile).
  if (!(await deps.storage.groups.get(group.id))) {
    await nudge(deps.storage.reconcileQueue, ctx, { releaseGroupId: group.id, reason: 'members.add_after_delete' });
    throw new NotFoundError('GROUP_NOT_FOUND', `No group with id '${group.id}'.`);
  }
  const byId = new Map(members.map((m) => [m.employeeId, m]));
  const results = outcomes.map((o) => ({ ...o, prerequisite: byId.get(o.employeeId)?.prerequisite ?? null, message: byId.get(o.employeeId)?.prerequisiteMessage ?? '' }));
  const conflicts = results.filter((r) => r.outcome === 'conflict');
  const changed = results.filter((r) => r.outcome === 'added' || r.outcome === 'moved');
  if (changed.length === 0 && conflicts.length === results.length) {
    throw new ConflictError('MEMBER_IN_OTHER_GROUP', 'Every user is already in another group; send "move": true to move them.', { results });
  }
  const sources = [...new Set(results.flatMap((r) => (r.outcome === 'moved' && r.fromGroupId ? [r.fromGroupId] : [])))];
  if (changed.length > 0) {
    await audit(deps.storage.audit, ctx, {
      action: 'members.add',
      target: group.id,
      from: sources.length > 0 ? { movedFrom: sources } : null,
      to: { added: changed.map((r) => r.employeeId) },
      scopes: [groupScope(group.id), ...sources.map(groupScope)],
    });
  }
  // Membership changes matter to the reconciler only where something may sync or must stop.
  let requested = false;
  if (changed.length > 0) {
    requested = await nudge(deps.storage.reconcileQueue, ctx, { groupId: group.id, reason: 'members.add' });
  }
  return { results, added: changed.length, conflicts: conflicts.length, reconciliationRequested: requested };
}

export async function removeMember(deps: Deps, input: { groupId: string; employeeId: string }, ctx: OperationContext): Promise<void> {
  const group = await requireGroup(deps.storage, input.groupId);
  const removed = await deps.storage.members.remove(group.id, input.employeeId);
  if (!removed) throw new NotFoundError('MEMBER_NOT_FOUND', `'${input.employeeId}' is not a member of group '${group.id}'.`);
  await audit(deps.storage.audit, ctx, {
    action: 'member.remove',
    target: input.employeeId,
    from: { groupId: group.id },
    to: null,
    scopes: [groupScope(group.id), userScope(input.employeeId)],
  });
  await nudge(deps.storage.reconcileQueue, ctx, { employeeId: input.employeeId, reason: 'member.remove' });
}

/** Members with their effective status; a status filter applies within each page (pages may come back short). */
export async function listMembers(
  deps: Deps,
  input: { groupId: string; query: z.output<typeof S.ListMembersQuery> },
  ctx: OperationContext,
) {
  const group = await requireGroup(deps.storage, input.groupId);
  const page = await deps.storage.members.list(group.id, input.query);
  const viewed = await mapPage(page, async (member) => {
    const view = await loadUserSync(deps, member.employeeId, ctx.now, { group, member });
    return { employeeId: member.employeeId, name: member.name, email: member.email, status: view.status, reason: view.reason, message: view.message };
  });
  const issues = await deps.storage.syncIssues.countFor(viewed.items.map((m) => m.employeeId));
  const counted = viewed.items.map((m) => ({ ...m, syncIssues: issues.get(m.employeeId) ?? 0 }));
  const items = input.query.status ? counted.filter((m) => m.status === input.query.status) : counted;
  return { items, continuationToken: viewed.continuationToken };
}
