/**
 * The mass-removal guard of a group pass. Before a pass refreshes member prerequisites
 * from Vantagepoint, it counts — writing nothing — how many active members the fresh
 * answer would take out of synchronization. More than the threshold allows (Settings:
 * `massRemovalGuard`) and the pass stops: nobody is removed, the group shows `hold` with
 * the count and the cause, the administrators get one email. The hold is the
 * reconciler's outcome (kept with the status counts); an administrator's confirmation
 * (POST .../sync/confirm-removals) is a separate fact the next pass acts on, for as many
 * removals as the administrator saw (plus the usual limit), no more. A later pass
 * that no longer sees the mass change clears the hold by itself. Disabling a group and
 * removing members are explicit admin actions and never pass through here.
 */
import { emptyCounts, guardTrips, removalLimit, withFacts } from '../../domain';
import type { Group } from '../../domain/model';
import { describe } from '../../logging';
import type { GroupHold } from '../../ports';
import { publishNotice } from '../outbox';
import { readSettings } from '../settings';
import { PREREQUISITE_MAX_AGE_MS, type Deps, type ReconcileOptions } from './options';

/** Member rows read per storage call by the survey (Table Storage's largest page). */
const SURVEY_PAGE = 1000;

export interface RemovalSurvey {
  /** eligible members (no failing prerequisite) now */
  activeMembers: number;
  /** of those, how many the fresh evaluation would take out */
  count: number;
  byReason: Record<string, number>;
  /** the first of them by name (at most SURVEY_NAMES), for the administrators' email */
  people: string[];
}

/** People named in a hold's email; the count says how many more. */
const SURVEY_NAMES = 20;

/**
 * What a prerequisite refresh would do now, without doing it: one pass over the member
 * rows (a page of 1000 per call) and Vantagepoint's facts for the stale ones. null when
 * Vantagepoint could not answer.
 */
export async function surveyRemovals(deps: Deps, groupId: string, options: ReconcileOptions): Promise<RemovalSurvey | null> {
  const directory = deps.directory;
  if (!directory) return null;
  const now = options.now();
  const survey: RemovalSurvey = { activeMembers: 0, count: 0, byReason: {}, people: [] };
  let token: string | undefined;
  do {
    const page = await deps.storage.members.list(groupId, { top: SURVEY_PAGE, continuationToken: token });
    const eligible = page.items.filter((m) => m.prerequisite === null);
    survey.activeMembers += eligible.length;
    const stale = eligible.filter((m) => now.getTime() - Date.parse(m.checkedAt) > PREREQUISITE_MAX_AGE_MS);
    if (stale.length > 0) {
      let facts;
      try {
        facts = await directory.employeeFacts(stale.map((m) => m.employeeId));
      } catch (err) {
        options.log('reconcile.guard_survey_failed', { groupId, error: describe(err) });
        return null;
      }
      for (const member of stale) {
        const after = withFacts(member, facts.get(member.employeeId), now.toISOString()).prerequisite;
        if (after === null) continue;
        survey.count++;
        survey.byReason[after] = (survey.byReason[after] ?? 0) + 1;
        if (survey.people.length < SURVEY_NAMES) survey.people.push(`${member.name || member.employeeId} (${member.employeeId})`);
      }
    }
    token = page.continuationToken ?? undefined;
  } while (token);
  return survey;
}

export function describeCause(survey: RemovalSurvey): string {
  const reasons = Object.entries(survey.byReason)
    .sort(([, a], [, b]) => b - a)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  return (
    `Vantagepoint's latest answer makes ${survey.count} of ${survey.activeMembers} active members ineligible (${reasons}). ` +
    'An empty or truncated user list, or a service account that sees no employees, looks like this.'
  );
}

/**
 * proceed: the pass goes on (refresh: whether it may refresh prerequisites from Vantagepoint);
 * held: the pass stops here, having removed nobody.
 */
export type GuardVerdict = { proceed: true; refresh: boolean; removalBudget?: number } | { proceed: false; hold: GroupHold };

export async function checkGuard(deps: Deps, group: Group, passOf: string, options: ReconcileOptions & { requestId: string }): Promise<GuardVerdict> {
  const [survey, summary] = await Promise.all([surveyRemovals(deps, group.id, options), deps.storage.statusSummaries.get(group.id)]);
  const sameSwitch = summary?.switchAt === passOf;
  const current = sameSwitch ? (summary?.hold ?? null) : null;
  if (!survey) {
    // Nobody can say what a refresh would do: this pass keeps the stored evaluations (removes nobody for them).
    return current ? { proceed: false, hold: current } : { proceed: true, refresh: false };
  }
  const { massRemovalGuard } = await readSettings(deps.storage.settings);
  const limit = removalLimit(survey.activeMembers, massRemovalGuard);
  if (!guardTrips(survey.count, survey.activeMembers, massRemovalGuard)) {
    if (current) options.log('reconcile.guard_cleared', { groupId: group.id, heldAt: current.heldAt, count: survey.count, activeMembers: survey.activeMembers });
    // The survey is a look before the pass: what the pages' refreshes then take out is held to the same limit.
    return { proceed: true, refresh: true, removalBudget: limit };
  }
  let grew = false;
  if (current) {
    const confirmation = await deps.storage.removalConfirmations.get(group.id);
    if (confirmation?.heldAt === current.heldAt) {
      // The administrator confirmed the removals they saw, and the usual limit on top; a change
      // grown past that since (Vantagepoint answering worse still) is a new hold, with its own email.
      const allowed = (confirmation.count ?? survey.count) + limit;
      if (survey.count <= allowed) {
        options.log('reconcile.guard_confirmed', { groupId: group.id, heldAt: current.heldAt, count: survey.count, by: confirmation.by });
        return { proceed: true, refresh: true, removalBudget: allowed };
      }
      options.log('reconcile.guard_grew', { groupId: group.id, heldAt: current.heldAt, confirmed: confirmation.count, count: survey.count, allowed });
      grew = true;
    }
  }
  const now = options.now().toISOString();
  const kept = grew ? null : current;
  const hold: GroupHold = {
    heldAt: kept?.heldAt ?? now,
    checkedAt: now,
    count: survey.count,
    activeMembers: survey.activeMembers,
    limit,
    byReason: survey.byReason,
    cause: describeCause(survey),
    noticeQueued: kept?.noticeQueued ?? false,
  };
  if (!hold.noticeQueued) {
    // One email per hold (its episode is heldAt); queued again only if queueing failed.
    hold.noticeQueued = await publishNotice(
      deps,
      {
        cause: 'group_held',
        episode: `${group.id}@${hold.heldAt}`,
        groupId: group.id,
        groupName: group.name,
        count: hold.count,
        activeMembers: hold.activeMembers,
        limit: hold.limit,
        people: survey.people,
        detail: hold.cause,
      },
      { requestId: options.requestId, log: options.log },
    );
  }
  await deps.storage.statusSummaries.put(group.id, {
    counts: sameSwitch && summary ? summary.counts : emptyCounts(),
    computedAt: sameSwitch && summary ? summary.computedAt : now,
    switchAt: passOf,
    hold,
  });
  options.log('reconcile.guard_held', { groupId: group.id, heldAt: hold.heldAt, count: hold.count, activeMembers: hold.activeMembers, limit: hold.limit, byReason: hold.byReason });
  return { proceed: false, hold };
}
