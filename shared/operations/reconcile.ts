import { randomBytes } from 'node:crypto';
import { applyOutcomes, countStatuses, emptyCounts, planUser, withFacts, toMailOperation, type CreateAction, type PlannedAction } from '../domain';
import type { Group, MailResource, Member, StatusCounts, Subscription, SyncStatus } from '../domain/model';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../errors';
import { describe, type Log } from '../http/endpoint';
import type { MailOperation, MailOperationResult, ReconcileRequest } from '../ports';
import type { Services } from '../services';
import { hashClientState } from './notifications';
import { mapLimited } from '../util/concurrency';
import { loadUserFacts, resolveUser, updateUserState } from './userSync';

type Deps = Pick<Services, 'storage' | 'config' | 'mail'> & { directory?: Services['directory'] };

/** Member prerequisites are re-checked against Vantagepoint when older than this (fixes there are picked up). */
export const PREREQUISITE_MAX_AGE_MS = 60 * 60_000;

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

/**
 * "Already exists" on create: if our table now holds a row for it, an overlapping run
 * made it and there is nothing to do; otherwise it is an orphan of a lost response —
 * delete it at the provider so the next plan creates one we hold the clientState of.
 * An overlapping run may still record what we deleted (it created it and had not saved
 * its row yet), so the ids deleted are returned: the one immediate re-plan (no loop)
 * treats them as removed by the provider and replaces such a row.
 */
async function resolveOrphans(deps: Deps, employeeId: string, mailbox: string, adoptions: CreateAction[]): Promise<string[]> {
  if (adoptions.length === 0) return [];
  const ours = new Set((await deps.storage.subscriptions.listForUser(employeeId)).map((s) => s.resource));
  const deleted: string[] = [];
  for (const { resource } of adoptions) {
    if (ours.has(resource)) continue;
    const orphans = await deps.mail.findExisting(mailbox, resource);
    if (orphans.length === 0) continue;
    const results = await deps.mail.apply(orphans.map((subscriptionId) => ({ kind: 'delete' as const, employeeId, subscriptionId })));
    deleted.push(...orphans.filter((_, i) => isGoneNow(results[i])));
  }
  return deleted;
}

type Failure = { action: PlannedAction; result: Extract<MailOperationResult, { ok: false }> };

/** "Already exists" and "already gone" are outcomes the run resolves, not failures (as in the reducer). */
function isFailure(outcome: { action: PlannedAction; result: MailOperationResult }): outcome is Failure {
  return !outcome.result.ok && (outcome.result.failure === 'transient' || outcome.result.failure === 'permanent');
}

/** The provider no longer has it: deleted now, or already gone. */
function isGoneNow(result: MailOperationResult | undefined): boolean {
  return result !== undefined && (result.ok || result.failure === 'gone');
}

const NO_RESULT: MailOperationResult = { ok: false, failure: 'transient', status: 0, code: 'NO_RESULT', message: 'The provider returned no result.' };

export interface UserTarget {
  employeeId: string;
  /** group and member already read by a group pass (saves two reads per user) */
  known?: { group: Group; member: Member } | undefined;
  /** renew these now (reauthorizationRequired) */
  renew?: string[] | undefined;
  /** the provider removed these (subscriptionRemoved): forget and recreate */
  removed?: string[] | undefined;
}

interface PreparedUser {
  target: UserTarget;
  facts: Awaited<ReturnType<typeof loadUserFacts>>;
  status: SyncStatus;
  mailbox: string;
  actions: PlannedAction[];
  ops: (MailOperation | null)[];
  clientStates: Map<MailResource, string>;
}

/** Reads desired and actual state and plans; no writes. */
async function prepareUser(deps: Deps, target: UserTarget, now: Date): Promise<PreparedUser> {
  const facts = await loadUserFacts(deps, target.employeeId, { known: target.known });
  const resolved = resolveUser(deps, facts, now);
  const mailbox = facts.member?.email ?? '';
  const actions = planUser({
    employeeId: target.employeeId,
    mailbox,
    desired: resolved.syncing,
    state: facts.state,
    subscriptions: facts.subscriptions,
    resources: deps.config.GRAPH_RESOURCES,
    now,
    policy: policyOf(deps.config),
    renewNow: target.renew,
    removed: target.removed,
  });
  const clientStates = new Map<MailResource, string>();
  const ops = actions.map((action) => {
    const clientState = action.kind === 'create' ? randomBytes(32).toString('base64url') : '';
    if (action.kind === 'create') clientStates.set(action.resource, clientState);
    return toMailOperation(action, target.employeeId, mailbox, clientState);
  });
  return { target, facts, status: resolved.status, mailbox, actions, ops, clientStates };
}

