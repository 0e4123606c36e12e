import { randomBytes } from 'node:crypto';
import { applyOutcomes, countStatuses, emptyCounts, planUser, type PlannedAction } from '../domain';
import type { Group, MailResource, Member, StatusCounts, Subscription, SyncStatus } from '../domain/model';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../errors';
import { describe, type Log } from '../http/endpoint';
import type { MailOperation, MailOperationResult, ReconcileRequest } from '../ports';
import type { Services } from '../services';
import { hashClientState } from './notifications';
import { mapLimited } from '../util/concurrency';
import { loadUserFacts, resolveUser, updateUserState, type UserFacts } from './userSync';

type Deps = Pick<Services, 'storage' | 'config' | 'mail'>;

export interface ReconcileOptions {
  now: () => Date;
  log: Log;
  /** wall-clock deadline (ms since epoch) after which a group pass hands over to a continuation message */
  deadline: number;
}

export function policyOf(config: Services['config']) {
  return {
    lifetimeMinutes: config.SUBSCRIPTION_LIFETIME_MINUTES,
    renewalMarginMinutes: config.SUBSCRIPTION_RENEWAL_MARGIN_MINUTES,
    maxFailures: config.RECONCILE_MAX_FAILURES,
  };
}

interface UserRun {
  employeeId: string;
  status: SyncStatus;
  planned: number;
  failed: number;
}

function toOperation(employeeId: string, mailbox: string, action: PlannedAction, clientStates: Map<string, string>): MailOperation | null {
  switch (action.kind) {
    case 'create': {
      const clientState = randomBytes(32).toString('base64url');
      clientStates.set(action.resource, clientState);
      return { kind: 'create', employeeId, mailbox, resource: action.resource, expiresAt: action.expiresAt, clientState };
    }
    case 'renew':
      return { kind: 'renew', employeeId, subscriptionId: action.subscriptionId, expiresAt: action.expiresAt };
    case 'delete':
      return { kind: 'delete', employeeId, subscriptionId: action.subscriptionId };
    case 'forget':
      return null;
  }
}

/**
 * "Already exists" on create: if our table now holds a subscription for it, an
 * overlapping run made it and there is nothing to do; otherwise it is an orphan of a
 * lost response — delete it at the provider and create once more, so it never loops.
 */
async function resolveExists(deps: Deps, employeeId: string, mailbox: string, resource: MailResource, op: MailOperation): Promise<MailOperationResult> {
  const ours = (await deps.storage.subscriptions.listForUser(employeeId)).find((s) => s.resource === resource);
  if (ours) return { ok: true, subscriptionId: ours.subscriptionId, expiresAt: ours.expiresAt };
  const orphans = await deps.mail.findExisting(mailbox, resource);
  if (orphans.length > 0) await deps.mail.apply(orphans.map((subscriptionId) => ({ kind: 'delete', employeeId, subscriptionId })));
  const [retry] = await deps.mail.apply([op]);
  return retry ?? { ok: false, failure: 'transient', status: 0, code: 'NO_RESULT', message: 'provider returned no result' };
}

/**
 * One user, level-triggered: read desired and actual state, plan, apply through the
 * mail provider, record each outcome. Safe to run twice at once: our table (one row
 * per user and resource, created with a precondition) decides which subscription lives.
 */
