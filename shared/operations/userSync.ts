import { clearSuspension, resolveStatus } from '../domain';
import type { Group, Member, UserState } from '../domain/model';
import { NotFoundError, PreconditionFailedError, ConflictError } from '../errors';
import type { Services } from '../services';
import { loadDataSyncView, type DataSyncView } from './dataSync/view';
import { audit, groupScope, nudge, userScope, type OperationContext } from './context';

type Deps = Pick<Services, 'storage' | 'config'>;

export interface UserSyncView {
  employeeId: string;
  groupId: string | null;
  userEnabled: boolean;
  status: ReturnType<typeof resolveStatus>['status'];
  reason: string | null;
  message: string;
  steps: Array<{ name: string; ok: boolean; detail: string }>;
  subscriptions: Array<{ resource: string; id: string; expiresAt: string; createdAt: string; lastRenewedAt: string | null }>;
  lastErrors: UserState['lastErrors'];
  nextRetryAt: string | null;
  /** Outlook meetings → Vantagepoint activities for this user (the data step); null in list views */
  dataSync?: DataSyncView | null;
}

/** Everything the status resolver needs about one user: two round trips to storage at most. */
export async function loadUserFacts(
  deps: Deps,
  employeeId: string,
  options: { known?: { group: Group; member: Member } | undefined; withSubscriptions?: boolean } = {},
) {
  const { known, withSubscriptions = true } = options;
  const membership = async (): Promise<[Group | null, Member | null]> => {
    if (known) return [known.group, known.member];
    const groupId = await deps.storage.members.groupOf(employeeId);
    return groupId ? Promise.all([deps.storage.groups.get(groupId), deps.storage.members.get(groupId, employeeId)]) : [null, null];
  };
  const [[group, member], state, subscriptions] = await Promise.all([
    membership(),
    deps.storage.userState.get(employeeId),
    // Whether a user is syncing does not depend on their subscriptions: intake skips the read.
    withSubscriptions ? deps.storage.subscriptions.listForUser(employeeId) : [],
  ]);
  return { group: member ? group : null, member: group ? member : null, state, subscriptions };
}

export type UserFacts = Awaited<ReturnType<typeof loadUserFacts>>;

/** The one resolver applied to stored facts: used by the why view, the members list and notification intake. */
export function resolveUser(deps: Deps, facts: UserFacts, now: Date) {
  const { group, member, state, subscriptions } = facts;
  return resolveStatus({
    membership: group && member ? { groupId: group.id, groupSync: group.sync, syncChangedAt: group.syncChangedAt } : null,
    prerequisite: member?.prerequisite ?? null,
    prerequisiteMessage: member?.prerequisiteMessage ?? '',
    userEnabled: state?.userEnabled ?? true,
    state,
    subscriptions,
    resources: deps.config.GRAPH_RESOURCES,
    now,
  });
}

/** The why view; `known` (a list of members) leaves out the data step, which costs two reads per user. */
export async function loadUserSync(deps: Deps, employeeId: string, now: Date, known?: { group: Group; member: Member }): Promise<UserSyncView> {
  const facts = await loadUserFacts(deps, employeeId, { known });
  if (!facts.member && !facts.state && facts.subscriptions.length === 0) {
    throw new NotFoundError('USER_NOT_FOUND', `'${employeeId}' is not a member of any group.`);
  }
  const resolved = resolveUser(deps, facts, now);
  const data = known ? null : await loadDataSyncView(deps.storage, employeeId);
  return {
    employeeId,
    groupId: facts.group?.id ?? null,
    userEnabled: facts.state?.userEnabled ?? true,
    status: resolved.status,
    reason: resolved.reason,
    message: resolved.message,
    // The steps stop at the one that decides the status; the data step follows only a syncing user's.
    steps: data && resolved.syncing ? [...resolved.steps, data.step] : resolved.steps,
    subscriptions: facts.subscriptions.map((s) => ({
      resource: s.resource,
      id: s.subscriptionId,
      expiresAt: s.expiresAt,
      createdAt: s.createdAt,
      lastRenewedAt: s.lastRenewedAt,
    })),
    lastErrors: facts.state?.lastErrors ?? [],
    nextRetryAt: facts.state?.nextRetryAt ?? null,
    ...(data ? { dataSync: data.view } : {}),
  };
}