/** Records the provider's answers for one user: subscription rows, failure streak, status. */
async function finishUser(deps: Deps, user: PreparedUser, results: MailOperationResult[], now: Date, log: Log): Promise<UserRun & { orphansDeleted: string[] }> {
  const { employeeId } = user.target;
  let next = 0;
  const outcomes = user.actions.map((action, i) => ({ action, result: user.ops[i] ? (results[next++] ?? NO_RESULT) : ({ ok: true } as MailOperationResult) }));
  const reduced = applyOutcomes(user.facts.state, outcomes, now, policyOf(deps.config), Math.random);
  await persistSubscriptions(deps, employeeId, user.mailbox, user.facts.subscriptions, reduced.subscriptions, user.clientStates, user.target.removed ?? []);
  // Only the reconciler's own fields: the user's switch may have changed since the read.
  const { consecutiveFailures, suspendedReason, lastErrors, nextRetryAt } = reduced.state;
  const { after } = await updateUserState(deps, employeeId, now, (s) => ({ ...s, consecutiveFailures, suspendedReason, lastErrors, nextRetryAt }));
  const failures = outcomes.filter(isFailure);
  const failed = failures.length;
  const orphansDeleted = await resolveOrphans(deps, employeeId, user.mailbox, reduced.needsAdoption);
  const subscriptions = await deps.storage.subscriptions.listForUser(employeeId);
  const status = resolveUser(deps, { ...user.facts, state: after, subscriptions }, now).status;
  log('reconcile.user', {
    employeeId,
    groupId: user.facts.group?.id ?? null,
    actions: countKinds(user.actions),
    failed,
    errors: failures.map((o) => `${o.action.kind} ${o.action.resource}: ${o.result.code}`),
    orphansDeleted: orphansDeleted.length,
    status,
  });
  return { employeeId, status, planned: user.actions.length, failed, orphansDeleted };
}

/**
 * Level-triggered reconciliation of a set of users: read desired and actual state,
 * plan each user (pure), send every provider operation of the set in ONE apply call
 * (so the provider fills `$batch`es of 20 under the shared write limiter), then record
 * each outcome. Safe to run twice at once: our table (one row per user and resource,
 * created with a precondition) decides which subscription lives.
 */
export async function reconcileUsers(deps: Deps, targets: UserTarget[], options: ReconcileOptions & { replanned?: boolean }): Promise<UserRun[]> {
  const now = options.now();
  const concurrency = deps.config.RECONCILE_CONCURRENCY;
  const prepared = await mapLimited(targets, (t) => prepareUser(deps, t, now).catch((err: unknown) => failedRun(t.employeeId, err, options.log)), concurrency);
  const calls = prepared.flatMap((p) => ('ops' in p ? p.ops.flatMap((op) => (op ? [op] : [])) : []));
  const results = calls.length > 0 ? await deps.mail.apply(calls) : [];
  let offset = 0;
  const slices = prepared.map((p) => {
    const count = 'ops' in p ? p.ops.filter((op) => op !== null).length : 0;
    offset += count;
    return results.slice(offset - count, offset);
  });
  const runs = await mapLimited(
    prepared.map((p, i) => ({ p, slice: slices[i] ?? [] })),
    async ({ p, slice }): Promise<UserRun & { orphansDeleted?: string[] }> => {
      if (!('ops' in p)) return p;
      if (p.actions.length === 0) return { employeeId: p.target.employeeId, status: p.status, planned: 0, failed: 0 };
      return finishUser(deps, p, slice, now, options.log).catch((err: unknown) => failedRun(p.target.employeeId, err, options.log));
    },
    concurrency,
  );
  // An orphan deleted at the provider is recreated at once (one re-plan, never a loop).
  const replan = options.replanned ? [] : runs.flatMap((r) => (r.orphansDeleted?.length ? [{ employeeId: r.employeeId, removed: r.orphansDeleted }] : []));
  if (replan.length === 0) return runs.map(({ orphansDeleted: _o, ...run }) => run);
  const again = new Map((await reconcileUsers(deps, replan, { ...options, replanned: true })).map((r) => [r.employeeId, r]));
  return runs.map(({ orphansDeleted: _o, ...run }) => again.get(run.employeeId) ?? run);
}

/** One user (queue requests, sweep orphans, tests). */
export async function reconcileUser(deps: Deps, employeeId: string, options: ReconcileOptions & Omit<UserTarget, 'employeeId'>): Promise<UserRun> {
  const [run] = await reconcileUsers(deps, [{ employeeId, known: options.known, renew: options.renew, removed: options.removed }], options);
  return run ?? { employeeId, status: 'with_issues', planned: 0, failed: 1 };
}

function countKinds(actions: PlannedAction[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of actions) out[a.kind] = (out[a.kind] ?? 0) + 1;
  return out;
}

type Reduced = ReturnType<typeof applyOutcomes>['subscriptions'];

