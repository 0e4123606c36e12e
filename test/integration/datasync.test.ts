/**
 * The data-sync consumer against Azurite and both emulators: every "never a duplicate" case of
 * issue 12 (duplicate notifications, queue redelivery, a crash between the Vantagepoint write and
 * the mapping write, resync), unchanged changeKeys, deletes and leaving the rules, a Vantagepoint
 * that refuses DELETE, stopping, and failures that become sync issues.
 */
import type { EventInput } from '../../dev/emulators/graph/events';
import { syncReference } from '../../shared/domain/events';
import { MAX_ATTEMPTS } from '../../shared/operations/dataSync/consume';
import type { ActivityWriter } from '../../shared/ports';
import { startDataSyncHarness, meetingBody, type DataSyncHarness } from '../support/dataSync';
import { mailboxOf } from '../support/reconcile';

let h: DataSyncHarness;
let n = 0;
const nextUser = () => `DS${String(++n).padStart(4, '0')}`;

beforeAll(async () => {
  h = await startDataSyncHarness();
});
afterAll(async () => {
  await h?.stop();
});

function createEvent(employeeId: string, subject: string, extra: Record<string, unknown> = {}) {
  return h.graph.calendars.create(mailboxOf(employeeId), meetingBody(subject, extra));
}
const activitiesFor = (owner: string) => h.activities().filter((a) => a.Owner === owner);
const outcomes = (eventId: string) => h.log.events.filter((e) => e.event === 'datasync.item' && e.fields.eventId === eventId).map((e) => e.fields.outcome);

describe('one event, one activity', () => {
  it('a created event becomes an activity; the same notification again writes nothing', async () => {
    const user = nextUser();
    await h.addSyncingUser(user);
    const event = createEvent(user, 'Kick-off');
    const message = h.message(user, { eventId: event.id, changeType: 'created' });
    await h.consume(message);
    expect(activitiesFor(user)).toEqual([expect.objectContaining({ Subject: 'Kick-off', Type: 'Meeting', Owner: user, AllDayEventInd: 'N' })]);
    const writes = h.writes();
    await h.consume(message); // duplicate notification
    await h.consume(JSON.parse(JSON.stringify(message))); // queue redelivery of the same message
    expect(activitiesFor(user)).toHaveLength(1);
    expect(h.writes()).toBe(writes);
    expect(outcomes(event.id)).toEqual(['created', 'unchanged', 'unchanged']);
    // each item's line carries the notification's request id
    expect(h.log.events.filter((e) => e.event === 'datasync.item' && e.fields.eventId === event.id).every((e) => e.fields.requestId === message.requestId)).toBe(true);
  });

  it('duplicate notifications consumed at the same time still make one activity; the losers are retried later', async () => {
    const user = nextUser();
    await h.addSyncingUser(user);
    const event = createEvent(user, 'Race');
    await h.takeQueued();
    const message = h.message(user, { eventId: event.id, changeType: 'created' });
    await Promise.all(Array.from({ length: 5 }, () => h.consume(message)));
    expect(activitiesFor(user)).toHaveLength(1);
    const retries = h.log.events.filter((e) => e.event === 'datasync.retry_scheduled' && e.fields.eventId === event.id);
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((r) => r.fields.attempt === 1 && r.fields.dependency === 'data-sync')).toBe(true);
    // the scheduled copies, when they come back
    for (const _retry of retries) await h.consume({ ...message, attempt: 1 });
    expect(activitiesFor(user)).toHaveLength(1);
  });

  it('an edit updates the activity; a change the activity does not show writes nothing', async () => {
    const user = nextUser();
    await h.addSyncingUser(user);
    const event = createEvent(user, 'Budget');
    await h.consume(h.message(user, { eventId: event.id, changeType: 'created' }));
    const [before] = activitiesFor(user);
    h.graph.calendars.update(mailboxOf(user), event.id, { subject: 'Budget 2027', end: { dateTime: meetingBody('x').end.dateTime.replace('T10', 'T11'), timeZone: 'UTC' } });
    await h.consume(h.message(user, { eventId: event.id }));
    const [after] = activitiesFor(user);
    expect(after).toMatchObject({ ActivityID: before?.ActivityID, Subject: 'Budget 2027' });
    expect(String(after?.EndDate)).toMatch(/T11:00:00\.000$/);
    const writes = h.writes();
    h.graph.calendars.update(mailboxOf(user), event.id, { showAs: 'tentative' }); // new changeKey, same activity
    await h.consume(h.message(user, { eventId: event.id }));
    expect(h.writes()).toBe(writes);
    expect(outcomes(event.id).at(-1)).toBe('unchanged');
  });
});

