/**
 * The outcome reducer: what the provider answered to the planned actions becomes the next
 * reconcile state (backoff, suspension, kept errors) and the subscription rows to write or
 * remove. Pure, like the planner whose actions it folds.
 */
import type { MailOperationResult } from '../ports';
import { DEFAULT_BACKOFF, retryAfterWins, retryDelayMs } from './backoff';
import type { MailboxReason, MailResource, UserState } from './model';
import { initialReconcileState, type CreateAction, type PlannedAction, type ReconcilePolicy } from './planner';
import type { ReconcileState } from './status';

const KEPT_ERRORS = 5;

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
