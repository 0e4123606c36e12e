/**
 * One Outlook event → at most one Vantagepoint activity. Always reads the current state of
 * the event (a notification says "this changed", not what changed), then creates, updates,
 * deletes or does nothing. Never a duplicate:
 * - the mapping row is written as an intent ("creating") before the create, so a concurrent
 *   attempt for the same event waits (its create of the row conflicts) instead of creating too;
 * - a crash between the Vantagepoint write and the mapping write leaves the intent: the retry
 *   finds the orphan by the reference in its Notes before creating;
 * - an unchanged changeKey (or unchanged fields) writes nothing.
 */
import { activityDigest, eligibility, EventTimeError, removedSubject, SKIP_REASON_MESSAGES, syncReference, toActivity, type CalendarEvent } from '../../domain/events';
import { ConflictError, PreconditionFailedError, ServiceUnavailableError } from '../../errors';
import type { ActivityLink, EventRead } from '../../ports';
import type { DataSyncContext, DataSyncDeps, ItemOutcome, SyncUser } from './context';
import type { ItemReport } from './record';

/** An intent younger than this belongs to an attempt that may still be running. */
export const INTENT_LEASE_MS = 2 * 60_000;

export type ItemResult = Omit<ItemReport, 'employeeId' | 'eventId'> & { outcome: ItemOutcome };

type LinkBody = Omit<ActivityLink, 'etag'>;

/** Another attempt holds the event right now: retry later (the queue message is rescheduled). */
export class EventBusyError extends ServiceUnavailableError {
  constructor(eventId: string) {
    super('data-sync', `Another attempt is syncing event ${eventId.slice(0, 16)}…; retrying shortly.`, 15);
  }
}

export interface SyncEventOptions {
  /** the event as already read (a delta page), or undefined to GET it now */
  read?: EventRead | undefined;
  /** true when the notification said "deleted": nothing to read */
  deleted?: boolean | undefined;
  /** re-checked right before any Vantagepoint write: false → nothing is written */
  stillSyncing: () => Promise<boolean>;
}

export async function syncEvent(deps: DataSyncDeps, user: SyncUser, eventId: string, ctx: DataSyncContext, options: SyncEventOptions): Promise<ItemResult> {
  const link = await deps.storage.activityLinks.get(user.employeeId, eventId);
  const read: EventRead = options.deleted ? { found: false } : (options.read ?? (await deps.events.get(user.mailbox, eventId)));
  if (!read.found) return link ? removeActivity(deps, link, ctx, options, 'EVENT_DELETED') : { outcome: 'skipped', reason: 'EVENT_NOT_FOUND' };

  let verdict: ReturnType<typeof eligibility>;
  try {
    verdict = eligibility(read.event, { category: deps.config.SYNC_CATEGORY, windowDays: deps.config.SYNC_WINDOW_DAYS, now: ctx.now() });
  } catch (err) {
    if (err instanceof EventTimeError) return { outcome: 'failed', reason: 'EVENT_TIME_UNREADABLE', message: err.message, issue: true };
    throw err;
  }
  if (!verdict.eligible) {
    // Time passing is not a change: an activity whose meeting aged out of the window stays as it is.
    if (link && verdict.reason === 'ENDED_BEFORE_WINDOW') return { outcome: 'unchanged', reason: verdict.reason, activityId: link.activityId };
    if (link) return removeActivity(deps, link, ctx, options, verdict.reason);
    return { outcome: 'skipped', reason: verdict.reason, message: SKIP_REASON_MESSAGES[verdict.reason] };
  }
  return writeActivity(deps, user, read.event, link, ctx, options);
}