export async function reconcileUser(
  deps: Deps,
  employeeId: string,
  options: ReconcileOptions & { known?: { group: Group; member: Member }; renew?: string[]; removed?: string[] },
): Promise<UserRun> {
  const now = options.now();
  if (options.removed?.length) await forgetRemoved(deps, employeeId, options.removed);
  const facts = await loadUserFacts(deps, employeeId, options.known);
  const resolved = resolveUser(deps, facts, now);
  const mailbox = facts.member?.email ?? '';
  const policy = policyOf(deps.config);
  const actions = planUser({
    employeeId,
    mailbox,
    desired: resolved.syncing,
    state: facts.state,
    subscriptions: facts.subscriptions,
    resources: deps.config.GRAPH_RESOURCES,
    now,
    policy,
  });
  addForcedRenewals(actions, facts, options.renew ?? [], resolved.syncing, now, policy.lifetimeMinutes);
  if (actions.length === 0) return { employeeId, status: resolved.status, planned: 0, failed: 0 };

  const clientStates = new Map<string, string>();
  const pairs = actions.map((action) => ({ action, op: toOperation(employeeId, mailbox, action, clientStates) }));
  const ops = pairs.flatMap((p) => (p.op ? [p.op] : []));
  const results = ops.length > 0 ? await deps.mail.apply(ops) : [];
  let next = 0;
  const outcomes = await Promise.all(
    pairs.map(async ({ action, op }) => {
      if (!op) return { action, result: { ok: true } as MailOperationResult };
      let result = results[next++] ?? ({ ok: false, failure: 'transient', status: 0, code: 'NO_RESULT', message: 'provider returned no result' } as MailOperationResult);
      if (!result.ok && result.failure === 'exists' && action.kind === 'create') result = await resolveExists(deps, employeeId, mailbox, action.resource, op);
      return { action, result };
    }),
  );

  const reduced = applyOutcomes(facts.state, outcomes, now, policy, Math.random);
  await persistSubscriptions(deps, employeeId, facts.subscriptions, reduced.subscriptions, clientStates, now);
  const { after } = await updateUserState(deps, employeeId, now, (s) => ({
    ...s,
    consecutiveFailures: reduced.state.consecutiveFailures,
    suspendedReason: reduced.state.suspendedReason,
    lastErrors: reduced.state.lastErrors,
    nextRetryAt: reduced.state.nextRetryAt,
  }));
  const failed = outcomes.filter((o) => !o.result.ok).length;
  const subscriptions = await deps.storage.subscriptions.listForUser(employeeId);
  const status = resolveUser(deps, { ...facts, state: after, subscriptions }, now).status;
  options.log('reconcile.user', {
    employeeId,
    groupId: facts.group?.id ?? null,
    actions: countKinds(actions),
    failed,
    status,
    reason: failed > 0 ? outcomes.find((o) => !o.result.ok && 'code' in o.result)?.result : undefined,
  });
  return { employeeId, status, planned: actions.length, failed };
}

function countKinds(actions: PlannedAction[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of actions) out[a.kind] = (out[a.kind] ?? 0) + 1;
  return out;
}

function addForcedRenewals(actions: PlannedAction[], facts: UserFacts, renew: string[], desired: boolean, now: Date, lifetimeMinutes: number) {
  if (!desired || renew.length === 0) return;
  for (const sub of facts.subscriptions) {
    if (!renew.includes(sub.subscriptionId) || actions.some((a) => a.resource === sub.resource)) continue;
    actions.push({ kind: 'renew', resource: sub.resource, subscriptionId: sub.subscriptionId, expiresAt: new Date(now.getTime() + lifetimeMinutes * 60_000).toISOString() });
  }
}

async function forgetRemoved(deps: Deps, employeeId: string, removed: string[]) {
  for (const sub of await deps.storage.subscriptions.listForUser(employeeId)) {
    if (removed.includes(sub.subscriptionId)) await deps.storage.subscriptions.delete(employeeId, sub.resource, sub.etag);
  }
}

type Reduced = ReturnType<typeof applyOutcomes>['subscriptions'];

async function persistSubscriptions(
  deps: Deps,
  employeeId: string,
  current: Subscription[],
  changes: Reduced,
  clientStates: Map<string, string>,
  now: Date,
) {
  const byResource = new Map(current.map((s) => [s.resource, s]));
  for (const resource of changes.remove) {
    const existing = byResource.get(resource);
    if (existing) await deps.storage.subscriptions.delete(employeeId, resource, existing.etag).catch(ignoreGone);
  }
  for (const sub of changes.upsert) {
    const existing = byResource.get(sub.resource);
    const clientState = clientStates.get(sub.resource);
    const record = {
      employeeId,
      resource: sub.resource,
      subscriptionId: sub.subscriptionId,
      expiresAt: sub.expiresAt,
      createdAt: existing && existing.subscriptionId === sub.subscriptionId ? existing.createdAt : now.toISOString(),
      lastRenewedAt: existing && existing.subscriptionId === sub.subscriptionId ? now.toISOString() : null,
      clientStateHash: clientState ? hashClientState(clientState) : (existing?.clientStateHash ?? ''),
    };
    try {
      await deps.storage.subscriptions.save(record, existing && !clientState ? existing.etag : null);
    } catch (err) {
      // An overlapping run recorded its own subscription first: ours must not live beside it.
      if (err instanceof ConflictError && clientState) {
        await deps.mail.apply([{ kind: 'delete', employeeId, subscriptionId: sub.subscriptionId }]);
        continue;
      }
      throw err;
    }
  }
}

