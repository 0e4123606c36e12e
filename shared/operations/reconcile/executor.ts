import { applyOutcomes, planUser, toMailOperation, type PlannedAction } from '../../domain';
import type { Group, MailResource, Member, SyncStatus, UserState } from '../../domain/model';
import { describe, type Log } from '../../logging';
import { NOT_STARTED, type MailOperation, type MailOperationResult } from '../../ports';
import { mapLimited } from '../../util/concurrency';
import { loadUserFacts, resolveUser, updateUserState } from '../userSync';
import { currentGraphAccess, noteProviderResults } from '../graphAccess';
import { policyOf, type Deps, type ReconcileOptions } from './options';
import { announceSuspension } from './notices';
import { persistSubscriptions, resolveOrphans } from './repair';
import { requestCatchUp, requestResync } from '../dataSync/firstEnable';
import { signClientState } from '../../domain/clientState';
import { clientStateHashMatches, hashClientState } from '../notifications';

export interface UserRun {
  employeeId: string;
  status: SyncStatus;
  planned: number;
  failed: number;
  /** the time budget ran out before the provider started some of its operations: run it again */
  deferred?: boolean;
  /** not reconciled: Graph access is failing (the status is not known from this run) */
  skipped?: boolean;
}

type Failure = { action: PlannedAction; result: Extract<MailOperationResult, { ok: false }> };

/** "Already exists" and "already gone" are outcomes the run resolves, not failures (as in the reducer). */
function isFailure(outcome: { action: PlannedAction; result: MailOperationResult }): outcome is Failure {
  return !outcome.result.ok && (outcome.result.failure === 'transient' || outcome.result.failure === 'permanent');
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
  /** subscriptions whose clientState is not signed with the current key (replaced at renewal) */
  unsigned: Set<string>;
}

/** Reads desired and actual state and plans; no writes. */
async function prepareUser(deps: Deps, target: UserTarget, now: Date): Promise<PreparedUser> {
  const facts = await loadUserFacts(deps, target.employeeId, { known: target.known });
  const resolved = resolveUser(deps, facts, now);
  const mailbox = facts.member?.email ?? '';
  // Key Vault out of reach (nothing cached) only postpones replacing unsigned subscriptions; a create needs the key.
  const known = resolved.syncing ? await deps.clientStateKeys.current().catch(() => null) : null;
  const unsigned = new Set(known ? facts.subscriptions.filter((s) => !signedWithCurrentKey(known, target.employeeId, s)).map((s) => s.subscriptionId) : []);
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
    replaceAtRenewal: [...unsigned],
  });
  const clientStates = new Map<MailResource, string>();
  // Signed, so the webhook can authenticate a notification without reading anything (domain/clientState.ts).
  const keys = known ?? (actions.some((a) => a.kind === 'create') ? await deps.clientStateKeys.current() : []);
  const ops = actions.map((action) => {
    const clientState = action.kind === 'create' ? signClientState(keys, { employeeId: target.employeeId, resource: action.resource }) : '';
    if (action.kind === 'create') clientStates.set(action.resource, clientState);
    return toMailOperation(action, target.employeeId, mailbox, clientState);
  });
  return { target, facts, status: resolved.status, mailbox, actions, ops, clientStates, unsigned };
}

/** Our row holds the SHA-256 of the clientState we gave Graph: is it the one the current key signs? */
function signedWithCurrentKey(keys: string[], employeeId: string, sub: { resource: MailResource; clientStateHash: string }): boolean {
  if (keys.length === 0) return true;
  return clientStateHashMatches(hashClientState(signClientState(keys, { employeeId, resource: sub.resource })), sub.clientStateHash);
}