async function writeActivity(deps: DataSyncDeps, user: SyncUser, event: CalendarEvent, link: ActivityLink | null, ctx: DataSyncContext, options: SyncEventOptions): Promise<ItemResult> {
  const type = await deps.activityType();
  if (type.known === false) return { outcome: 'failed', reason: 'UNKNOWN_ACTIVITY_TYPE', message: type.message, issue: true };

  let fields;
  try {
    fields = toActivity(event, { activityType: deps.config.ACTIVITY_TYPE, employeeId: user.employeeId });
  } catch (err) {
    if (err instanceof EventTimeError) return { outcome: 'failed', reason: 'EVENT_TIME_UNREADABLE', message: err.message, issue: true };
    throw err;
  }
  const digest = activityDigest(fields);
  const now = () => ctx.now().toISOString();

  if (link?.state === 'synced' && link.activityId) {
    if (event.changeKey !== null && link.changeKey === event.changeKey) return { outcome: 'unchanged', activityId: link.activityId };
    if (link.digest === digest) {
      // The event changed in ways the activity does not show (a reminder, an attendee's answer).
      await saveLink(deps, { ...link, changeKey: event.changeKey }, link.etag);
      return { outcome: 'unchanged', activityId: link.activityId };
    }
  }
  if (!(await options.stillSyncing())) return { outcome: 'not_syncing' };

  // An activity we made before (synced, or marked when its event left the rules): update it.
  if (link && link.activityId && link.state !== 'creating') {
    const result = await deps.activities.update(link.activityId, fields);
    if (result.ok) {
      await saveLink(deps, { ...link, state: 'synced', changeKey: event.changeKey, digest, subject: fields.Subject, lastSyncedAt: now() }, link.etag);
      return { outcome: 'updated', activityId: link.activityId };
    }
    if (result.failure === 'transient') throw new ServiceUnavailableError('vantagepoint', result.message, 30);
    if (result.failure === 'permanent') return { outcome: 'failed', reason: result.code, message: result.message, issue: true };
    // gone: someone deleted it in Vantagepoint; the event still wants one, so it is made again below
  }

  const reference = syncReference(user.employeeId, event.id);
  const intent: LinkBody = {
    employeeId: user.employeeId,
    eventId: event.id,
    state: 'creating',
    activityId: null,
    changeKey: null,
    digest: null,
    reference,
    intentAt: now(),
    subject: fields.Subject,
    lastSyncedAt: link?.lastSyncedAt ?? now(),
  };
  let held: ActivityLink;
  if (link?.state === 'creating') {
    const age = ctx.now().getTime() - Date.parse(link.intentAt ?? link.lastSyncedAt);
    if (age < INTENT_LEASE_MS) throw new EventBusyError(event.id);
    // The attempt that wrote this intent is gone (a crash, a timeout): was its activity made?
    const orphan = await deps.activities.findByReference(reference, user.employeeId, link.intentAt ?? link.lastSyncedAt);
    held = await claim(deps, intent, link.etag, event.id);
    if (orphan) {
      const adopted = await deps.activities.update(orphan, fields);
      if (adopted.ok) {
        await saveLink(deps, { ...held, state: 'synced', activityId: orphan, changeKey: event.changeKey, digest, lastSyncedAt: now() }, held.etag);
        ctx.log('datasync.orphan_adopted', { requestId: ctx.requestId, employeeId: user.employeeId, eventId: event.id, activityId: orphan });
        return { outcome: 'created', activityId: orphan };
      }
      if (adopted.failure === 'transient') throw new ServiceUnavailableError('vantagepoint', adopted.message, 30);
      // gone or refused: create a fresh one below
    }
  } else {
    held = await claim(deps, intent, link ? link.etag : null, event.id);
  }

  const created = await deps.activities.create(fields);
  if (!created.ok) {
    // Release the intent: nothing was made, and it must not hold back the next attempt.
    await deps.storage.activityLinks.delete(user.employeeId, event.id, held.etag).catch(() => undefined);
    if (created.failure === 'transient') throw new ServiceUnavailableError('vantagepoint', created.message, 30);
    return { outcome: 'failed', reason: created.code, message: created.message, issue: true };
  }
  await saveLink(deps, { ...held, state: 'synced', activityId: created.activityId, changeKey: event.changeKey, digest, lastSyncedAt: now() }, held.etag);
  return { outcome: 'created', activityId: created.activityId };
}

/** Writes the intent; losing the race to another attempt means that attempt does the work. */
async function claim(deps: DataSyncDeps, intent: LinkBody, etag: string | null, eventId: string): Promise<ActivityLink> {
  try {
    return await deps.storage.activityLinks.save(intent, etag);
  } catch (err) {
    if (err instanceof ConflictError || err instanceof PreconditionFailedError) throw new EventBusyError(eventId);
    throw err;
  }
}

async function saveLink(deps: DataSyncDeps, link: ActivityLink, etag: string): Promise<void> {
  const { etag: _etag, ...body } = link;
  try {
    await deps.storage.activityLinks.save(body, etag);
  } catch (err) {
    // Someone moved the row meanwhile (an attempt took over a stale intent): theirs is the newer truth.
    if (err instanceof PreconditionFailedError) throw new EventBusyError(link.eventId);
    throw err;
  }
}

/**
 * The event is gone or left the rules: delete its activity. Where Vantagepoint refuses DELETE
 * the activity is marked instead (Subject prefix, docs/DATA-SYNC.md) and the row kept as
 * "removed", so the event coming back un-marks the same activity rather than making another.
 */
async function removeActivity(deps: DataSyncDeps, link: ActivityLink, ctx: DataSyncContext, options: SyncEventOptions, reason: string): Promise<ItemResult> {
  if (link.state === 'removed') return { outcome: 'unchanged', reason, activityId: link.activityId };
  let activityId = link.activityId;
  if (link.state === 'creating') {
    const age = ctx.now().getTime() - Date.parse(link.intentAt ?? link.lastSyncedAt);
    if (age < INTENT_LEASE_MS) throw new EventBusyError(link.eventId);
    activityId = await deps.activities.findByReference(link.reference, link.employeeId, link.intentAt ?? link.lastSyncedAt);
  }
  if (!activityId) {
    await deps.storage.activityLinks.delete(link.employeeId, link.eventId, link.etag);
    return { outcome: 'skipped', reason };
  }
  if (!(await options.stillSyncing())) return { outcome: 'not_syncing' };
  const removed = await deps.activities.remove(activityId);
  if (removed.ok) {
    await deps.storage.activityLinks.delete(link.employeeId, link.eventId, link.etag).catch((err: unknown) => {
      if (!(err instanceof PreconditionFailedError)) throw err;
    });
    return { outcome: 'deleted', reason, activityId };
  }
  if (removed.failure === 'refused') {
    const marked = await deps.activities.update(activityId, { Subject: removedSubject(link.subject) });
    if (marked.ok || marked.failure === 'gone') {
      await saveLink(deps, { ...link, state: 'removed', activityId, lastSyncedAt: ctx.now().toISOString(), changeKey: null, digest: null }, link.etag);
      return { outcome: 'deleted', reason, activityId };
    }
    if (marked.failure === 'transient') throw new ServiceUnavailableError('vantagepoint', marked.message, 30);
    return { outcome: 'failed', reason: marked.code, message: marked.message, issue: true };
  }
  if (removed.failure === 'transient') throw new ServiceUnavailableError('vantagepoint', removed.message, 30);
  if (removed.failure === 'gone') {
    await deps.storage.activityLinks.delete(link.employeeId, link.eventId, link.etag);
    return { outcome: 'deleted', reason, activityId };
  }
  return { outcome: 'failed', reason: removed.code, message: removed.message, issue: true };
}
