/**
 * The reconciliation planner and outcome reducer (issue 3 item 2). Pure: desired state, the
 * subscriptions we hold (our table, never the provider's rate-limited list) and a clock go in;
 * actions come out. The executor applies them and feeds the results back through applyOutcomes.
 */
import type { MailOperation, MailOperationResult } from '../ports';
import { DEFAULT_BACKOFF, retryAfterWins, retryDelayMs, type BackoffPolicy } from './backoff';
import type { MailboxReason, MailResource, UserState } from './model';
import { isLive, type HeldSubscription, type ReconcileState } from './status';

export type PlannedAction =
  | { kind: 'create'; resource: MailResource; expiresAt: string }
  | { kind: 'renew'; resource: MailResource; subscriptionId: string; expiresAt: string }
  | { kind: 'delete'; resource: MailResource; subscriptionId: string }
  /** expired (or removed by the provider): drop our record, the provider no longer has it */
  | { kind: 'forget'; resource: MailResource; subscriptionId: string };

export type CreateAction = Extract<PlannedAction, { kind: 'create' }>;

export interface ReconcilePolicy {
  lifetimeMinutes: number;
  renewalMarginMinutes: number;
  /** consecutive failed runs before the user is suspended (SPEC: 10) */
  maxFailures: number;
  backoff?: BackoffPolicy | undefined;
}

export interface PlanInput {
  employeeId: string;
  mailbox: string;
  /** wantsSubscriptions(...) — group enabled, user enabled, prerequisites pass, not suspended */
  desired: boolean;
  state: ReconcileState | null;
  subscriptions: HeldSubscription[];
  resources: MailResource[];
  now: Date;
  policy: ReconcilePolicy;
  /** renew these now whatever their expiry (lifecycle reauthorizationRequired) */
  renewNow?: readonly string[] | undefined;
  /** the provider removed these (lifecycle subscriptionRemoved): forget and recreate */
  removed?: readonly string[] | undefined;
  /**
   * Their clientState is not signed with the current key (created before signed clientStates, or
   * with a key being rotated out). A renewal would keep it, so when one is due for renewal it is
   * deleted instead, and the executor's re-plan creates its replacement with a fresh clientState.
   */
  replaceAtRenewal?: readonly string[] | undefined;
}

const MINUTE_MS = 60_000;
const KEPT_ERRORS = 5;

export function initialReconcileState(): ReconcileState {
  return { consecutiveFailures: 0, suspendedReason: null, lastErrors: [], nextRetryAt: null };
}

/** Waiting for a backoff to elapse: no creates or renews (deletes still go ahead). */
export function isWaitingForRetry(state: ReconcileState | null, now: Date): boolean {
  return state?.nextRetryAt != null && Date.parse(state.nextRetryAt) > now.getTime();
}

function minutesFrom(now: Date, minutes: number): string {
  return new Date(now.getTime() + minutes * MINUTE_MS).toISOString();
}

/** Letting go of a subscription: a live one is deleted at the provider, an expired one is only forgotten. */
function release(sub: HeldSubscription, now: Date): PlannedAction {
  const { resource, subscriptionId } = sub;
  return isLive(sub, now) ? { kind: 'delete', resource, subscriptionId } : { kind: 'forget', resource, subscriptionId };
}

/**
 * Our table holds one row per (user, resource), so duplicates should not exist; if they ever do,
 * the live one expiring last is kept and the rest are released.
 */
function splitKeepers(subscriptions: HeldSubscription[], resources: ReadonlySet<MailResource>, now: Date) {
  const keepers = new Map<MailResource, HeldSubscription>();
  const extras: HeldSubscription[] = [];
  const byPreference = [...subscriptions].sort(
    (a, b) => Number(isLive(b, now)) - Number(isLive(a, now)) || Date.parse(b.expiresAt) - Date.parse(a.expiresAt),
  );
  for (const sub of byPreference) {
    if (resources.has(sub.resource) && !keepers.has(sub.resource)) keepers.set(sub.resource, sub);
    else extras.push(sub);
  }
  return { keepers, extras };
}

