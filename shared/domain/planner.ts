/**
 * The reconciliation planner (issue 3 item 2). Pure: desired state, the subscriptions we hold
 * (our table, never the provider's rate-limited list) and a clock go in; actions come out. The
 * executor applies them and feeds the results back through applyOutcomes (outcomes.ts).
 */
import type { MailOperation } from '../ports';
import type { BackoffPolicy } from './backoff';
import type { MailResource } from './model';
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
