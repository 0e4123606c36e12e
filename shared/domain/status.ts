/**
 * The one effective-status resolver (SPEC §2 "Per-user sync status"). The members list, group
 * counts, the "why is this user (not) syncing" endpoint, notification intake and the planner
 * (through wantsSubscriptions) all use it, so they can never disagree.
 */
import { MEMBER_PREREQUISITE_MESSAGES } from './prerequisites';
import {
  SYNC_STATUSES,
  type MailboxReason,
  type MailResource,
  type MemberPrerequisiteCode,
  type StatusCounts,
  type StatusReason,
  type Subscription,
  type SyncStatus,
  type SyncSwitch,
  type UserState,
} from './model';

/** The reconciler bookkeeping the status and the planner read. */
export type ReconcileState = Pick<UserState, 'consecutiveFailures' | 'suspendedReason' | 'lastErrors' | 'nextRetryAt'>;
/** What we know about one subscription we hold (our table is the source of truth). */
export type HeldSubscription = Pick<Subscription, 'resource' | 'subscriptionId' | 'expiresAt'> & Partial<Pick<Subscription, 'mailbox'>>;

export interface MembershipFacts {
  groupId: string;
  groupSync: SyncSwitch;
  syncChangedAt: string;
}

/** The switches and checks that decide whether a user should have subscriptions at all. */
export interface EligibilityInput {
  membership: MembershipFacts | null;
  prerequisite: MemberPrerequisiteCode | null;
  /** the stored message for that prerequisite; the shared one is used when absent */
  prerequisiteMessage?: string | undefined;
  userEnabled: boolean;
  state: ReconcileState | null;
}

export interface StatusInput extends EligibilityInput {
  subscriptions: HeldSubscription[];
  /** the configured resources every syncing user must have a subscription for */
  resources: MailResource[];
  now: Date;
}

export interface StatusStep {
  name: string;
  ok: boolean;
  detail: string;
}

export interface EffectiveStatus {
  status: SyncStatus;
  reason: StatusReason | null;
  message: string;
  /** notifications are accepted only while true ("stopping is immediate") */
  syncing: boolean;
  /** the evaluation, in order; evaluation stops at the first step that decides the status */
  steps: StatusStep[];
}

export const MAILBOX_REASON_MESSAGES: Readonly<Record<MailboxReason, string>> = {
  MAILBOX_NOT_FOUND:
    'The mail provider has no mailbox for this email address (or it is not enabled for the API). ' +
    'Fix the mailbox or the email on the employee record, then force a sync.',
  MAILBOX_ACCESS_DENIED:
    'The app is not allowed to read this mailbox. ' +
    'Grant the app access (application access policy / API permissions), then force a sync.',
};

const SYNCING_STATUSES: ReadonlySet<SyncStatus> = new Set<SyncStatus>(['active', 'pending', 'with_issues']);

/** Whether change notifications are accepted for a user with this status. */
export function isSyncing(status: SyncStatus): boolean {
  return SYNCING_STATUSES.has(status);
}

type Verdict = Pick<EffectiveStatus, 'status' | 'reason' | 'message'>;

interface GateResult {
  steps: StatusStep[];
  /** the status decided by a failing gate, or null when every gate passes */
  verdict: Verdict | null;
}

function suspensionMessage(state: ReconcileState, reason: NonNullable<ReconcileState['suspendedReason']>): string {
  if (reason !== 'TOO_MANY_FAILURES') return MAILBOX_REASON_MESSAGES[reason];
  const last = state.lastErrors[state.lastErrors.length - 1];
  const cause = last ? ` Last error: ${last.code} — ${last.message}.` : '';
  // Rows written before the streak was kept through a suspension may say 0: no count is better than a wrong one.
  const streak = state.consecutiveFailures > 0 ? ` after ${state.consecutiveFailures} consecutive failure${state.consecutiveFailures === 1 ? '' : 's'}` : '';
  return `Suspended${streak}.${cause} Force a sync once the cause is fixed.`;
}

type Gate = (input: EligibilityInput) => { step: StatusStep; verdict: Verdict | null };