function needsRenewal(sub: HeldSubscription, input: PlanInput): boolean {
  const remainingMs = Date.parse(sub.expiresAt) - input.now.getTime();
  return remainingMs < input.policy.renewalMarginMinutes * MINUTE_MS || (input.renewNow?.includes(sub.subscriptionId) ?? false);
}

/** A subscription for another mailbox than the member's current one (their email changed). */
function watchesOtherMailbox(held: HeldSubscription, mailbox: string): boolean {
  return held.mailbox !== undefined && held.mailbox !== '' && held.mailbox.toLowerCase() !== mailbox.toLowerCase();
}

function planResource(resource: MailResource, held: HeldSubscription | undefined, input: PlanInput, mayWrite: boolean): PlannedAction[] {
  const expiresAt = minutesFrom(input.now, input.policy.lifetimeMinutes);
  const create: PlannedAction[] = mayWrite ? [{ kind: 'create', resource, expiresAt }] : [];
  if (held === undefined) return create;
  // The old mailbox's subscription goes and the new one's is made in the same run.
  if (watchesOtherMailbox(held, input.mailbox)) return [release(held, input.now), ...create];
  const { subscriptionId } = held;
  if (!isLive(held, input.now) || (input.removed?.includes(subscriptionId) ?? false)) {
    return [{ kind: 'forget', resource, subscriptionId }, ...create];
  }
  if (mayWrite && needsRenewal(held, input)) {
    if (input.replaceAtRenewal?.includes(subscriptionId)) return [{ kind: 'delete', resource, subscriptionId }];
    return [{ kind: 'renew', resource, subscriptionId, expiresAt }];
  }
  return [];
}

/** The actions that move one user's subscriptions towards the desired state. */
export function planUser(input: PlanInput): PlannedAction[] {
  // Suspension is re-checked here so a stale `desired` can never resurrect a suspended user.
  const desired = input.desired && !input.state?.suspendedReason;
  if (!desired) return input.subscriptions.map((sub) => release(sub, input.now));

  const resources = new Set(input.resources);
  const { keepers, extras } = splitKeepers(input.subscriptions, resources, input.now);
  const mayWrite = !isWaitingForRetry(input.state, input.now);
  return [
    ...extras.map((sub) => release(sub, input.now)),
    ...[...resources].flatMap((resource) => planResource(resource, keepers.get(resource), input, mayWrite)),
  ];
}

/** The provider call for an action; null for 'forget', which is bookkeeping only. */
export function toMailOperation(action: PlannedAction, employeeId: string, mailbox: string, clientState: string): MailOperation | null {
  switch (action.kind) {
    case 'create':
      return { kind: 'create', employeeId, mailbox, resource: action.resource, expiresAt: action.expiresAt, clientState };
    case 'renew':
      return { kind: 'renew', employeeId, subscriptionId: action.subscriptionId, expiresAt: action.expiresAt };
    case 'delete':
      return { kind: 'delete', employeeId, subscriptionId: action.subscriptionId };
    case 'forget':
      return null;
  }
}

// ---------------------------------------------------------------- outcome reducer

/** A provider result; a failure may carry the provider's Retry-After. */
export type ProviderResult = MailOperationResult;

/** For 'forget' no provider call is made; the executor passes { ok: true }. */
export interface ActionOutcome {
  action: PlannedAction;
  result: ProviderResult;
}

export type SubscriptionWrite =
  | { change: 'created'; resource: MailResource; subscriptionId: string; expiresAt: string; createdAt: string }
  | { change: 'renewed'; resource: MailResource; subscriptionId: string; expiresAt: string; lastRenewedAt: string };

export interface SubscriptionRemoval {
  resource: MailResource;
  subscriptionId: string;
}

