import { ACCESS_CAUSE_MESSAGES } from '../domain/graphAccess';
import type { ActivityTypeCheck, GraphAccess } from '../ports';
import { describe } from '../logging';
import { currentGraphAccess } from './graphAccess';
import type { Group, SyncSwitch } from '../domain/model';
import { ConflictError, PreconditionFailedError, ServiceUnavailableError } from '../errors';
import type { Services } from '../services';
import { actor, audit, CONNECT_SCOPE, groupScope, nudge, requireGroupEtag, type OperationContext } from './context';
import { blockingFailures, memberPrerequisiteSummary, organisationPrerequisites, toPrerequisiteSummary } from './prerequisites';
import { requireGroup, statusSummaryFor, toGroupView } from './views';
import { countStatusesOverall } from './statusCounts';

type Deps = Pick<Services, 'config' | 'secrets' | 'directory' | 'storage'>;
type StatusDeps = Deps & Pick<Services, 'mailer'> & {
  /** the data sync's ACTIVITY_TYPE look-up (memoised per process); absent → not reported */
  activityType?: () => Promise<ActivityTypeCheck>;
};

const AFFECTED_PAGE = 20;
/** Concurrent toggles without If-Match re-read and retry; each accepted change is audited once. */
const MAX_ATTEMPTS = 10;

/**
 * The toggle. Constant work whatever the group's size: read the group, write its
 * switch (ETag-guarded), one audit row, one queue message. Member prerequisite
 * results are read from the per-group summary, never by visiting members.
 */
export async function toggleGroupSync(
  deps: Deps,
  input: { groupId: string; enabled: boolean; ifMatch: string | null },
  ctx: OperationContext,
) {
  const target: SyncSwitch = input.enabled ? 'enabled' : 'disabled';
  let orgChecked = false;
  for (let attempt = 1; ; attempt++) {
    const group = await requireGroup(deps.storage, input.groupId);
    requireGroupEtag(group, input.ifMatch);
    if (group.sync === target) return withReconciliation(await toggleResponse(deps, group, false), false);
    if (target === 'enabled' && group.mailboxAccess !== 'office365') {
      // Only Microsoft Graph subscriptions exist so far; enabling must not pretend to sync Gmail.
      throw new ConflictError(
        'MAILBOX_ACCESS_NOT_SUPPORTED',
        `Group '${group.id}' uses ${group.mailboxAccess} mailbox access, which this service does not synchronize yet; only office365 groups can be enabled.`,
      );
    }
    if (target === 'enabled' && !orgChecked) {
      const blocking = blockingFailures(await organisationPrerequisites(deps));
      if (blocking.some((f) => !f.unknown)) {
        throw new ConflictError(
          'ORG_PREREQUISITES_NOT_MET',
          `Synchronization cannot be enabled: ${blocking.map((f) => f.code).join(', ')} not met.`,
          { prerequisites: blocking },
        );
      }
      if (blocking.length > 0) {
        // "could not check" is not "failed": nothing is known to be wrong, so a retry may well succeed
        throw new ServiceUnavailableError(
          'vantagepoint',
          `Synchronization was not enabled: ${blocking.map((f) => f.code).join(', ')} could not be checked now (${blocking[0]?.message}). Retry shortly.`,
          30,
        );
      }
      orgChecked = true;
    }
    const at = changeTime(ctx.now, group.syncChangedAt);
    let updated;
    try {
      updated = await deps.storage.groups.update(group.id, { sync: target, syncChangedAt: at, updatedAt: at, updatedBy: actor(ctx) }, group.etag);
    } catch (err) {
      if (err instanceof PreconditionFailedError && input.ifMatch === null && attempt < MAX_ATTEMPTS) continue;
      throw err;
    }
    const [, requested, response] = await Promise.all([
      audit(deps.storage.audit, { ...ctx, now: new Date(at) }, { action: 'group.sync', target: group.id, from: group.sync, to: target, scopes: [groupScope(group.id)] }),
      nudge(deps.storage.reconcileQueue, ctx, { groupId: group.id, reason: `group.sync.${target}` }),
      toggleResponse(deps, updated, true),
    ]);
    return withReconciliation(response, requested);
  }
}

/**
 * When a switch change happens: now, but always after the change it replaces. The audit trail
 * is ordered by this time, so with concurrent toggles (or skewed instance clocks) the newest
 * `group.sync` entry is still the write that won, whose `to` is the group's state.
 */