/** Someone else already removed or replaced the row: the outcome we wanted. */
function ignoreGone(err: unknown) {
  if (!(err instanceof NotFoundError || err instanceof PreconditionFailedError)) throw err;
}

/**
 * A group pass: members in pages, users reconciled with bounded concurrency, counts
 * accumulated; out of time → a continuation message carries the rest. Memory stays
 * bounded by the page size whatever the group's size.
 */
export async function reconcileGroup(deps: Deps, request: ReconcileRequest, options: ReconcileOptions): Promise<{ complete: boolean; users: number; counts: StatusCounts }> {
  const groupId = request.groupId as string;
  const group = await deps.storage.groups.get(groupId);
  const counts = { ...emptyCounts(), ...(request.partialCounts ?? {}) } as StatusCounts;
  if (!group) return { complete: true, users: 0, counts };
  let token = request.continuationToken;
  let users = 0;
  do {
    const page = await deps.storage.members.list(groupId, { top: 100, continuationToken: token });
    const runs = await mapLimited(
      page.items,
      (member) => reconcileUser(deps, member.employeeId, { ...options, known: { group, member } }).catch((err: unknown) => failedRun(member.employeeId, err, options.log)),
      deps.config.RECONCILE_CONCURRENCY,
    );
    const pageCounts = countStatuses(runs.map((r) => r.status));
    for (const key of Object.keys(counts) as SyncStatus[]) counts[key] += pageCounts[key];
    users += runs.length;
    token = page.continuationToken ?? undefined;
    if (token && Date.now() > options.deadline) {
      await deps.storage.reconcileQueue.request({ groupId, reason: 'continuation', requestId: request.requestId, continuationToken: token, partialCounts: counts });
      options.log('reconcile.group', { groupId, complete: false, users, counts });
      return { complete: false, users, counts };
    }
  } while (token);
  const current = await deps.storage.groups.get(groupId);
  // A toggle during the pass makes these counts stale: the pass it triggered will write fresh ones.
  if (current && current.syncChangedAt === group.syncChangedAt) {
    await deps.storage.statusSummaries.put(groupId, { counts, computedAt: options.now().toISOString() });
  }
  options.log('reconcile.group', { groupId, complete: true, users, counts });
  return { complete: true, users, counts };
}

function failedRun(employeeId: string, err: unknown, log: Log): UserRun {
  log('reconcile.user_failed', { employeeId, error: describe(err) });
  return { employeeId, status: 'with_issues', planned: 0, failed: 1 };
}

/** The queue trigger's operation: one group pass or one user. */
export async function handleReconcileRequest(deps: Deps, request: ReconcileRequest, options: ReconcileOptions) {
  if (request.groupId) return reconcileGroup(deps, request, options);
  if (request.employeeId) {
    return reconcileUser(deps, request.employeeId, { ...options, renew: request.renewSubscriptionIds, removed: request.removedSubscriptionIds });
  }
  options.log('reconcile.ignored', { reason: 'neither groupId nor employeeId' });
  return undefined;
}

/**
 * The timer's resync (controller pattern): every group gets a pass through the queue
 * (scaled out by the platform); users holding subscriptions outside any group are
 * reconciled directly, within the time budget.
 */
export async function sweep(deps: Deps, options: ReconcileOptions & { requestId: string }): Promise<{ groups: number; orphans: number; complete: boolean }> {
  let groups = 0;
  let token: string | undefined;
  do {
    const page = await deps.storage.groups.list({ top: 200, continuationToken: token });
    await mapLimited(page.items, (g) => deps.storage.reconcileQueue.request({ groupId: g.id, reason: 'sweep', requestId: options.requestId }), 16);
    groups += page.items.length;
    token = page.continuationToken ?? undefined;
  } while (token);
  let orphans = 0;
  let complete = true;
  token = undefined;
  do {
    const page = await deps.storage.subscriptions.listUsers({ top: 200, continuationToken: token });
    for (const employeeId of page.items) {
      if (await deps.storage.members.groupOf(employeeId)) continue;
      await reconcileUser(deps, employeeId, options).catch((err: unknown) => failedRun(employeeId, err, options.log));
      orphans++;
    }
    token = page.continuationToken ?? undefined;
    if (token && Date.now() > options.deadline) {
      complete = false;
      break;
    }
  } while (token);
  options.log('reconcile.sweep', { groups, orphans, complete });
  return { groups, orphans, complete };
}