describe('times', () => {
  it('a meeting set in Pacific time on the day DST starts is written in UTC with its real length; an all-day meeting keeps its dates', async () => {
    const user = nextUser();
    await h.addSyncingUser(user);
    // 2026-03-08: 01:30 PST (-8) to 03:30 PDT (-7) is one hour, 09:30Z to 10:30Z.
    // Graph sends UTC (Prefer: outlook.timezone="UTC"); a window of 14 days covers it only if it is recent,
    // so the rule's clock is moved to the day after.
    const now = () => new Date('2026-03-09T12:00:00Z');
    const dst = h.graph.calendars.create(
      mailboxOf(user),
      meetingBody('DST', { start: { dateTime: '2026-03-08T01:30:00', timeZone: 'Pacific Standard Time' }, end: { dateTime: '2026-03-08T03:30:00', timeZone: 'Pacific Standard Time' } }),
    );
    const allDay = h.graph.calendars.create(
      mailboxOf(user),
      meetingBody('Offsite', { isAllDay: true, start: { dateTime: '2026-03-10T00:00:00', timeZone: 'Pacific Standard Time' }, end: { dateTime: '2026-03-12T00:00:00', timeZone: 'Pacific Standard Time' } }),
    );
    await h.consume(h.message(user, { eventId: dst.id, changeType: 'created' }), now);
    await h.consume(h.message(user, { eventId: allDay.id, changeType: 'created' }), now);
    const bySubject = new Map(activitiesFor(user).map((a) => [a.Subject, a]));
    expect(bySubject.get('DST')).toMatchObject({ StartDate: '2026-03-08T09:30:00.000', EndDate: '2026-03-08T10:30:00.000', AllDayEventInd: 'N' });
    expect(bySubject.get('Offsite')).toMatchObject({ StartDate: '2026-03-10T00:00:00.000', EndDate: '2026-03-11T00:00:00.000', AllDayEventInd: 'Y' });
  });
});

describe('a crash between the Vantagepoint write and the mapping write', () => {
  it('the retry finds the orphan by its reference and adopts it instead of creating a second activity', async () => {
    let crash = true;
    const crashing = await startDataSyncHarness({
      wrapWriter: (inner): ActivityWriter => ({
        ...inner,
        create: async (fields) => {
          const result = await inner.create(fields);
          if (crash) throw new Error('process died after the create'); // the mapping write never happens
          return result;
        },
        update: (id, f) => inner.update(id, f),
        remove: (id) => inner.remove(id),
        findByReference: (r, o, s) => inner.findByReference(r, o, s),
        checkActivityType: (t) => inner.checkActivityType(t),
      }),
    });
    try {
      const user = 'CRASH1';
      await crashing.addSyncingUser(user);
      const event = crashing.graph.calendars.create(mailboxOf(user), meetingBody('Crash test'));
      const message = crashing.message(user, { eventId: event.id, changeType: 'created' });
      await expect(crashing.consume(message)).rejects.toThrow('process died');
      expect(crashing.activities()).toHaveLength(1);
      crash = false;
      // redelivered at once: the intent is fresh, so it waits rather than risk a second create
      const queued = await crashing.queuedCount();
      await crashing.consume(message);
      expect(await crashing.queuedCount()).toBe(queued + 1);
      expect(crashing.log.events.filter((e) => e.event === 'datasync.retry_scheduled').map((e) => e.fields.attempt)).toEqual([1]);
      expect(crashing.activities()).toHaveLength(1);
      // redelivered after the intent's lease: the orphan is found (Notes carry the reference) and adopted
      await crashing.consume(message, () => new Date(Date.now() + 3 * 60_000));
      expect(crashing.activities()).toHaveLength(1);
      expect(String(crashing.activities()[0]?.Notes)).toContain(syncReference(user, event.id));
      expect(crashing.log.events.some((e) => e.event === 'datasync.orphan_adopted')).toBe(true);
      const link = await crashing.storage.activityLinks.get(user, event.id);
      expect(link).toMatchObject({ state: 'synced', activityId: crashing.activities()[0]?.ActivityID });
    } finally {
      await crashing.stop();
    }
  });
});