function changeTime(now: Date, previousChangeAt: string): string {
  const previous = Date.parse(previousChangeAt);
  return new Date(Number.isFinite(previous) ? Math.max(now.getTime(), previous + 1) : now.getTime()).toISOString();
}

async function toggleResponse(deps: Deps, group: Group, changed: boolean) {
  // Three independent reads; the member summary row serves both the counts and the prerequisite summary.
  const [summary, status, affected] = await Promise.all([
    deps.storage.members.summary(group.id),
    statusSummaryFor(deps.storage, group),
    deps.storage.members.listWithIssues(group.id, { top: AFFECTED_PAGE }),
  ]);
  const view = toGroupView(group, summary, status);
  const members = toPrerequisiteSummary(summary, affected);
  return { group: view, changed, members, reconciliation: { requested: false } };
}

function withReconciliation(response: Awaited<ReturnType<typeof toggleResponse>>, requested: boolean) {
  return { ...response, reconciliation: { requested } };
}

export async function preflight(deps: Deps, input: { groupId: string; top: number; continuationToken?: string | undefined }) {
  const group = await requireGroup(deps.storage, input.groupId);
  const [organisation, members] = await Promise.all([
    organisationPrerequisites(deps),
    memberPrerequisiteSummary(deps.storage, group.id, input),
  ]);
  return { groupId: group.id, canEnable: blockingFailures(organisation).length === 0, organisation, members };
}

export async function connectStatus(deps: StatusDeps) {
  const [organisation, overall, mail, syncIssues, graph] = await Promise.all([
    organisationPrerequisites(deps),
    countStatusesOverall(deps.storage),
    deps.storage.mailHealth.get(),
    deps.storage.syncIssues.count(),
    currentGraphAccess(deps, true),
  ]);
  const activityType = deps.activityType ? await deps.activityType().catch((err: unknown): ActivityTypeCheck => ({ known: 'unverifiable', message: describe(err) })) : null;
  const sender = deps.mailer?.sender ?? null;
  return {
    organisation,
    checks: [graphAccessCheck(graph), ...(activityType ? [activityTypeCheck(deps.config.ACTIVITY_TYPE, activityType)] : [])],
    credential: deps.directory.health(),
    outboundIpAddresses: deps.config.OUTBOUND_IP_ADDRESSES,
    counts: overall.counts,
    groups: overall.groups,
    syncIssues,
    // Graph refusing notification emails shows here and nowhere else breaks.
    notifications: {
      sender,
      ok: sender !== null && (mail.lastErrorAt === null || (mail.lastSentAt !== null && mail.lastSentAt > mail.lastErrorAt)),
      ...mail,
    },
  };
}

export async function refreshCredentials(deps: Deps, ctx: OperationContext) {
  const before = deps.directory.health();
  const after = await deps.directory.refreshCredentials();
  await audit(deps.storage.audit, ctx, {
    action: 'credentials.refresh',
    target: 'vantagepoint',
    from: { secretVersion: before.secretVersion },
    to: { secretVersion: after.secretVersion, ok: after.ok },
    scopes: [CONNECT_SCOPE],
  });
  return after;
}

/** The breaker's state as the GRAPH_ACCESS check of the status endpoint. */
function activityTypeCheck(type: string, check: ActivityTypeCheck) {
  const ok = check.known === true;
  const message = ok ? `Activity type '${type}' exists in Vantagepoint.` : check.known === false ? check.message : `Activity type '${type}' could not be checked: ${check.message}`;
  const error = ok ? null : check.known === false ? 'UNKNOWN_ACTIVITY_TYPE' : 'UNVERIFIABLE';
  return { code: 'ACTIVITY_TYPE' as const, ok, message, cause: null, error, since: null };
}

function graphAccessCheck(access: GraphAccess) {
  const ok = access.state === 'ok';
  const message = ok
    ? 'The app can use Microsoft Graph.'
    : `${access.cause ? ACCESS_CAUSE_MESSAGES[access.cause] : 'Microsoft Graph cannot be used.'} No member is charged for it; synchronization resumes by itself once it works again.${access.message ? ` Graph said: ${access.message}` : ''}`;
  return { code: 'GRAPH_ACCESS' as const, ok, message, cause: access.cause, error: access.code, since: access.since };
}