const GATES: readonly Gate[] = [
  ({ membership }) =>
    membership === null
      ? {
          step: { name: 'membership', ok: false, detail: 'Not a member of any group.' },
          verdict: { status: 'disabled', reason: 'NOT_A_MEMBER', message: 'Not a member of any group; add the user to a group to sync.' },
        }
      : { step: { name: 'membership', ok: true, detail: `Member of group ${membership.groupId}.` }, verdict: null },
  ({ membership }) => {
    const group = membership as MembershipFacts; // the membership gate ran first
    if (group.groupSync === 'enabled') {
      return { step: { name: 'group switch', ok: true, detail: `Group ${group.groupId} sync is enabled.` }, verdict: null };
    }
    const detail = `Group ${group.groupId} sync is disabled (since ${group.syncChangedAt}).`;
    // A disabled group is the emergency stop: it overrides the user's own switch.
    return { step: { name: 'group switch', ok: false, detail }, verdict: { status: 'disabled', reason: 'GROUP_DISABLED', message: detail } };
  },
  ({ userEnabled }) =>
    userEnabled
      ? { step: { name: 'user switch', ok: true, detail: 'The user sync switch is enabled.' }, verdict: null }
      : {
          step: { name: 'user switch', ok: false, detail: 'The user sync switch is disabled.' },
          verdict: { status: 'disabled', reason: 'USER_DISABLED', message: 'The user sync switch is disabled.' },
        },
  ({ prerequisite, prerequisiteMessage }) => {
    if (prerequisite === null) {
      return { step: { name: 'member prerequisites', ok: true, detail: 'All member prerequisites pass.' }, verdict: null };
    }
    const message = prerequisiteMessage || MEMBER_PREREQUISITE_MESSAGES[prerequisite];
    return {
      step: { name: 'member prerequisites', ok: false, detail: `${prerequisite}: ${message}` },
      verdict: { status: 'not_configured', reason: prerequisite, message },
    };
  },
  ({ state }) => {
    const reason = state?.suspendedReason ?? null;
    if (state === null || reason === null) {
      return { step: { name: 'suspension', ok: true, detail: 'Not suspended.' }, verdict: null };
    }
    const message = suspensionMessage(state, reason);
    const step = { name: 'suspension', ok: false, detail: `${reason}: ${message}` };
    return { step, verdict: { status: 'suspended', reason, message } };
  },
];

function evaluateGates(input: EligibilityInput): GateResult {
  const steps: StatusStep[] = [];
  for (const gate of GATES) {
    const { step, verdict } = gate(input);
    steps.push(step);
    if (verdict !== null) return { steps, verdict };
  }
  return { steps, verdict: null };
}

/**
 * True when the user should hold subscriptions: member of an enabled group, own switch on,
 * prerequisites pass and not suspended. The planner's `desired`, from the same gates as resolveStatus.
 */
export function wantsSubscriptions(input: EligibilityInput): boolean {
  return evaluateGates(input).verdict === null;
}

/** A subscription counts only until its expiry: the provider drops it then. */
export function isLive(subscription: Pick<Subscription, 'expiresAt'>, now: Date): boolean {
  return Date.parse(subscription.expiresAt) > now.getTime();
}

/** The subscription we hold for a resource, preferring a live one. */
function heldFor(resource: MailResource, subscriptions: HeldSubscription[], now: Date): HeldSubscription | undefined {
  const forResource = subscriptions.filter((s) => s.resource === resource);
  return forResource.find((s) => isLive(s, now)) ?? forResource[0];
}

function subscriptionStep(resource: MailResource, held: HeldSubscription | undefined, now: Date): StatusStep {
  const name = `subscription ${resource}`;
  if (held === undefined) return { name, ok: false, detail: 'No subscription yet.' };
  if (!isLive(held, now)) return { name, ok: false, detail: `Subscription ${held.subscriptionId} expired at ${held.expiresAt}.` };
  return { name, ok: true, detail: `Subscription ${held.subscriptionId} expires at ${held.expiresAt}.` };
}

function retryingVerdict(state: ReconcileState): Verdict {
  const last = state.lastErrors[state.lastErrors.length - 1];
  const when = state.nextRetryAt ? `next retry at ${state.nextRetryAt}` : 'retrying on the next run';
  const cause = last ? ` Last error: ${last.code} — ${last.message}.` : '';
  return {
    status: 'with_issues',
    reason: 'TRANSIENT_FAILURE',
    message: `${state.consecutiveFailures} consecutive failure(s); ${when}.${cause}`,
  };
}

function subscriptionVerdict(input: StatusInput, allLive: boolean): Verdict {
  if (allLive) return { status: 'active', reason: null, message: 'Syncing: every subscription is live.' };
  if (input.state !== null && input.state.consecutiveFailures > 0) return retryingVerdict(input.state);
  return { status: 'pending', reason: 'SUBSCRIPTIONS_PENDING', message: 'Sync is enabled; subscriptions are being created.' };
}

/** The effective status of one user, with the evaluated steps in order. */
export function resolveStatus(input: StatusInput): EffectiveStatus {
  const gates = evaluateGates(input);
  if (gates.verdict !== null) return { ...gates.verdict, syncing: isSyncing(gates.verdict.status), steps: gates.steps };

  const subscriptionSteps = [...new Set(input.resources)].map((resource) =>
    subscriptionStep(resource, heldFor(resource, input.subscriptions, input.now), input.now),
  );
  const verdict = subscriptionVerdict(input, subscriptionSteps.every((step) => step.ok));
  return { ...verdict, syncing: isSyncing(verdict.status), steps: [...gates.steps, ...subscriptionSteps] };
}

export function emptyCounts(): StatusCounts {
  return Object.fromEntries(SYNC_STATUSES.map((status) => [status, 0])) as StatusCounts;
}

export function countStatuses(statuses: SyncStatus[]): StatusCounts {
  const counts = emptyCounts();
  for (const status of statuses) counts[status] += 1;
  return counts;
}
