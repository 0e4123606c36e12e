import { emptyCounts } from '../domain';
import type { Group, StatusCounts } from '../domain/model';
import type { Storage } from '../adapters/tables';
import type { MemberSummary, StatusSummary } from '../ports';
import { NotFoundError } from '../errors';

export interface GroupViewBody {
  id: string;
  name: string;
  description: string;
  mailboxAccess: Group['mailboxAccess'];
  sync: Group['sync'];
  counts: StatusCounts;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
  etag: string;
  /** the mass-removal guard stopped the group's synchronization pass; null otherwise */
  hold: GroupHoldView | null;
}

export interface GroupHoldView {
  status: 'held';
  count: number;
  activeMembers: number;
  limit: number;
  byReason: Record<string, number>;
  cause: string;
  heldAt: string;
  checkedAt: string;
}

/** A hold belongs to the switch position its pass ran for; a disabled group is never held. */
export function holdOf(group: Pick<Group, 'sync' | 'syncChangedAt'>, status: StatusSummary | null): GroupHoldView | null {
  const hold = group.sync === 'enabled' && status?.switchAt === group.syncChangedAt ? status.hold : null;
  if (!hold) return null;
  const { heldAt, checkedAt, count, activeMembers, limit, byReason, cause } = hold;
  return { status: 'held', count, activeMembers, limit, byReason, cause, heldAt, checkedAt };
}

const total = (counts: Partial<Record<string, number>>) => Object.values(counts).reduce<number>((a, b) => a + (b ?? 0), 0);

/**
 * Status counts of a group without reading its members: a disabled group's members
 * are all disabled at once; an enabled group uses the reconciler's last summary when
 * it was computed for the switch's current position, otherwise (just enabled) everyone eligible is pending.
 * Members added since the summary are counted as pending so the total is always right.
 */
export function groupCounts(group: Pick<Group, 'sync' | 'syncChangedAt'>, members: MemberSummary, status: StatusSummary | null): StatusCounts {
  const counts = emptyCounts();
  if (group.sync === 'disabled') {
    counts.disabled = members.memberCount;
    return counts;
  }
  if (status && status.switchAt === group.syncChangedAt) {
    Object.assign(counts, status.counts);
  } else {
    counts.not_configured = total(members.notConfigured);
  }
  counts.pending += Math.max(0, members.memberCount - total(counts));
  return counts;
}

export function toGroupView(group: Group, members: MemberSummary, status: StatusSummary | null): GroupViewBody {
  return {
    id: group.id,
    name: group.name,
    description: group.description,
    mailboxAccess: group.mailboxAccess,
    sync: group.sync,
    counts: groupCounts(group, members, status),
    memberCount: members.memberCount,
    createdAt: group.createdAt,
    updatedAt: group.updatedAt,
    updatedBy: group.updatedBy,
    etag: group.etag,
    hold: holdOf(group, status),
  };
}

/** A disabled group's counts need no reconciler summary: everyone is disabled. */
export function statusSummaryFor(storage: Storage, group: Group): Promise<StatusSummary | null> {
  return group.sync === 'enabled' ? storage.statusSummaries.get(group.id) : Promise.resolve(null);
}

export async function loadGroupView(storage: Storage, group: Group): Promise<GroupViewBody> {
  const [members, status] = await Promise.all([storage.members.summary(group.id), statusSummaryFor(storage, group)]);
  return toGroupView(group, members, status);
}

export async function requireGroup(storage: Storage, groupId: string): Promise<Group> {
  const group = await storage.groups.get(groupId);
  if (!group) throw new NotFoundError('GROUP_NOT_FOUND', `No group with id '${groupId}'.`);
  return group;
}
