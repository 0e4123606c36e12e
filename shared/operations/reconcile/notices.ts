import type { Member, UserState } from '../../domain/model';
import { publishNotice } from '../outbox';
import { updateUserState } from '../userSync';
import type { Deps, ReconcileOptions } from './options';

/** The episode of one user's suspension: the same people are told about different users, so it names the user. */
export const suspensionEpisode = (employeeId: string, suspendedAt: string) => `${employeeId}@${suspendedAt}`;

/**
 * Announces a suspension once: level-triggered, so a run that died between suspending a
 * user and queueing the notice is made good by the next run that sees them. The notice
 * is queued first and then remembered (`suspensionNoticeFor`); a second notice of the
 * same episode sends nothing (the outbox de-duplicates).
 */
export async function announceSuspension(
  deps: Deps,
  facts: { member: Member | null; group: { id: string } | null },
  state: Omit<UserState, 'etag'> | null,
  options: ReconcileOptions & { requestId?: string },
): Promise<void> {
  if (!state?.suspendedReason || !state.suspendedAt || state.suspensionNoticeFor === state.suspendedAt) return;
  const suspendedAt = state.suspendedAt;
  const last = state.lastErrors[state.lastErrors.length - 1];
  const queued = await publishNotice(
    deps,
    {
      cause: 'user_suspended',
      episode: suspensionEpisode(state.employeeId, suspendedAt),
      employeeId: state.employeeId,
      name: facts.member?.name ?? '',
      email: facts.member?.email ?? '',
      groupId: facts.group?.id ?? null,
      reason: state.suspendedReason,
      detail: last ? `Last error (${last.resource}, ${last.at}): ${last.code}: ${last.message}` : '',
    },
    { requestId: options.requestId ?? `suspension-${state.employeeId}`, log: options.log },
  );
  if (!queued) return; // the next run tries again
  await updateUserState(deps, state.employeeId, options.now(), (s) => (s.suspendedAt === suspendedAt ? { ...s, suspensionNoticeFor: suspendedAt } : s));
}
