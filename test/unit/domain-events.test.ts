import fc from 'fast-check';
import {
  activityDigest,
  eligibility,
  EventTimeError,
  referenceLine,
  removedSubject,
  REMOVED_PREFIX,
  syncReference,
  toActivity,
  toInstant,
  NOTES_MAX,
  SUBJECT_MAX,
  type CalendarEvent,
} from '../../shared/domain/events';

const NOW = new Date('2026-03-20T12:00:00Z');
const RULES = { category: 'Vantagepoint', windowDays: 14, now: NOW };
const DAY = 86_400_000;

const wall = (d: Date) => d.toISOString().slice(0, 19) + '.0000000';

function event(overrides: Partial<CalendarEvent> = {}): CalendarEvent {
  return {
    id: 'AAMkAGI2TG93AAA=',
    changeKey: 'ck1',
    subject: 'Design review',
    bodyText: 'Agenda',
    categories: ['Vantagepoint'],
    sensitivity: 'normal',
    type: 'singleInstance',
    isCancelled: false,
    isAllDay: false,
    start: { dateTime: '2026-03-21T09:00:00.0000000', timeZone: 'UTC' },
    end: { dateTime: '2026-03-21T10:00:00.0000000', timeZone: 'UTC' },
    ...overrides,
  };
}

/** Arbitrary Graph events, eligible or not in every way the rule looks at. */
const anyEvent = fc
  .record({
    categories: fc.array(fc.constantFrom('Vantagepoint', 'vantagepoint', ' VANTAGEPOINT ', 'Red', 'Blue', 'Vantage point'), { maxLength: 3 }),
    sensitivity: fc.constantFrom('normal', 'personal', 'private', 'confidential', 'Private'),
    type: fc.constantFrom('singleInstance', 'occurrence', 'exception', 'seriesMaster'),
    isCancelled: fc.boolean(),
    isAllDay: fc.boolean(),
    endOffsetHours: fc.integer({ min: -40 * 24, max: 40 * 24 }),
  })
  .map(({ endOffsetHours, isAllDay, ...rest }) => {
    const end = new Date(NOW.getTime() + endOffsetHours * 3_600_000);
    if (isAllDay) end.setUTCHours(0, 0, 0, 0);
    const start = new Date(end.getTime() - (isAllDay ? DAY : 3_600_000));
    return event({ ...rest, isAllDay, start: { dateTime: wall(start), timeZone: 'UTC' }, end: { dateTime: wall(end), timeZone: 'UTC' } });
  });

describe('eligibility (issue 12: which events sync)', () => {
  it('an event syncs exactly when it is tagged, not private, a single instance, not cancelled and ended inside the window', () => {
    fc.assert(
      fc.property(anyEvent, (e) => {
        const tagged = e.categories.some((c) => c.trim().toLowerCase() === 'vantagepoint');
        const endMs = Date.parse(`${e.end.dateTime.slice(0, 19)}Z`);
        const expected = tagged && e.sensitivity.toLowerCase() !== 'private' && e.type === 'singleInstance' && !e.isCancelled && endMs >= NOW.getTime() - 14 * DAY;
        expect(eligibility(e, RULES).eligible).toBe(expected);
      }),
    );
  });

  it('names the first rule that fails, in the documented order', () => {
    expect(eligibility(event({ categories: [], sensitivity: 'private' }), RULES)).toEqual({ eligible: false, reason: 'NOT_TAGGED' });
    expect(eligibility(event({ sensitivity: 'private', type: 'occurrence' }), RULES)).toEqual({ eligible: false, reason: 'PRIVATE' });
    expect(eligibility(event({ type: 'seriesMaster', isCancelled: true }), RULES)).toEqual({ eligible: false, reason: 'RECURRING' });
    expect(eligibility(event({ isCancelled: true }), RULES)).toEqual({ eligible: false, reason: 'CANCELLED' });
    expect(eligibility(event({ end: { dateTime: '2026-03-06T11:59:59', timeZone: 'UTC' }, start: { dateTime: '2026-03-06T11:00:00', timeZone: 'UTC' } }), RULES)).toEqual({
      eligible: false,
      reason: 'ENDED_BEFORE_WINDOW',
    });
  });

  it('the window edge: ended exactly SYNC_WINDOW_DAYS ago still syncs, a second earlier does not', () => {
    const edge = new Date(NOW.getTime() - 14 * DAY);
    const at = (d: Date) => event({ start: { dateTime: wall(new Date(d.getTime() - 3_600_000)), timeZone: 'UTC' }, end: { dateTime: wall(d), timeZone: 'UTC' } });
    expect(eligibility(at(edge), RULES).eligible).toBe(true);
    expect(eligibility(at(new Date(edge.getTime() - 1000)), RULES).eligible).toBe(false);
  });

  it('the category is configurable and compared ignoring case and surrounding space', () => {
    expect(eligibility(event({ categories: [' connect '] }), { ...RULES, category: 'Connect' }).eligible).toBe(true);
    expect(eligibility(event({ categories: ['Vantagepoint'] }), { ...RULES, category: 'Connect' }).eligible).toBe(false);
  });
});