export function newUserState(employeeId: string, now: Date): Omit<UserState, 'etag'> {
  return {
    employeeId,
    userEnabled: true,
    consecutiveFailures: 0,
    suspendedReason: null,
    suspendedAt: null,
    suspensionNoticeFor: null,
    lastErrors: [],
    nextRetryAt: null,
    forces: 0,
    resyncRequestedAt: null,
    updatedAt: now.toISOString(),
  };
}

/** Read-modify-write of a user's state under its ETag, retried on a concurrent writer. */
export async function updateUserState(
  deps: Deps,
  employeeId: string,
  now: Date,
  change: (state: Omit<UserState, 'etag'>) => Omit<UserState, 'etag'>,
): Promise<{ before: Omit<UserState, 'etag'>; after: UserState }> {
  for (let attempt = 1; ; attempt++) {
    const current = await deps.storage.userState.get(employeeId);
    const { etag: _etag, ...before } = current ?? { ...newUserState(employeeId, now), etag: null };
    try {
      const after = await deps.storage.userState.save({ ...change(before), updatedAt: now.toISOString() }, current?.etag ?? null);
      return { before, after };
    } catch (err) {
      const raced = err instanceof PreconditionFailedError || err instanceof ConflictError;
      if (!raced || attempt >= 10) throw err;
    }
  }
}

export async function getUserSync(deps: Deps, employeeId: string, ctx: OperationContext): Promise<UserSyncView> {
  return loadUserSync(deps, employeeId, ctx.now);
}

async function requireKnownUser(deps: Deps, employeeId: string): Promise<string | null> {
  const groupId = await deps.storage.members.groupOf(employeeId);
  if (!groupId && !(await deps.storage.userState.get(employeeId))) {
    throw new NotFoundError('USER_NOT_FOUND', `'${employeeId}' is not a member of any group.`);
  }
  return groupId;
}

/** The personal switch. A disabled group still overrides it (resolveStatus), so users cannot bypass an emergency stop. */
export async function putUserSync(deps: Deps, input: { employeeId: string; enabled: boolean }, ctx: OperationContext): Promise<UserSyncView> {
  const groupId = await requireKnownUser(deps, input.employeeId);
  const { before } = await updateUserState(deps, input.employeeId, ctx.now, (s) => ({ ...s, userEnabled: input.enabled }));
  if (before.userEnabled !== input.enabled) {
    await audit(deps.storage.audit, ctx, {
      action: 'user.sync',
      target: input.employeeId,
      from: before.userEnabled ? 'enabled' : 'disabled',
      to: input.enabled ? 'enabled' : 'disabled',
      scopes: [userScope(input.employeeId), ...(groupId ? [groupScope(groupId)] : [])],
    });
    await nudge(deps.storage.reconcileQueue, ctx, { employeeId: input.employeeId, reason: 'user.sync' });
  }
  return loadUserSync(deps, input.employeeId, ctx.now);
}

export async function forceUserSync(deps: Deps, employeeId: string, ctx: OperationContext): Promise<UserSyncView> {
  const groupId = await requireKnownUser(deps, employeeId);
  // The count moves with the clearing, so a run that started before this force cannot suspend the user again.
  const { before } = await updateUserState(deps, employeeId, ctx.now, (s) => ({ ...s, ...clearSuspension(s), forces: s.forces + 1 }));
  await audit(deps.storage.audit, ctx, {
    action: 'user.force',
    target: employeeId,
    from: { suspendedReason: before.suspendedReason, consecutiveFailures: before.consecutiveFailures },
    to: { suspendedReason: null, consecutiveFailures: 0 },
    scopes: [userScope(employeeId), ...(groupId ? [groupScope(groupId)] : [])],
  });
  await nudge(deps.storage.reconcileQueue, ctx, { employeeId, reason: 'user.force' });
  return loadUserSync(deps, employeeId, ctx.now);
}