describe('resync (missed, subscriptionRemoved, first enable)', () => {
  it('a catch-up finds events whose notifications were lost, and a second one changes nothing', async () => {
    const user = nextUser();
    await h.addSyncingUser(user);
    const events = ['Lost 1', 'Lost 2', 'Lost 3'].map((s) => createEvent(user, s));
    createEvent(user, 'Untagged', { categories: [] });
    await h.consume(h.message(user, { kind: 'resync' }));
    expect(activitiesFor(user).map((a) => a.Subject).sort()).toEqual(['Lost 1', 'Lost 2', 'Lost 3']);
    const state = await h.storage.dataSyncState.get(user);
    expect(state?.delta?.deltaLink).toContain('calendarView/delta');
    const writes = h.writes();
    await h.consume(h.message(user, { kind: 'resync' }));
    expect(h.writes()).toBe(writes);
    // between rounds: one deleted, one edited, none notified; the kept deltaLink brings both
    h.graph.calendars.remove(mailboxOf(user), events[0]?.id ?? '');
    h.graph.calendars.update(mailboxOf(user), events[1]?.id ?? '', { subject: 'Lost 2 (edited)' });
    await h.consume(h.message(user, { kind: 'resync' }));
    expect(activitiesFor(user).map((a) => a.Subject).sort()).toEqual(['Lost 2 (edited)', 'Lost 3']);
  });

  it('the first change seen for a user queues one catch-up of their calendar', async () => {
    const user = nextUser();
    await h.addSyncingUser(user);
    await h.takeQueued();
    const before = createEvent(user, 'Before enable');
    const event = createEvent(user, 'First change');
    await h.consume(h.message(user, { eventId: event.id, changeType: 'created' }));
    await h.consume(h.message(user, { eventId: event.id, changeType: 'updated' }));
    const queued = await h.takeQueued();
    expect(queued.map((m) => m.kind)).toEqual(['resync']);
    await h.consume(queued[0]);
    expect(activitiesFor(user).map((a) => a.Subject).sort()).toEqual(['Before enable', 'First change']);
    expect(before.id).toBeTruthy();
  });
});

describe('leaving the rules', () => {
  it.each([
    ['the category is removed', { categories: [] }],
    ['it becomes private', { sensitivity: 'private' }],
    ['it is cancelled', { isCancelled: true }],
  ])('deletes the activity when %s', async (_what, patch) => {
    const user = nextUser();
    await h.addSyncingUser(user);
    const event = createEvent(user, 'Leaving');
    await h.consume(h.message(user, { eventId: event.id, changeType: 'created' }));
    expect(activitiesFor(user)).toHaveLength(1);
    h.graph.calendars.update(mailboxOf(user), event.id, patch as Partial<EventInput>);
    await h.consume(h.message(user, { eventId: event.id }));
    expect(activitiesFor(user)).toEqual([]);
    expect(await h.storage.activityLinks.get(user, event.id)).toBeNull();
  });

  it('deleting the event deletes the activity (a "deleted" notification reads nothing from Graph)', async () => {
    const user = nextUser();
    await h.addSyncingUser(user);
    const event = createEvent(user, 'Deleted');
    await h.consume(h.message(user, { eventId: event.id, changeType: 'created' }));
    h.graph.calendars.remove(mailboxOf(user), event.id);
    const reads = h.graph.stats().requests;
    await h.consume(h.message(user, { eventId: event.id, changeType: 'deleted' }));
    expect(activitiesFor(user)).toEqual([]);
    expect(h.graph.stats().requests).toBe(reads);
  });

  it('where Vantagepoint refuses DELETE, the activity is marked, and un-marked (same activity) when the event comes back', async () => {
    const user = nextUser();
    await h.addSyncingUser(user);
    const event = createEvent(user, 'Refused');
    await h.consume(h.message(user, { eventId: event.id, changeType: 'created' }));
    h.vantagepoint.activities.behaviour.deleteMode = 'refuse';
    try {
      h.graph.calendars.update(mailboxOf(user), event.id, { categories: [] });
      await h.consume(h.message(user, { eventId: event.id }));
      const [marked] = activitiesFor(user);
      expect(marked?.Subject).toBe('[Removed from Outlook] Refused');
      h.graph.calendars.update(mailboxOf(user), event.id, { categories: ['Vantagepoint'] });
      await h.consume(h.message(user, { eventId: event.id }));
      expect(activitiesFor(user)).toEqual([expect.objectContaining({ ActivityID: marked?.ActivityID, Subject: 'Refused' })]);
    } finally {
      h.vantagepoint.activities.behaviour.deleteMode = 'allow';
    }
  });
});