async function persistSubscriptions(
  deps: Deps,
  employeeId: string,
  mailbox: string,
  current: Subscription[],
  changes: Reduced,
  clientStates: Map<MailResource, string>,
  /** ids the provider no longer has: a row still naming one may be replaced */
  gone: readonly string[],
) {
  const byResource = new Map(current.map((s) => [s.resource, s]));
  for (const removal of changes.remove) {
    const existing = byResource.get(removal.resource);
    if (existing?.subscriptionId === removal.subscriptionId) {
      await deps.storage.subscriptions.delete(employeeId, removal.resource, existing.etag).catch(ignoreGone);
      byResource.delete(removal.resource);
    }
  }
  for (const write of changes.upsert) {
    const existing = byResource.get(write.resource);
    if (write.change === 'renewed') {
      if (existing?.subscriptionId !== write.subscriptionId) continue;
      const { etag, ...row } = existing;
      await deps.storage.subscriptions.save({ ...row, expiresAt: write.expiresAt, lastRenewedAt: write.lastRenewedAt }, etag).catch(ignoreGone);
      continue;
    }
    const record = {
      employeeId,
      resource: write.resource,
      subscriptionId: write.subscriptionId,
      mailbox,
      expiresAt: write.expiresAt,
      createdAt: write.createdAt,
      lastRenewedAt: null,
      clientStateHash: hashClientState(clientStates.get(write.resource) ?? ''),
    };
    try {
      await deps.storage.subscriptions.save(record, null);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      if (await replaceGoneRow(deps, record, gone)) continue;
      // An overlapping run recorded its own live subscription first: ours must not live beside it.
      await deps.mail.apply([{ kind: 'delete', employeeId, subscriptionId: write.subscriptionId }]);
    }
  }
}