export interface OutcomeEffects {
  state: ReconcileState;
  subscriptions: { upsert: SubscriptionWrite[]; remove: SubscriptionRemoval[] };
  /** creates answered "already exists": an orphan (or an overlapping run's) to re-check; the existing id when the provider named it */
  needsAdoption: Array<CreateAction & { existingId?: string }>;
}

type LastError = UserState['lastErrors'][number];

/** How one outcome counts towards the user's failure streak. */
type Verdict = 'success' | 'neutral' | 'transient' | { permanent: MailboxReason };

interface OutcomeEffect {
  verdict: Verdict;
  upsert?: SubscriptionWrite;
  remove?: SubscriptionRemoval;
  adopt?: CreateAction & { existingId?: string };
  error?: Omit<LastError, 'at'>;
}

type Failure = Extract<MailOperationResult, { ok: false }>;

function errorOf(action: PlannedAction, failure: Pick<Failure, 'code' | 'message'>): Omit<LastError, 'at'> {
  return { resource: action.resource, code: failure.code, message: failure.message };
}

function failureVerdict(failure: Failure): Verdict {
  // A permanent failure without a reason still means "this mailbox cannot be used"; access denied is the safe reading.
  return failure.failure === 'permanent' ? { permanent: failure.reason ?? 'MAILBOX_ACCESS_DENIED' } : 'transient';
}

function createEffect(action: CreateAction, result: ProviderResult, now: string): OutcomeEffect {
  if (result.ok && result.subscriptionId) {
    const { resource } = action;
    const expiresAt = result.expiresAt ?? action.expiresAt;
    return { verdict: 'success', upsert: { change: 'created', resource, subscriptionId: result.subscriptionId, expiresAt, createdAt: now } };
  }
  if (result.ok) {
    const message = 'The provider accepted the create but returned no subscription id.';
    return { verdict: 'transient', error: errorOf(action, { code: 'NO_SUBSCRIPTION_ID', message }) };
  }
  if (result.failure === 'exists') return { verdict: 'neutral', adopt: { ...action, ...(result.existingId ? { existingId: result.existingId } : {}) } };
  return { verdict: failureVerdict(result), error: errorOf(action, result) };
}

function renewEffect(action: Extract<PlannedAction, { kind: 'renew' }>, result: ProviderResult, now: string): OutcomeEffect {
  const { resource, subscriptionId } = action;
  if (result.ok) {
    const expiresAt = result.expiresAt ?? action.expiresAt;
    return { verdict: 'success', upsert: { change: 'renewed', resource, subscriptionId, expiresAt, lastRenewedAt: now } };
  }
  // Gone: the provider dropped it; forgetting it makes the next plan create a fresh one.
  if (result.failure === 'gone') return { verdict: 'neutral', remove: { resource, subscriptionId } };
  return { verdict: failureVerdict(result), error: errorOf(action, result) };
}

function deleteEffect(action: Extract<PlannedAction, { kind: 'delete' }>, result: ProviderResult): OutcomeEffect {
  const { resource, subscriptionId } = action;
  if (result.ok || result.failure === 'gone') return { verdict: 'success', remove: { resource, subscriptionId } };
  // Permanent (mailbox gone / access revoked): the provider cannot deliver for it any more and it
  // expires on its own; retrying a delete we can never perform would only loop. Record why.
  if (result.failure === 'permanent') return { verdict: 'neutral', remove: { resource, subscriptionId }, error: errorOf(action, result) };
  return { verdict: 'transient', error: errorOf(action, result) };
}