/** Records the provider's answers for one user: subscription rows, failure streak, status. */
async function finishUser(deps: Deps, user: PreparedUser, results: MailOperationResult[], now: Date, options: ReconcileOptions): Promise<UserRun & { orphansDeleted: string[] }> {
  const { log } = options;
  const { employeeId } = user.target;
  let next = 0;
  const noCall: MailOperationResult = { ok: true };
  const answered = user.actions.map((action, i) => ({ action, result: user.ops[i] ? (results[next++] ?? NO_RESULT) : noCall }));
  // What the provider never started is no outcome at all: the next message plans it again.
  const outcomes = answered.filter((o) => o.result.ok || o.result.code !== NOT_STARTED);
  const deferred = outcomes.length < answered.length;
  const policy = policyOf(deps.config);
  const reduced = applyOutcomes(user.facts.state, outcomes, now, policy, Math.random);
  await persistSubscriptions(deps, employeeId, user.mailbox, user.facts.subscriptions, reduced.subscriptions, user.clientStates, user.target.removed ?? []);
  const { after } = await updateUserState(deps, employeeId, now, (fresh) => withSuspensionEpisode(fresh, recordRun(fresh, user.facts.state, outcomes, now, policy), now));
  await announceSuspension(deps, user.facts, after, options);
  // A new events subscription: the data sync catches up on the meetings already there.
  const events = outcomes.find((o) => o.action.kind === 'create' && o.action.resource === 'events' && o.result.ok);
  if (events?.result.ok && events.result.subscriptionId) {
    const request = { employeeId, groupId: user.facts.group?.id ?? null, subscriptionId: events.result.subscriptionId, requestId: `catchup-${employeeId}-${now.getTime()}`, now };
    await requestCatchUp(deps.storage, request).catch((err: unknown) => log('datasync.catchup_request_failed', { employeeId, error: describe(err) }));
  }
  // Graph removed a subscription (subscriptionRemoved): its replacement exists now, so the changes lost
  // meanwhile are looked for only now (recreate first, then resync). Events are covered by the catch-up above.
  const removedResources = new Set(user.facts.subscriptions.filter((s) => user.target.removed?.includes(s.subscriptionId)).map((s) => s.resource));
  for (const o of outcomes) {
    if (o.action.kind !== 'create' || o.action.resource === 'events' || !removedResources.has(o.action.resource) || !o.result.ok || !o.result.subscriptionId) continue;
    const request = { employeeId, groupId: user.facts.group?.id ?? null, resource: o.action.resource, subscriptionId: o.result.subscriptionId, requestId: `resync-${employeeId}-${now.getTime()}`, now };
    await requestResync(deps.storage, request).catch((err: unknown) => log('datasync.resync_request_failed', { employeeId, error: describe(err) }));
  }
  const failures = outcomes.filter(isFailure);
  const failed = failures.length;
  // An unsigned subscription deleted at its renewal is recreated at once by the re-plan (as a deleted orphan is).
  const replaced = outcomes.flatMap((o) => (o.action.kind === 'delete' && o.result.ok && user.unsigned.has(o.action.subscriptionId) && user.status !== 'disabled' ? [o.action.subscriptionId] : []));
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
    ...(replaced.length > 0 ? { replacedUnsigned: replaced.length } : {}),
    status,
  });
  return { employeeId, status, planned: user.actions.length, failed, orphansDeleted: [...orphansDeleted, ...replaced], ...(deferred ? { deferred } : {}) };
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
  // Graph refuses the app itself (or the tenant is down): touch nobody until the breaker's probe says it is back.
  const access = options.probe ? null : await currentGraphAccess(deps);
  if (access?.state === 'failing') {
    options.log('reconcile.graph_unavailable', { users: targets.length, cause: access.cause, since: access.since });
    return targets.map((t) => ({ employeeId: t.employeeId, status: 'pending', planned: 0, failed: 0, skipped: true }));
  }
  const prepared = await mapLimited(targets, (t) => prepareUser(deps, t, now).catch((err: unknown) => failedRun(t.employeeId, err, options.log)), concurrency);
  const calls = prepared.flatMap((p) => ('ops' in p ? p.ops.flatMap((op) => (op ? [op] : [])) : []));
  const results = calls.length > 0 ? await deps.mail.apply(calls, { deadline: options.deadline }) : [];
  // Operations the deadline kept from starting say nothing about Graph's health.
  const started = results.flatMap((r, i) => (!r.ok && r.code === NOT_STARTED ? [] : [{ r, employeeId: calls[i]!.employeeId }]));
  if (started.length > 0) {
    const verdict = await noteProviderResults(deps, started.map((s) => s.r), started.map((s) => s.employeeId), { now, log: options.log, probe: options.probe });
    options.onAccess?.(verdict);
  }
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
      if (p.actions.length === 0) {
        // Nothing to do for the provider; a suspension whose notice never went out is announced now.
        await announceSuspension(deps, p.facts, p.facts.state, options).catch((err: unknown) => options.log('notify.suspension_failed', { employeeId: p.target.employeeId, error: describe(err) }));
        return { employeeId: p.target.employeeId, status: p.status, planned: 0, failed: 0 };
      }
      return finishUser(deps, p, slice, now, options).catch((err: unknown) => failedRun(p.target.employeeId, err, options.log));
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

/**
 * The run's outcomes folded into the user's state as it is NOW (under its ETag), never into the
 * copy read when the run started: the personal switch, a force and another run's result written
 * meanwhile all survive. A force since the read wins outright: this run's streak is not counted
 * (its errors are still shown), so a force is never undone by a run that started before it.
 */
export function recordRun(
  fresh: Omit<UserState, 'etag'>,
  read: UserState | null,
  outcomes: Parameters<typeof applyOutcomes>[1],
  now: Date,
  policy: ReturnType<typeof policyOf>,
): Omit<UserState, 'etag'> {
  const next = applyOutcomes(fresh, outcomes, now, policy, Math.random).state;
  if (fresh.forces !== (read?.forces ?? 0)) return { ...fresh, lastErrors: next.lastErrors };
  return { ...fresh, consecutiveFailures: next.consecutiveFailures, suspendedReason: next.suspendedReason, lastErrors: next.lastErrors, nextRetryAt: next.nextRetryAt };
}

/** A suspension's episode (`suspendedAt`) starts when it does and lasts until it is cleared. */
function withSuspensionEpisode(fresh: Omit<UserState, 'etag'>, next: Omit<UserState, 'etag'>, now: Date): Omit<UserState, 'etag'> {
  const suspendedAt = next.suspendedReason ? (fresh.suspendedReason && fresh.suspendedAt ? fresh.suspendedAt : now.toISOString()) : null;
  return { ...next, suspendedAt };
}

function countKinds(actions: PlannedAction[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of actions) out[a.kind] = (out[a.kind] ?? 0) + 1;
  return out;
}

function failedRun(employeeId: string, err: unknown, log: Log): UserRun {
  log('reconcile.user_failed', { employeeId, error: describe(err) });
  return { employeeId, status: 'with_issues', planned: 0, failed: 1 };
}