/** The row an overlapping run saved names a subscription the provider no longer has: ours takes its place. */
async function replaceGoneRow(deps: Deps, record: Omit<Subscription, 'etag'>, gone: readonly string[]): Promise<boolean> {
  const row = (await deps.storage.subscriptions.listForUser(record.employeeId)).find((s) => s.resource === record.resource);
  if (!row || !gone.includes(row.subscriptionId)) return false;
  try {
    await deps.storage.subscriptions.save(record, row.etag);
    return true;
  } catch (err) {
    if (err instanceof PreconditionFailedError || err instanceof NotFoundError) return false;
    throw err;
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
export async function reconcileGroup(deps: Deps, request: ReconcileRequest, options: ReconcileOptions): Promise<GroupPass> {
  const groupId = request.groupId as string;
  const counts = { ...emptyCounts(), ...(request.partialCounts ?? {}) } as StatusCounts;
  let group = await deps.storage.groups.get(groupId);
  // A pass belongs to one position of the switch; a toggle since then starts a pass of its own.
  const passOf = request.passOf ?? group?.syncChangedAt;
  const holder = `${request.requestId}|${passOf ?? ''}`;
  if (group && request.reason === 'sweep' && (await passRunning(deps, groupId, options))) {
    options.log('reconcile.group', { groupId, complete: false, skipped: 'a pass is running' });
    return { complete: false, users: 0, counts };
  }
  let token = request.continuationToken;
  let users = 0;
  while (group && group.syncChangedAt === passOf) {
    await holdLease(deps, groupId, holder, options);
    const page = await deps.storage.members.list(groupId, { top: 100, continuationToken: token });
    const known = group;
    const members = await refreshPrerequisites(deps, groupId, page.items, options);
    const runs = await reconcileUsers(deps, members.map((member) => ({ employeeId: member.employeeId, known: { group: known, member } })), options);
    const pageCounts = countStatuses(runs.map((r) => r.status));
    for (const key of Object.keys(counts) as SyncStatus[]) counts[key] += pageCounts[key];
    users += runs.length;
    token = page.continuationToken ?? undefined;
    // Re-read per page (one read per 100 members) so a long pass never acts on a stale switch.
    group = await deps.storage.groups.get(groupId);
    if (!token) {
      if (group && group.syncChangedAt === passOf) await deps.storage.statusSummaries.put(groupId, { counts, computedAt: options.now().toISOString(), switchAt: passOf });
      await deps.storage.passLeases.release(groupId, holder);
      options.log('reconcile.group', { groupId, complete: true, users, counts });
      return { complete: true, users, counts };
    }
    if (Date.now() > options.deadline) {
      // The lease stays with this pass: its continuation carries on under the same holder.
      await deps.storage.reconcileQueue.request({ groupId, reason: 'continuation', requestId: request.requestId, continuationToken: token, partialCounts: counts, passOf });
      options.log('reconcile.group', { groupId, complete: false, users, counts });
      return { complete: false, users, counts };
    }
  }
  await deps.storage.passLeases.release(groupId, holder);
  options.log('reconcile.group', { groupId, complete: false, superseded: true, users });
  return { complete: false, users, counts };
}

export interface GroupPass {
  complete: boolean;
  users: number;
  counts: StatusCounts;
}

/** A lease outlives the time budget a little, so a continuation can pick it up; capped for unbounded test runs. */
const LEASE_SLACK_MS = 60_000;
const MAX_LEASE_MS = 30 * 60_000;

async function holdLease(deps: Deps, groupId: string, holder: string, options: ReconcileOptions): Promise<void> {
  const now = options.now().getTime();
  const ttl = Math.min(Math.max(options.deadline - Date.now(), 0), MAX_LEASE_MS) + LEASE_SLACK_MS;
  await deps.storage.passLeases.put(groupId, { holder, until: new Date(now + ttl).toISOString() });
}

async function passRunning(deps: Deps, groupId: string, options: ReconcileOptions): Promise<boolean> {
  const lease = await deps.storage.passLeases.get(groupId);
  return lease !== null && Date.parse(lease.until) > options.now().getTime();
}

/**
 * Re-evaluates the prerequisites of members whose last check is older than
 * PREREQUISITE_MAX_AGE_MS, so a fix made in Vantagepoint (an email entered, a user
 * activated) is picked up without re-adding the member. Vantagepoint being down only
 * means the stored evaluation is used this time.
 */
async function refreshPrerequisites(deps: Deps, groupId: string, members: Member[], options: ReconcileOptions): Promise<Member[]> {
  const now = options.now();
  const stale = members.filter((m) => now.getTime() - Date.parse(m.checkedAt) > PREREQUISITE_MAX_AGE_MS);
  if (!deps.directory || stale.length === 0) return members;
  try {
    const facts = await deps.directory.employeeFacts(stale.map((m) => m.employeeId));
    const checkedAt = now.toISOString();
    const updated = stale.map((m) => withFacts(m, facts.get(m.employeeId), checkedAt));
    await deps.storage.members.updatePrerequisites(groupId, updated);
    const changed = updated.filter((m, i) => m.prerequisite !== stale[i]?.prerequisite || m.email !== stale[i]?.email).length;
    options.log('reconcile.prerequisites_refreshed', { groupId, checked: updated.length, changed });
    const byId = new Map(updated.map((m) => [m.employeeId, m]));
    return members.map((m) => byId.get(m.employeeId) ?? m);
  } catch (err) {
    options.log('reconcile.prerequisites_refresh_failed', { groupId, error: describe(err) });
    return members;
  }
}

function failedRun(employeeId: string, err: unknown, log: Log): UserRun {
  log('reconcile.user_failed', { employeeId, error: describe(err) });
  return { employeeId, status: 'with_issues', planned: 0, failed: 1 };
}

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

/**
 * The timer's resync (controller pattern): every group gets a pass through the queue
 * (scaled out by the platform), and one message starts the scan for users holding
 * subscriptions outside any group (removed members, deleted groups).
 */
export async function sweep(deps: Deps, options: ReconcileOptions & { requestId: string }): Promise<{ groups: number }> {
  let groups = 0;
  let token: string | undefined;
  do {
    const page = await deps.storage.groups.list({ top: 200, continuationToken: token });
    await mapLimited(page.items, (g) => deps.storage.reconcileQueue.request({ groupId: g.id, reason: 'sweep', requestId: options.requestId }), 16);
    groups += page.items.length;
    token = page.continuationToken ?? undefined;
  } while (token);
  await deps.storage.reconcileQueue.request({ outsideGroups: true, reason: 'sweep', requestId: options.requestId });
  options.log('reconcile.sweep', { groups });
  return { groups };
}

/**
 * Users holding subscriptions but in no group, page by page within the time budget;
 * out of time → a continuation message carries on where this run stopped.
 */
export async function reconcileOutsideGroups(deps: Deps, request: ReconcileRequest, options: ReconcileOptions): Promise<{ users: number; complete: boolean }> {
  let users = 0;
  let token = request.continuationToken;
  do {
    const page = await deps.storage.subscriptions.listUsers({ top: 200, continuationToken: token });
    const memberships = await mapLimited(page.items, (employeeId) => deps.storage.members.groupOf(employeeId), 16);
    const outside = page.items.filter((_, i) => !memberships[i]).map((employeeId) => ({ employeeId }));
    if (outside.length > 0) await reconcileUsers(deps, outside, options);
    users += outside.length;
    token = page.continuationToken ?? undefined;
    if (token && Date.now() > options.deadline) {
      await deps.storage.reconcileQueue.request({ outsideGroups: true, reason: 'continuation', requestId: request.requestId, continuationToken: token });
      options.log('reconcile.outside_groups', { users, complete: false });
      return { users, complete: false };
    }
  } while (token);
  options.log('reconcile.outside_groups', { users, complete: true });
  return { users, complete: true };
}