describe('times', () => {
  it('UTC is read as is, with Graph’s seven fractional digits', () => {
    expect(toInstant({ dateTime: '2026-03-21T09:30:00.0000000', timeZone: 'UTC' }).toISOString()).toBe('2026-03-21T09:30:00.000Z');
  });

  it('an IANA zone is converted across a DST change (Graph may ignore the UTC preference)', () => {
    // New York moved to daylight time on 2026-03-08 at 02:00: 09:00 local is 14:00Z before, 13:00Z after.
    expect(toInstant({ dateTime: '2026-03-07T09:00:00', timeZone: 'America/New_York' }).toISOString()).toBe('2026-03-07T14:00:00.000Z');
    expect(toInstant({ dateTime: '2026-03-09T09:00:00', timeZone: 'America/New_York' }).toISOString()).toBe('2026-03-09T13:00:00.000Z');
    // Europe/Berlin moved on 2026-03-29
    expect(toInstant({ dateTime: '2026-03-29T01:30:00', timeZone: 'Europe/Berlin' }).toISOString()).toBe('2026-03-29T00:30:00.000Z');
    expect(toInstant({ dateTime: '2026-03-29T03:30:00', timeZone: 'Europe/Berlin' }).toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });

  it('a Windows zone name is refused rather than guessed', () => {
    expect(() => toInstant({ dateTime: '2026-03-07T09:00:00', timeZone: 'Pacific Standard Time' })).toThrow(EventTimeError);
    expect(() => toInstant({ dateTime: 'tomorrow', timeZone: 'UTC' })).toThrow(EventTimeError);
  });

  it('a meeting across the DST change keeps its real length in UTC', () => {
    const activity = toActivity(
      event({ start: { dateTime: '2026-03-08T01:30:00', timeZone: 'America/New_York' }, end: { dateTime: '2026-03-08T03:30:00', timeZone: 'America/New_York' } }),
      { activityType: 'Meeting', employeeId: 'E0010' },
    );
    // 01:30 EST (06:30Z) to 03:30 EDT (07:30Z): one hour, not two
    expect(activity).toMatchObject({ StartDate: '2026-03-08T06:30:00.000', EndDate: '2026-03-08T07:30:00.000', AllDayEventInd: 'N' });
  });
});

describe('toActivity', () => {
  const options = { activityType: 'Meeting', employeeId: 'E0010' };

  it('a timed event is written in UTC in Vantagepoint’s format, owned by the member, with its reference in Notes', () => {
    const a = toActivity(event(), options);
    expect(a).toEqual({
      Type: 'Meeting',
      Subject: 'Design review',
      StartDate: '2026-03-21T09:00:00.000',
      EndDate: '2026-03-21T10:00:00.000',
      AllDayEventInd: 'N',
      Notes: `Agenda\n\n${referenceLine(syncReference('E0010', 'AAMkAGI2TG93AAA='))}`,
      Owner: 'E0010',
    });
  });

  it('an all-day event keeps its dates: Graph’s exclusive end becomes the last day', () => {
    const oneDay = toActivity(event({ isAllDay: true, start: { dateTime: '2026-03-21T00:00:00.0000000', timeZone: 'UTC' }, end: { dateTime: '2026-03-22T00:00:00.0000000', timeZone: 'UTC' } }), options);
    expect(oneDay).toMatchObject({ StartDate: '2026-03-21T00:00:00.000', EndDate: '2026-03-21T00:00:00.000', AllDayEventInd: 'Y' });
    // all-day events float: a zone other than UTC does not move their dates (and the DST weekend changes nothing)
    const threeDays = toActivity(
      event({ isAllDay: true, start: { dateTime: '2026-03-07T00:00:00', timeZone: 'Pacific Standard Time' }, end: { dateTime: '2026-03-10T00:00:00', timeZone: 'Pacific Standard Time' } }),
      options,
    );
    expect(threeDays).toMatchObject({ StartDate: '2026-03-07T00:00:00.000', EndDate: '2026-03-09T00:00:00.000', AllDayEventInd: 'Y' });
  });

  it('subject and notes stay within their bounds whatever the event holds, and the reference always survives', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), fc.string({ maxLength: 9000 }), (subject, body) => {
        const a = toActivity(event({ subject, bodyText: body }), options);
        expect(a.Subject.length).toBeGreaterThan(0);
        expect(a.Subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
        expect(a.Notes.length).toBeLessThanOrEqual(NOTES_MAX);
        expect(a.Notes.endsWith(referenceLine(syncReference('E0010', 'AAMkAGI2TG93AAA=')))).toBe(true);
      }),
    );
  });

  it('the digest changes exactly when a written field changes', () => {
    const a = toActivity(event(), options);
    expect(activityDigest(a)).toBe(activityDigest({ ...a }));
    expect(activityDigest({ ...a, Subject: 'x' })).not.toBe(activityDigest(a));
    expect(activityDigest(toActivity(event({ changeKey: 'other' }), options))).toBe(activityDigest(a));
  });

  it('the reference is one per (employee, event), case-insensitive in the employee, 32 hex', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (emp, e1, e2) => {
        expect(syncReference(emp, e1)).toMatch(/^[0-9A-F]{32}$/);
        expect(syncReference(emp.toUpperCase(), e1)).toBe(syncReference(emp.toLowerCase(), e1));
        if (e1 !== e2) expect(syncReference(emp, e1)).not.toBe(syncReference(emp, e2));
      }),
    );
  });

  it('marking a removed activity is idempotent', () => {
    expect(removedSubject('Lunch')).toBe(`${REMOVED_PREFIX}Lunch`);
    expect(removedSubject(removedSubject('Lunch'))).toBe(`${REMOVED_PREFIX}Lunch`);
  });
});