describe('what never syncs, and stopping', () => {
  it('contacts and messages notifications are completed and counted as skipped', async () => {
    const user = nextUser();
    await h.addSyncingUser(user);
    await h.consume(h.message(user, { eventId: 'c1', resource: 'contacts' }));
    await h.consume(h.message(user, { eventId: 'm1', resource: 'messages' }));
    expect((await h.storage.dataSyncState.get(user))?.skipped).toBe(2);
  });

  it('after the group is disabled, nothing more is written for the user; their activities stay', async () => {
    const user = nextUser();
    const group = await h.addSyncingUser(user);
    const kept = createEvent(user, 'Kept');
    await h.consume(h.message(user, { eventId: kept.id, changeType: 'created' }));
    await h.setGroupSync(group, 'disabled');
    const writes = h.writes();
    const later = createEvent(user, 'After stop');
    await h.consume(h.message(user, { eventId: later.id, changeType: 'created' }));
    h.graph.calendars.remove(mailboxOf(user), kept.id);
    await h.consume(h.message(user, { eventId: kept.id, changeType: 'deleted' }));
    await h.consume(h.message(user, { kind: 'resync' }));
    expect(h.writes()).toBe(writes);
    expect(activitiesFor(user).map((a) => a.Subject)).toEqual(['Kept']);
    expect(outcomes(later.id)).toEqual(['not_syncing']);
  });
});

describe('failures with a reason become sync issues', () => {
  it('Vantagepoint refusing the write (4xx) opens an issue for the event; the next success resolves it', async () => {
    const user = nextUser();
    await h.addSyncingUser(user);
    const event = createEvent(user, 'Refused write');
    h.vantagepoint.activities.behaviour.refuseWrites = { status: 400, detail: 'Field X is required by the screen designer.' };
    try {
      await h.consume(h.message(user, { eventId: event.id, changeType: 'created' }));
    } finally {
      h.vantagepoint.activities.behaviour.refuseWrites = null;
    }
    expect(await h.storage.syncIssues.listForUser(user)).toEqual([expect.objectContaining({ eventId: event.id, code: 'VANTAGEPOINT_REJECTED' })]);
    const state = await h.storage.dataSyncState.get(user);
    expect(state).toMatchObject({ failed: 1, lastError: expect.objectContaining({ code: 'VANTAGEPOINT_REJECTED' }) });
    expect((await h.storage.syncIssues.countFor([user])).get(user)).toBe(1);
    await h.consume(h.message(user, { eventId: event.id }));
    expect(activitiesFor(user)).toHaveLength(1);
    expect(await h.storage.syncIssues.listForUser(user)).toEqual([]);
  });

  it('an ACTIVITY_TYPE Vantagepoint does not know: the start-up check says so and no write is attempted', async () => {
    const wrong = await startDataSyncHarness({ settings: { ACTIVITY_TYPE: 'Calendar Thing' } });
    try {
      expect(await wrong.deps.activityType()).toMatchObject({ known: false });
      const user = 'TYPE1';
      await wrong.addSyncingUser(user);
      const event = wrong.graph.calendars.create(mailboxOf(user), meetingBody('Typed'));
      await wrong.consume(wrong.message(user, { eventId: event.id, changeType: 'created' }));
      expect(wrong.writes()).toBe(0);
      expect(await wrong.storage.syncIssues.listForUser(user)).toEqual([expect.objectContaining({ code: 'UNKNOWN_ACTIVITY_TYPE' })]);
    } finally {
      await wrong.stop();
    }
  });

  it('Vantagepoint unreachable: the message is rescheduled (a delayed copy), not failed', async () => {
    const offline = await startDataSyncHarness({ settings: { VANTAGEPOINT_BASE_URL: 'http://127.0.0.1:9' } });
    try {
      const user = 'OFF1';
      await offline.addSyncingUser(user);
      const event = offline.graph.calendars.create(mailboxOf(user), meetingBody('Offline'));
      const message = offline.message(user, { eventId: event.id, changeType: 'created' });
      await offline.consume(message);
      expect(offline.log.events.find((e) => e.event === 'datasync.retry_scheduled')?.fields).toMatchObject({ attempt: 1, dependency: 'vantagepoint', eventId: event.id });
      // the last allowed attempt fails for good: a failure with a sync issue, no further copy
      await offline.consume({ ...message, attempt: MAX_ATTEMPTS });
      expect(await offline.storage.syncIssues.listForUser(user)).toEqual([expect.objectContaining({ code: 'RETRIES_EXHAUSTED', eventId: event.id })]);
      expect(offline.log.events.filter((e) => e.event === 'datasync.retry_scheduled')).toHaveLength(1);
    } finally {
      await offline.stop();
    }
  });
});