function effectOf({ action, result }: ActionOutcome, now: string): OutcomeEffect {
  // The provider could not be used at all (credentials, permission, an outage): nobody's fault
  // here, so nothing changes for this member; the organisation-level breaker handles it.
  if (!result.ok && result.failure === 'unavailable') return { verdict: 'neutral' };
  switch (action.kind) {
    case 'create':
      return createEffect(action, result, now);
    case 'renew':
      return renewEffect(action, result, now);
    case 'delete':
      return deleteEffect(action, result);
    case 'forget':
      return { verdict: 'neutral', remove: { resource: action.resource, subscriptionId: action.subscriptionId } };
  }
}

function retryAfterOf(outcomes: ActionOutcome[]): number | undefined {
  const values = outcomes.flatMap(({ result }) => (!result.ok && result.retryAfterMs !== undefined ? [result.retryAfterMs] : []));
  return values.length > 0 ? Math.max(...values) : undefined;
}

interface FoldContext {
  now: Date;
  policy: ReconcilePolicy;
  random: () => number;
  retryAfterMs: number | undefined;
}

/**
 * One run counts once towards the streak: any failure in it → +1 (and a backoff), otherwise any
 * success resets the streak; a run of only neutral outcomes (adoption, forget) changes nothing.
 */
function nextState(previous: ReconcileState, effects: OutcomeEffect[], ctx: FoldContext): ReconcileState {
  const at = ctx.now.toISOString();
  const errors = effects.flatMap((e) => (e.error ? [{ at, ...e.error }] : []));
  const lastErrors = [...previous.lastErrors, ...errors].slice(-KEPT_ERRORS);
  const verdicts = effects.map((e) => e.verdict);
  const permanent = verdicts.find((v): v is { permanent: MailboxReason } => typeof v === 'object');
  const failed = permanent !== undefined || verdicts.includes('transient');

  if (!failed) {
    const succeeded = verdicts.includes('success');
    // A suspension keeps the streak that caused it (the why view quotes it) until the admin forces a sync;
    // the deletes that follow a suspension succeed without lifting it.
    if (!succeeded || previous.suspendedReason !== null) return { ...previous, lastErrors };
    return { ...previous, consecutiveFailures: 0, nextRetryAt: null, lastErrors };
  }
  const consecutiveFailures = previous.consecutiveFailures + 1;
  // The first cause is kept: a mailbox reason says more than the streak it may have ended.
  const suspendedReason =
    previous.suspendedReason ?? permanent?.permanent ?? (consecutiveFailures >= ctx.policy.maxFailures ? 'TOO_MANY_FAILURES' : null);
  if (suspendedReason !== null) return { consecutiveFailures, suspendedReason, lastErrors, nextRetryAt: null };
  const delay = retryAfterWins(retryDelayMs(consecutiveFailures, ctx.random, ctx.policy.backoff ?? DEFAULT_BACKOFF), ctx.retryAfterMs);
  return { consecutiveFailures, suspendedReason, lastErrors, nextRetryAt: new Date(ctx.now.getTime() + delay).toISOString() };
}

/** Folds one run's results into the user's next state and the subscription rows to write. */
export function applyOutcomes(
  state: ReconcileState | null,
  outcomes: ActionOutcome[],
  now: Date,
  policy: ReconcilePolicy,
  random: () => number,
): OutcomeEffects {
  const stamp = now.toISOString();
  const effects = outcomes.map((outcome) => effectOf(outcome, stamp));
  const previous = state ?? initialReconcileState();
  return {
    state: nextState(previous, effects, { now, policy, random, retryAfterMs: retryAfterOf(outcomes) }),
    subscriptions: {
      upsert: effects.flatMap((e) => (e.upsert ? [e.upsert] : [])),
      remove: effects.flatMap((e) => (e.remove ? [e.remove] : [])),
    },
    needsAdoption: effects.flatMap((e) => (e.adopt ? [e.adopt] : [])),
  };
}

/** The admin's "force sync": lifts a suspension and the backoff, keeping the errors for explanation. */
export function clearSuspension<T extends ReconcileState>(state: T): T {
  return { ...state, suspendedReason: null, consecutiveFailures: 0, nextRetryAt: null };
}
