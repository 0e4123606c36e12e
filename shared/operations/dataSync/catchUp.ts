/**
 * Catch-up: a calendarView/delta round over the sync window, for `missed` and
 * `subscriptionRemoved` (changes may have been lost) and the first time a user is seen.
 * A round continues from the kept deltaLink; a new round starts when there is none or the
 * window it covers has moved on. After a full round, mapped events the round did not return
 * are read one by one (deleted or moved out of the window → their activities go).
 */
import { mapLimited } from '../../util/concurrency';
import type { ActivityLink, DeltaPage, DeltaState } from '../../ports';
import type { DataSyncContext, DataSyncDeps, SyncUser } from './context';
import { recordItem, updateDataSyncState } from './record';
import { syncEvent } from './syncEvent';

const DAY_MS = 86_400_000;
/** A kept delta round is reused while its window started less than this long ago. */
const ROUND_MAX_AGE_MS = DAY_MS;
/** Items of one page synced at once (Graph's per-mailbox limit is 4 requests in flight). */
const PAGE_CONCURRENCY = 4;
/** Pages per catch-up; a calendar beyond this is finished by the next catch-up. */
const MAX_PAGES = 200;

export interface CatchUpResult {
  full: boolean;
  pages: number;
  events: number;
  removed: number;
  confirmed: number;
  complete: boolean;
}

function newWindow(deps: DataSyncDeps, now: Date): { start: string; end: string } {
  return {
    start: new Date(now.getTime() - deps.config.SYNC_WINDOW_DAYS * DAY_MS).toISOString(),
    end: new Date(now.getTime() + deps.config.SYNC_HORIZON_DAYS * DAY_MS).toISOString(),
  };
}

export async function catchUp(deps: DataSyncDeps, user: SyncUser, ctx: DataSyncContext, stillSyncing: () => Promise<boolean>): Promise<CatchUpResult> {
  const now = ctx.now();
  const state = await deps.storage.dataSyncState.get(user.employeeId);
  const kept = state?.delta ?? null;
  const reuse = kept !== null && now.getTime() - Date.parse(kept.windowStart) < deps.config.SYNC_WINDOW_DAYS * DAY_MS + ROUND_MAX_AGE_MS;
  const window = reuse && kept ? { start: kept.windowStart, end: kept.windowEnd } : newWindow(deps, now);
  const full = !reuse;
  const seen = new Set<string>();
  const result: CatchUpResult = { full, pages: 0, events: 0, removed: 0, confirmed: 0, complete: false };

  let from: { link: string } | { start: string; end: string } = reuse && kept ? { link: kept.deltaLink } : window;
  let deltaLink: string | null = null;
  while (result.pages < MAX_PAGES) {
    if (!(await stillSyncing())) return result;
    const page: DeltaPage = await deps.events.delta(user.mailbox, from);
    result.pages++;
    await mapLimited(
      page.events,
      async (event) => {
        seen.add(event.id);
        const outcome = await syncEvent(deps, user, event.id, ctx, { read: { found: true, event }, stillSyncing });
        await recordItem(deps, { employeeId: user.employeeId, eventId: event.id, ...outcome }, ctx);
      },
      PAGE_CONCURRENCY,
    );
    result.events += page.events.length;
    // @removed: deleted, or changed outside the window; only events we mapped matter, and each is read to be sure.
    await mapLimited(
      page.removed,
      async (eventId) => {
        if (!(await deps.storage.activityLinks.get(user.employeeId, eventId))) return;
        result.removed++;
        const outcome = await syncEvent(deps, user, eventId, ctx, { stillSyncing });
        await recordItem(deps, { employeeId: user.employeeId, eventId, ...outcome }, ctx);
      },
      PAGE_CONCURRENCY,
    );
    if (page.nextLink) {
      from = { link: page.nextLink };
      continue;
    }
    deltaLink = page.deltaLink;
    break;
  }
  if (deltaLink === null) return result; // unfinished: the next catch-up starts this round again

  if (full) result.confirmed = await confirmUnseen(deps, user, seen, ctx, stillSyncing);
  const delta: DeltaState = { deltaLink, windowStart: window.start, windowEnd: window.end, completedAt: ctx.now().toISOString() };
  await updateDataSyncState(deps, user.employeeId, ctx.now(), (s) => ({ ...s, delta, catchUpRequestedAt: null }));
  result.complete = true;
  ctx.log('datasync.catchup', { requestId: ctx.requestId, employeeId: user.employeeId, ...result });
  return result;
}

/** Mapped events a full round did not return: each is read, and synced (usually deleted) by what Graph says now. */
async function confirmUnseen(deps: DataSyncDeps, user: SyncUser, seen: Set<string>, ctx: DataSyncContext, stillSyncing: () => Promise<boolean>): Promise<number> {
  let confirmed = 0;
  let continuationToken: string | undefined;
  do {
    const page = await deps.storage.activityLinks.listForUser(user.employeeId, { top: 100, continuationToken });
    const unseen = page.items.filter((l: ActivityLink) => !seen.has(l.eventId) && l.state !== 'removed');
    await mapLimited(
      unseen,
      async (link) => {
        confirmed++;
        const outcome = await syncEvent(deps, user, link.eventId, ctx, { stillSyncing });
        await recordItem(deps, { employeeId: user.employeeId, eventId: link.eventId, ...outcome }, ctx);
      },
      PAGE_CONCURRENCY,
    );
    continuationToken = page.continuationToken ?? undefined;
  } while (continuationToken);
  return confirmed;
}
